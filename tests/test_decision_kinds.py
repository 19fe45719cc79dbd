"""Decisions the bot opens itself, through the bot: joining a call, changing the rule and its fallback;
and voices the assembly refuses (the same twice, from outside the committee, after the deadline).

The bot's clock runs 1,800 times faster and a decision stays open one hour, so a deadline passes
in two seconds; the tests wait for the result message."""

from __future__ import annotations

import time
from typing import Any

import pytest

from bot.clock import ScaledClock
from tests.movement import Movement
from tests.test_calls import approved_region, button


@pytest.fixture
def clock() -> ScaledClock:
    return ScaledClock(time.time(), speed=1800.0)


@pytest.fixture
def config_changes() -> dict[str, dict]:
    return {"decisions": {"deadline_hours": 1.0}}


async def test_a_committee_joins_a_call_by_the_assemblys_decision(movement: Movement):
    _council, _, committees = await approved_region(movement, "mangystau", ["Zhanaozen oil workers", "Aktau port"])
    (issuer, issuer_admin), (aktau, _aktau_admin) = committees
    await movement.call(issuer, issuer_admin, "/strike now | at the gates | We stop work for the wage rise | region")
    copy = await movement.client.wait_for_text(aktau, "We stop work", since=0)
    docker, crane = await movement.member(aktau, "Docker"), await movement.member(aktau, "Crane operator")

    # A member who is no delegate cannot answer, but can put joining to the assembly.
    refused = await movement.press(aktau, docker, copy, button(copy, "We join"))
    assert refused["show_alert"] and "put the call to the assembly" in refused["text"]
    since = await movement.client.seq()
    assert (await movement.press(aktau, docker, copy, button(copy, "assembly")))["text"] == "Put to the assembly."
    proposal = await movement.client.wait_for_text(aktau, "Join the strike call", since=since)
    assert "We stop work for the wage rise" in proposal["text"]
    before = await movement.rows()
    again = await movement.press(aktau, crane, copy, button(copy, "assembly"))
    assert again["show_alert"] and "already before the assembly" in again["text"]
    assert await movement.rows() == before

    await movement.press(aktau, docker, proposal, button(proposal, "Agree"))
    await movement.press(aktau, crane, proposal, button(proposal, "Agree"))
    result = await movement.client.wait_for_text(aktau, "passes", since=since, timeout=30)
    assert "Recorded: your committee joins." in result["text"] and "agree: 2" in result["text"]
    # Exactly as a delegate's press: the copy says so, the issuer's tally counts it, the strike is on.
    edited = await movement.client.wait_for_text(aktau, "we join", since=since)
    assert edited["message_id"] == copy["message_id"]
    await movement.client.wait_for_text(issuer, "Joining: 1", since=since, timeout=30)
    async with movement.store.db.read() as conn:
        committee = await movement.store.committees.by_chat(conn, aktau)
        assert await movement.store.calls.answer_of(conn, 1, committee.id) == ("join", None)
        assert await movement.store.spread.latest(conn, committee.id) == "on_strike"

    joined = await movement.press(aktau, docker, edited, button(edited, "assembly"))
    assert joined["show_alert"] and "already joins" in joined["text"]


async def test_a_cancelled_call_is_not_put_to_the_assembly(movement: Movement):
    _council, _, committees = await approved_region(movement, "atyrau", ["Atyrau refinery", "Tengiz oil workers"])
    (issuer, issuer_admin), (tengiz, _) = committees
    await movement.call(issuer, issuer_admin, "/rally tomorrow 11:00 | Oil workers' square | Rally | region")
    copy = await movement.client.wait_for_text(tengiz, "Rally", since=0)
    status = await movement.client.wait_for_text(issuer, "Status of the rally call", since=0)
    since = await movement.client.seq()
    await movement.press(issuer, issuer_admin, status, button(status, "Cancel"))
    confirm = await movement.client.wait_for_text(issuer, "Cancel call", since=since)
    await movement.press(issuer, issuer_admin, confirm, "Yes, cancel it")
    await movement.client.wait_for_text(tengiz, "CANCELLED", since=since)

    member = await movement.member(tengiz, "Driller")
    before = await movement.rows()
    late = await movement.press(tengiz, member, copy, button(copy, "assembly"))
    assert late["show_alert"] and "cancelled" in late["text"]
    assert await movement.rows() == before


async def settings_message(movement: Movement, chat: int, admin: dict) -> dict:
    since = await movement.client.seq()
    await movement.client.send(chat, admin["id"], "/settings")
    return await movement.client.wait_for_text(chat, "How does this committee's assembly decide", since=since)


