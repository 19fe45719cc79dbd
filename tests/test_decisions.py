"""Assembly decisions through the bot: consensus blocked then passed, majority without quorum.

The bot's clock runs 1,800 times faster (half an hour per second) and a decision stays open
one hour, so a deadline passes in two seconds; the tests wait for the result message."""

from __future__ import annotations

import time

import pytest

from bot.clock import ScaledClock
from bot.press_answers import ATTEMPTS
from tests.movement import Movement
from tests.test_calls import approved_region, button


@pytest.fixture
def clock() -> ScaledClock:
    return ScaledClock(time.time(), speed=1800.0)


@pytest.fixture
def config_changes() -> dict[str, dict]:
    return {"decisions": {"deadline_hours": 1.0}}


async def test_a_consensus_proposal_is_blocked_then_passes_in_a_new_round(movement: Movement):
    _council, _, [(chat, admin)] = await approved_region(movement, "mangystau", ["Zhanaozen oil workers"])
    aliya = await movement.member(chat, "Aliya")
    berik = await movement.member(chat, "Berik")
    proposal = await movement.say(chat, aliya, "/propose We join the general strike on Monday")
    assert "Proposal #1, round 1" in proposal["text"] and "consensus" in proposal["text"]

    assert "agree" in (await movement.press(chat, aliya, proposal, button(proposal, "Agree")))["text"]
    await movement.press(chat, berik, proposal, button(proposal, "Agree"))
    await movement.press(chat, berik, proposal, button(proposal, "Block"))  # the latest voice counts
    blocked = await movement.client.wait_for_text(chat, "Blocked", since=0, timeout=30)
    assert "agree: 1" in blocked["text"] and "block: 1" in blocked["text"]
    assert "Aliya" not in blocked["text"] and "Berik" not in blocked["text"]
    late = await movement.press(chat, aliya, proposal, button(proposal, "Object"))
    assert late["show_alert"] and "closed" in late["text"]

    refused = await movement.press(chat, aliya, blocked, button(blocked, "New round"))
    assert refused["show_alert"] and "delegates" in refused["text"]
    since = await movement.client.seq()
    await movement.press(chat, admin, blocked, button(blocked, "New round"))
    second = await movement.client.wait_for_text(chat, "round 2", since=since)
    await movement.press(chat, aliya, second, button(second, "Agree"))
    await movement.press(chat, berik, second, button(second, "Stand aside"))
    passed = await movement.client.wait_for_text(chat, "passes", since=since, timeout=30)
    assert "agree: 1" in passed["text"] and "stand aside: 1" in passed["text"] and "block: 0" in passed["text"]


async def test_a_majority_proposal_without_quorum_is_not_decided(movement: Movement):
    _council, _, [(chat, admin)] = await approved_region(movement, "atyrau", ["Tengiz oil workers"])
    members = [await movement.member(chat, f"Member {n}") for n in range(4)]
    since = await movement.client.seq()
    await movement.say(chat, admin, "/settings")
    rules = await movement.client.wait_for_text(chat, "How does this committee's assembly decide", since=since)
    member_try = await movement.press(chat, members[0], rules, "majority")
    assert member_try["show_alert"]
    # The rule changes only when the assembly decides so, under the rule it has: consensus.
    since = await movement.client.seq()
    assert (await movement.press(chat, admin, rules, "majority"))["text"] == "Put to the assembly."
    change = await movement.client.wait_for_text(chat, "Proposal #1", since=since)
    assert "decides by majority" in change["text"] and "Rule: consensus" in change["text"]
    await movement.press(chat, admin, change, button(change, "Agree"))
    await movement.press(chat, members[0], change, button(change, "Agree"))
    changed = await movement.client.wait_for_text(chat, "decided by majority", since=since, timeout=30)
    assert "passes" in changed["text"] and "agree: 2" in changed["text"]
    since = await movement.client.seq()
    await movement.client.send(chat, members[0]["id"], "/propose Blockade the railway on Tuesday")
    proposal = await movement.client.wait_for_text(chat, "Proposal #2", since=since)
    assert "majority" in proposal["text"]
    await movement.press(chat, members[0], proposal, button(proposal, "Yes"))
    await movement.press(chat, members[1], proposal, button(proposal, "No"))
    # Five people are in the group (admin and four members): a quorum of half needs three voices.
    result = await movement.client.wait_for_text(chat, "No decision", since=0, timeout=30)
    assert "3 needed" in result["text"] and "yes: 1" in result["text"] and "no: 1" in result["text"]

    before = await movement.rows()
    empty = await movement.say(chat, members[2], "/propose")
    assert "/propose TEXT" in empty["text"]
    assert await movement.rows() == before


