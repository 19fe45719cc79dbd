"""Delegates through the bot: an election gives a member delegate rights, a recall takes them away,
an alternate takes over at half term, the assembly hears when a term ends; /delegates shows roles and
mandates, never names; and what the assembly cannot do is refused without writing anything.

The bot's clock runs 3,600 times faster (an hour per second) and a decision stays open two hours,
so a deadline passes in two seconds and a term of one day lasts 24 seconds."""

from __future__ import annotations

import time
from typing import Any

import pytest

from bot.clock import ScaledClock
from handlers import delegates
from tests.movement import Movement
from tests.test_calls import approved_region, button

MANDATE = "Negotiate the 100% wage rise; agree to nothing without the assembly"


@pytest.fixture
def clock() -> ScaledClock:
    return ScaledClock(time.time(), speed=3600.0)


@pytest.fixture
def config_changes() -> dict[str, dict]:
    return {"decisions": {"deadline_hours": 2.0}, "delegates": {"term_reminder_hours": 6.0}}


async def decide(movement: Movement, chat: int, proposal: dict, voters: list[dict], since: int) -> dict:
    """Everyone given agrees; the result once the deadline has passed."""
    for voter in voters:
        await movement.press(chat, voter, proposal, button(proposal, "Agree"))
    return await movement.client.wait_for_text(chat, "passes", since=since, timeout=30)


async def put(movement: Movement, chat: int, person: dict[str, Any], text: str, reply_to: dict | None = None) -> dict:
    """A command whose answer is a proposal (or a refusal), as a reply to a message when given."""
    return await movement.say(chat, person, text, reply_to=reply_to["message_id"] if reply_to else None)


async def message_with_button(movement: Movement, chat: int, label: str, since: int) -> dict:
    """The first message after `since` with a button labelled `label` (a call's copy, not its preview)."""
    while True:
        for message in await movement.client.wait_for(chat, since, timeout=20):
            rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
            if any(label in key["text"] for row in rows for key in row):
                return message
            since = max(since, message["seq"])


async def can_make_link(movement: Movement, chat: int, person: dict[str, Any]) -> bool:
    answer = await movement.say(chat, person, "/demand link")
    return "Members can put demands forward privately" in answer["text"]


async def test_an_elected_delegate_has_delegate_rights_until_recalled(movement: Movement):
    _council, _, [(chat, admin)] = await approved_region(movement, "mangystau", ["Zhanaozen oil workers"])
    aliya, berik = await movement.member(chat, "Aliya Nurlanovna"), await movement.member(chat, "Berik")
    assert not await can_make_link(movement, chat, aliya)

    offer = await movement.client.send(chat, aliya["id"], "I can speak for us at the regional council")
    since = await movement.client.seq()
    proposal = await put(movement, chat, berik, f"/elect {MANDATE}", reply_to=offer)
    assert MANDATE in proposal["text"] and "Aliya" not in proposal["text"]
    assert proposal["reply_to_message_id"] == offer["message_id"]  # the group sees whom it is about
    result = await decide(movement, chat, proposal, [berik, admin], since)
    assert "Elected: delegate #1" in result["text"] and "Aliya" not in result["text"]

    # Delegate rights: the private link, issuing a call and answering it for the committee.
    assert await can_make_link(movement, chat, aliya)
    since = await movement.client.seq()
    await movement.call(chat, aliya, "/strike now | at the gates | We stop work | here")
    copy = await message_with_button(movement, chat, "We join", since)
    assert "joins" in (await movement.press(chat, aliya, copy, button(copy, "We join")))["text"]
    listed = await movement.say(chat, berik, "/delegates")
    assert "Group admins: 1, delegates by default" in listed["text"]
    assert "#1" in listed["text"] and MANDATE in listed["text"] and "until recalled" in listed["text"]
    assert "Aliya" not in listed["text"] and "Berik" not in listed["text"]

    # The assembly recalls her, by number (a reply to her message works the same).
    since = await movement.client.seq()
    proposal = await put(movement, chat, berik, "/recall 1")
    assert "Recall delegate #1" in proposal["text"] and MANDATE in proposal["text"]
    result = await decide(movement, chat, proposal, [berik, admin], since)
    assert "Delegate #1 is recalled" in result["text"]
    assert not await can_make_link(movement, chat, aliya)
    refused = await movement.press(chat, aliya, copy, button(copy, "We can't"))
    assert refused["show_alert"] and "delegates" in refused["text"]
    listed = await movement.say(chat, berik, "/delegates")
    assert "No elected delegates yet" in listed["text"]