async def test_the_fallback_is_decided_by_the_assembly_and_used_in_a_later_decision(movement: Movement):
    _council, _, [(chat, admin)] = await approved_region(movement, "mangystau", ["Zhanaozen oil workers"])
    aliya, berik, dana = [await movement.member(chat, name) for name in ("Aliya", "Berik", "Dana")]
    settings = await settings_message(movement, chat, admin)
    assert "no fallback to a supermajority" in settings["text"]

    # The setting it already has, or a member who is no delegate: nothing is put to the assembly.
    before = await movement.rows()
    same = await movement.press(chat, admin, settings, "consensus")
    assert "already decides by consensus" in same["text"]
    member = await movement.press(chat, aliya, settings, "Fallback after 2 rounds")
    assert member["show_alert"] and "delegates" in member["text"]
    assert await movement.rows() == before

    since = await movement.client.seq()
    assert (await movement.press(chat, admin, settings, "Fallback after 2 rounds"))["text"] == "Put to the assembly."
    change = await movement.client.wait_for_text(chat, "Proposal #1", since=since)
    assert "after 2 blocked rounds" in change["text"]
    await movement.press(chat, aliya, change, button(change, "Agree"))
    changed = await movement.client.wait_for_text(chat, "From now on consensus here has", since=since, timeout=30)
    assert "passes" in changed["text"]
    assert "after 2 blocked rounds" in (await settings_message(movement, chat, admin))["text"]

    # A later proposal: blocked twice, then the third round passes by two thirds despite a block.
    since = await movement.client.seq()
    proposal = await movement.say(chat, aliya, "/propose We join the general strike on Monday")
    assert "Proposal #2, round 1" in proposal["text"] and "After 2 blocked rounds" in proposal["text"]
    for round_number in (1, 2, 3):
        for person in (aliya, dana, admin):
            await movement.press(chat, person, proposal, button(proposal, "Agree"))
        await movement.press(chat, berik, proposal, button(proposal, "Block"))
        if round_number == 3:
            break
        blocked = await movement.client.wait_for_text(chat, "Blocked", since=since, timeout=30)
        since = await movement.client.seq()
        await movement.press(chat, admin, blocked, button(blocked, "New round"))
        proposal = await movement.client.wait_for_text(chat, f"round {round_number + 1}", since=since)
    assert "passes despite blocks" in proposal["text"]
    passed = await movement.client.wait_for_text(chat, "supermajority of a fallback round", since=since, timeout=30)
    assert "agree: 3" in passed["text"] and "block: 1" in passed["text"]


def press_update(chat: int, user: dict[str, Any], message: dict, data: str) -> dict[str, Any]:
    """A button press as Telegram delivers it, for a presser the sandbox would not let tap (who left)."""
    sender = {"id": user["id"], "is_bot": False, "first_name": user.get("first_name", "Someone")}
    shown = {"message_id": message["message_id"], "date": int(time.time()), "chat": {"id": chat, "type": "supergroup"}}
    return {"callback_query": {"id": "left-1", "from": sender, "chat_instance": "1", "message": shown, "data": data}}


async def test_voices_from_outside_twice_or_late_are_refused_and_write_nothing(movement: Movement):
    _council, _, [(chat, admin), (other, other_admin)] = await approved_region(
        movement, "mangystau", ["Zhanaozen oil workers", "Aktau port"]
    )
    aliya = await movement.member(chat, "Aliya")
    proposal = await movement.say(chat, aliya, "/propose We join the general strike on Monday")
    await movement.press(chat, aliya, proposal, button(proposal, "Agree"))
    agree = next(key["callback_data"] for row in proposal["reply_markup"]["inline_keyboard"] for key in row)
    before = await movement.rows()

    twice = await movement.press(chat, aliya, proposal, button(proposal, "Agree"))
    assert twice["show_alert"] and "already your voice" in twice["text"]
    # The same button copied into another committee's chat.
    elsewhere = await movement.say(other, other_admin, "/committee")
    foreign = await movement.press_data(other, other_admin, elsewhere["message_id"], agree)
    assert foreign["show_alert"] and "Only the members of the committee" in foreign["text"]
    # Someone who left the group presses the button Telegram still shows them.
    leaver = await movement.member(chat, "Leaver")
    await movement.client.set_member(chat, leaver["id"], "left")
    logged = len(await movement.client.calls())
    await movement.client.inject(press_update(chat, leaver, proposal, agree))
    await movement.settle()
    answers = await movement.client.calls("answerCallbackQuery", since=logged)
    assert any("Only the members of the committee" in (a["params"].get("text") or "") for a in answers), answers
    assert await movement.rows() == before

    await movement.client.wait_for_text(chat, "passes", since=0, timeout=30)
    before = await movement.rows()
    late = await movement.press(chat, admin, proposal, button(proposal, "Object"))
    assert late["show_alert"] and "closed" in late["text"]
    assert await movement.rows() == before