async def test_a_demand_put_to_the_assembly_is_endorsed_when_it_passes(movement: Movement):
    _council, _, [(chat, admin)] = await approved_region(movement, "mangystau", ["Zhanaozen oil workers"])
    worker = await movement.member(chat, "Oil worker")
    await movement.say(chat, worker, "/demand An end to unreasonable production targets")
    listed = await movement.say(chat, worker, "/demands")
    since = await movement.client.seq()
    assert (await movement.press(chat, worker, listed, button(listed, "Put #1")))["text"] == "Put to the assembly."
    proposal = await movement.client.wait_for_text(chat, "Endorse demand #1", since=since)
    again = await movement.press(chat, worker, listed, button(listed, "Put #1"))
    assert again["show_alert"] and "already before the assembly" in again["text"]

    await movement.press(chat, worker, proposal, button(proposal, "Agree"))
    await movement.press(chat, admin, proposal, button(proposal, "Agree"))
    result = await movement.client.wait_for_text(chat, "now endorsed", since=since, timeout=30)
    assert "agree: 2" in result["text"]
    listed = await movement.say(chat, worker, "/demands")
    assert "#1 (endorsed by the assembly, endorsed by 1 committees)" in listed["text"]
    assert not (listed.get("reply_markup") or {}).get("inline_keyboard")


async def test_a_voice_counts_when_its_press_cannot_be_answered(movement: Movement, caplog: pytest.LogCaptureFixture):
    """A member seen lately has their press taken at once and answered after the handler, by the
    press answers' lane (bot/press_answers.py): when Telegram fails every try of that answer, the
    voice stays recorded and nobody is told that nothing changed."""
    _council, _, [(chat, _admin)] = await approved_region(movement, "mangystau", ["Zhanaozen oil workers"])
    aliya = await movement.member(chat, "Aliya")
    berik = await movement.member(chat, "Berik")
    proposal = await movement.say(chat, aliya, "/propose We hold a rally at the akimat on Friday")
    await movement.press(chat, berik, proposal, button(proposal, "Agree"))
    await movement.press(chat, aliya, proposal, button(proposal, "Agree"))  # found in the group: seen lately
    await movement.client.add_fault("500", method="answerCallbackQuery", count=ATTEMPTS)
    query = await movement.client.press_button(chat, aliya["id"], proposal, button(proposal, "Object"))
    await movement.answers_settled()
    assert await movement.client.faults() == []  # every try was made, and failed
    assert await movement.client.callback_answer(query) is None
    assert any("press could not be answered" in r.getMessage() for r in caplog.records)
    passed = await movement.client.wait_for_text(chat, "passes", since=0, timeout=30)
    assert "agree: 1" in passed["text"] and "object: 1" in passed["text"], passed["text"]
    assert not movement.errors


async def test_a_press_answer_telegram_refuses_with_429_comes_after_retry_after(movement: Movement):
    """Telegram's 429 on a press's answer: the lane waits retry_after and answers then."""
    _council, _, [(chat, _admin)] = await approved_region(movement, "mangystau", ["Zhanaozen oil workers"])
    aliya = await movement.member(chat, "Aliya")
    proposal = await movement.say(chat, aliya, "/propose We hold a rally at the akimat on Friday")
    await movement.press(chat, aliya, proposal, button(proposal, "Agree"))  # found in the group: seen lately
    await movement.client.add_fault("429", method="answerCallbackQuery", count=1, retry_after=1)
    answer = await movement.press(chat, aliya, proposal, button(proposal, "Object"))
    assert "Your voice: object" in answer["text"], answer
    assert await movement.client.faults() == []
    assert not movement.errors