async def test_the_alternate_takes_over_at_half_term_and_the_end_is_announced(movement: Movement):
    _council, _, [(chat, admin)] = await approved_region(movement, "atyrau", ["Tengiz oil workers"])
    holder, alternate = await movement.member(chat, "Holder"), await movement.member(chat, "Alternate")
    since = await movement.client.seq()
    offer = await movement.client.send(chat, holder["id"], "I will go")
    proposal = await put(movement, chat, admin, f"/elect 1 | {MANDATE}", reply_to=offer)
    assert "Term: 1 day" in proposal["text"]
    await decide(movement, chat, proposal, [admin], since)
    since = await movement.client.seq()
    offer = await movement.client.send(chat, alternate["id"], "And I after you")
    proposal = await put(movement, chat, admin, "/alternate 1", reply_to=offer)
    assert "alternate of delegate #1" in proposal["text"]
    result = await decide(movement, chat, proposal, [admin, holder], since)
    assert "has an alternate now" in result["text"]

    # Before half term (12 hours, 12 seconds here) the holder serves, and only the holder.
    assert await can_make_link(movement, chat, holder)
    assert not await can_make_link(movement, chat, alternate)
    listed = await movement.say(chat, admin, "/delegates")
    assert "the holder serves, the alternate from" in listed["text"]

    rotation = await movement.client.wait_for_text(chat, "now serves", since=since, timeout=30)
    assert "the alternate of delegate #1 now serves" in rotation["text"] and MANDATE in rotation["text"]
    assert await can_make_link(movement, chat, alternate)
    assert not await can_make_link(movement, chat, holder)
    async with movement.store.db.read() as conn:
        now = int(movement.app.bot_data["clock"].time())
        assert [m for _c, m in await movement.store.delegates.serving_mandates(conn, alternate["id"], now=now)] == [
            MANDATE
        ]
        assert await movement.store.delegates.serving_mandates(conn, holder["id"], now=now) == []

    # A second alarm for the same notice (as after a restart) posts nothing.
    movement.app.job_queue.run_once(delegates.post_notice, 0, data={"delegate_id": 1, "notice": "rotation"})
    reminder = await movement.client.wait_for_text(chat, "ends on", since=since, timeout=30)
    assert "elect anew" in reminder["text"]
    await movement.client.wait_for_text(chat, "has ended", since=since, timeout=30)
    await movement.settle()
    texts = [m["text"] for m in await movement.client.messages(chat, since=since)]
    assert sum("now serves" in text for text in texts) == 1
    # After the end whoever served last stays until the assembly elects anew.
    assert await can_make_link(movement, chat, alternate)
    listed = await movement.say(chat, admin, "/delegates")
    assert "until the assembly elects anew" in listed["text"]


class TestRefusals:
    """A decision stays open a day here (24 seconds), so a first recall is still pending for the second."""

    @pytest.fixture
    def config_changes(self) -> dict[str, dict]:
        return {"decisions": {"deadline_hours": 24.0}}

    async def test_what_the_assembly_cannot_do_is_refused_and_writes_nothing(self, movement: Movement):
        _council, _, [(chat, admin)] = await approved_region(movement, "mangystau", ["Zhanaozen oil workers"])
        aliya, berik = await movement.member(chat, "Aliya"), await movement.member(chat, "Berik")
        async with movement.store.db.transaction() as tx:  # an elected delegate, without a term (setup)
            committee = await movement.store.committees.by_chat(tx, chat)
            await movement.store.delegates.elect(
                tx,
                committee_id=committee.id,
                holder=movement.store.delegates.pseudonym(aliya["id"]),
                mandate=MANDATE,
                starts_at=int(movement.app.bot_data["clock"].time()),
                ends_at=None,
                decision_id=None,
            )
        offer = await movement.client.send(chat, aliya["id"], "I can go")
        berik_says = await movement.client.send(chat, berik["id"], "Not me")
        admin_says = await movement.client.send(chat, admin["id"], "I run this group")
        bot_says = await movement.say(chat, berik, "/delegates")
        before = await movement.rows()

        cases = [
            ("/recall", berik_says, "not an elected delegate"),
            ("/recall 7", None, "no elected delegate #7"),
            ("/recall", admin_says, "the group's admin setting"),
            ("/recall", None, "/recall N"),
            ("/elect", offer, "needs a mandate"),
            (f"/elect {MANDATE}", None, "as a reply"),
            (f"/elect 0 | {MANDATE}", berik_says, "whole number of days"),
            (f"/elect {MANDATE}", offer, "already delegate #1"),
            (f"/elect {MANDATE}", bot_says, "not one from a bot"),
            ("/alternate 1", berik_says, "has no term"),
            ("/alternate 2", berik_says, "no elected delegate #2"),
            ("/alternate", berik_says, "/alternate N"),
        ]
        for command, replied, expected in cases:
            answer = await put(movement, chat, berik, command, reply_to=replied)
            assert expected in answer["text"], (command, answer["text"])
        assert await movement.rows() == before

        # A second recall of the same delegate while the first is before the assembly.
        first = await put(movement, chat, berik, "/recall 1")
        assert "Recall delegate #1" in first["text"]
        before = await movement.rows()
        again = await put(movement, chat, admin, "/recall", reply_to=offer)
        assert "already before the assembly" in again["text"]
        assert await movement.rows() == before


async def test_a_council_sees_the_mandates_of_its_areas_elected_delegates(movement: Movement):
    council, council_admin, [(chat, admin), (other, other_admin)] = await approved_region(
        movement, "mangystau", ["Zhanaozen oil workers", "Aktau port"]
    )
    aliya = await movement.member(chat, "Aliya")
    since = await movement.client.seq()
    offer = await movement.client.send(chat, aliya["id"], "I can go")
    proposal = await put(movement, chat, admin, f"/elect 30 | {MANDATE}", reply_to=offer)
    await decide(movement, chat, proposal, [admin], since)
    listed = await movement.say(council, council_admin, "/delegates")
    assert "Zhanaozen oil workers, #1" in listed["text"] and MANDATE in listed["text"]
    assert "Aktau port" not in listed["text"] and "Aliya" not in listed["text"]
    # Aktau's own /delegates: its admins only.
    listed = await movement.say(other, other_admin, "/delegates")
    assert "Group admins: 1" in listed["text"] and MANDATE not in listed["text"]
