"""Flood control: a person sending far too much is held back, the others are not, nobody is recorded.

The rules are tested as plain functions on a clock the test sets (domain/flood.py); then through the
real bot and the sandbox, with flood control on as in production and its clock standing still
unless the test moves it (`still`), so what is dropped depends on what was sent, never on how fast
the machine is. Whether others are held up is asserted by the order of what the bot says, never by
timing (the timing is `asamblea bench flood`'s).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from telegram import Update

from bot.config import ConfigError, parse_config
from bot.flood import always_handled, asks_the_bot, sender_of
from bot.logs import apply_levels
from domain.flood import (
    CHAT_BURST,
    FORGET_EVERY_S,
    NOTICE_EVERY_S,
    PERSON_BURST,
    PERSON_PER_MINUTE,
    InputLimits,
    Limits,
    Verdict,
)
from tests.conftest import EXAMPLE
from tests.movement import Movement
from tests.test_calls import approved_region, button
from tests.test_privacy import forms, raw_files

REFILL_S = 60.0 / PERSON_PER_MINUTE  # one more request per person after this long
SLOW_DOWN = "Slow down"

# --- the rules, on a clock the test sets ---------------------------------------------------------

ALICE, BORIS, GROUP = 101, 102, -500


def test_a_person_gets_a_burst_and_then_one_request_per_refill():
    rules = InputLimits()
    verdicts = [rules.check(ALICE, GROUP, 0.0) for _ in range(PERSON_BURST + 3)]
    assert verdicts == [Verdict.HANDLE] * PERSON_BURST + [Verdict.PERSON_OVER] * 3
    assert rules.check(ALICE, GROUP, REFILL_S * 0.9) is Verdict.PERSON_OVER
    assert rules.check(ALICE, GROUP, REFILL_S) is Verdict.HANDLE
    assert rules.check(ALICE, GROUP, REFILL_S) is Verdict.PERSON_OVER


def test_a_flood_costs_the_flooder_nothing_more_and_the_others_nothing():
    rules = InputLimits()
    for _ in range(PERSON_BURST):
        rules.check(ALICE, GROUP, 0.0)
    # A thousand more within ten seconds are dropped; they take no token, from her or the chat.
    dropped = [rules.check(ALICE, GROUP, n * 0.01) for n in range(1000)]
    assert set(dropped) == {Verdict.PERSON_OVER}
    assert rules.check(ALICE, GROUP, 60.0) is Verdict.HANDLE  # her bucket refilled as if she had waited
    assert [rules.check(BORIS, GROUP, 60.0) for _ in range(PERSON_BURST)] == [Verdict.HANDLE] * PERSON_BURST


def test_many_people_together_are_held_to_the_chat_limit():
    rules = InputLimits()
    verdicts = [rules.check(1000 + n, GROUP, 0.0) for n in range(CHAT_BURST + 2)]
    assert verdicts == [Verdict.HANDLE] * CHAT_BURST + [Verdict.CHAT_OVER] * 2
    # Another chat and a private chat are not affected; in a private chat only the person counts.
    assert rules.check(2000, GROUP - 1, 0.0) is Verdict.HANDLE
    private = InputLimits(Limits(chat_burst=1))
    assert [private.check(ALICE, ALICE, 0.0) for _ in range(PERSON_BURST)] == [Verdict.HANDLE] * PERSON_BURST


def test_an_update_that_would_wait_is_turned_away_when_too_many_wait():
    rules = InputLimits(Limits(max_waiting=3))
    assert rules.check(ALICE, GROUP, 0.0, waits=True, waiting=2) is Verdict.HANDLE
    assert rules.check(BORIS, GROUP, 0.0, waits=True, waiting=3) is Verdict.BUSY
    # Nothing in hand in its chat: it does not wait, so it is never turned away for this.
    assert rules.check(BORIS, GROUP - 1, 0.0, waits=False, waiting=1000) is Verdict.HANDLE
    # The turn-away took none of Boris's tokens: after the one he used, the rest of his burst is left.
    assert [rules.check(BORIS, GROUP, 0.0) for _ in range(PERSON_BURST - 1)] == [Verdict.HANDLE] * (PERSON_BURST - 1)


def test_a_notice_at_most_once_a_window_per_person_and_per_chat():
    rules = InputLimits()
    assert rules.notice_due(ALICE, GROUP, 0.0, in_chat=True)
    assert not rules.notice_due(ALICE, GROUP, 1.0, in_chat=True)
    assert not rules.notice_due(ALICE, GROUP, 1.0, in_chat=False)  # a press of hers: not again either
    assert not rules.notice_due(BORIS, GROUP, 1.0, in_chat=True)  # the chat heard one already
    assert rules.notice_due(BORIS, GROUP, 1.0, in_chat=False)  # an answer to his press only he sees
    assert rules.notice_due(ALICE, GROUP, NOTICE_EVERY_S, in_chat=True)


def test_quiet_people_are_forgotten_and_a_clock_set_back_adds_nothing():
    rules = InputLimits()
    for _ in range(PERSON_BURST + 1):
        rules.check(ALICE, GROUP, 0.0)
    rules.notice_due(ALICE, GROUP, 0.0, in_chat=True)
    assert rules.held() == 4  # her bucket, the group's, her notice and the group's
    assert rules.check(ALICE, GROUP, -500.0) is Verdict.PERSON_OVER
    rules.check(BORIS, GROUP - 1, 2 * FORGET_EVERY_S)
    assert rules.held() == 2  # only Boris's bucket and his chat's: Alice and her group are gone


# --- which updates count, and whom ------------------------------------------------------------


def update(**fields: Any) -> Update:
    return Update.de_json({"update_id": 1, **fields}, None)


def message(chat: dict, sender: dict | None = None, **fields: Any) -> dict:
    return {"message_id": 7, "date": 0, "chat": chat, **({"from": sender} if sender else {}), **fields}


PERSON = {"id": ALICE, "is_bot": False, "first_name": "Alice"}
BOT = {"id": 999, "is_bot": True, "first_name": "Asamblea", "username": "asamblea_bot"}
SUPERGROUP = {"id": GROUP, "type": "supergroup", "title": "Committee"}


def test_membership_and_migration_are_always_handled():
    member = {"user": PERSON, "status": "member"}
    change = {"chat": SUPERGROUP, "from": PERSON, "date": 0, "old_chat_member": member, "new_chat_member": member}
    assert always_handled(update(my_chat_member=change))
    assert always_handled(update(chat_member=change))
    assert always_handled(update(message=message(SUPERGROUP, PERSON, migrate_to_chat_id=-1001)))
    assert always_handled(update(message=message(SUPERGROUP, PERSON, new_chat_members=[PERSON])))
    assert always_handled(update(message=message(SUPERGROUP, PERSON, left_chat_member=PERSON)))
    assert not always_handled(update(message=message(SUPERGROUP, PERSON, text="/demands")))


def test_who_counts_and_who_expects_an_answer():
    anonymous = {"id": 1087968824, "is_bot": True, "first_name": "Group"}
    as_group = update(message=message(SUPERGROUP, anonymous, sender_chat=SUPERGROUP, text="/calls"))
    assert sender_of(as_group) == GROUP  # not Telegram's stand-in user, shared by every anonymous admin
    press = {"id": "q1", "from": PERSON, "chat_instance": "c", "data": "v1:dv:1:1:agree"}
    assert sender_of(update(callback_query={**press, "message": message(SUPERGROUP, BOT, text="Vote")})) == ALICE

    assert asks_the_bot(update(message=message(SUPERGROUP, PERSON, text="/demands")))
    prompt = message(SUPERGROUP, BOT, text="The committee's name?")
    assert asks_the_bot(update(message=message(SUPERGROUP, PERSON, text="Oil workers", reply_to_message=prompt)))
    private = {"id": ALICE, "type": "private", "first_name": "Alice"}
    assert asks_the_bot(update(message=message(private, PERSON, text="hello")))
    assert not asks_the_bot(update(message=message(SUPERGROUP, PERSON, text="see you at the gates")))


# --- the config -------------------------------------------------------------------------------


def test_the_config_sets_the_limits_or_turns_them_off():
    import tomllib

    raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert parse_config(raw).flood == Limits()
    raw["flood"] = {"person_burst": 8, "person_per_minute": 12}
    assert parse_config(raw).flood == Limits(person_burst=8, person_per_minute=12.0)
    raw["flood"] = {"enabled": False}
    assert parse_config(raw).flood is None
    raw["flood"] = {"person_burst": 0, "chat_per_minute": "fast", "burst": 3}
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    assert sorted(p.path for p in caught.value.problems) == [
        "flood.burst",
        "flood.chat_per_minute",
        "flood.person_burst",
    ]


# --- through the bot --------------------------------------------------------------------------


class StillClock:
    """Flood control's clock, standing still until the test moves it."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def time(self) -> float:
        return self.now

    def pass_minutes(self, minutes: float) -> None:
        self.now += minutes * 60.0


@pytest.fixture
def config_changes() -> dict[str, dict]:
    return {"flood": {"enabled": True}}  # the limits of production


@pytest.fixture
def still(movement: Movement) -> StillClock:
    clock = StillClock()
    movement.app.update_processor.flood.clock = clock.time
    return clock


async def handled(movement: Movement) -> None:
    """Every update sent is through: dropped, or handled with the replies its handlers wait for
    (which the chat's pacing may hold back for seconds after the sandbox went quiet)."""
    while True:
        await movement.settle()
        if not movement.app.update_processor.current_concurrent_updates and movement.app.update_queue.empty():
            return
        await asyncio.sleep(0.05)


async def send_many(movement: Movement, chat: int, user: dict, text: str, count: int) -> list[int]:
    """A person sends the same thing `count` times without waiting for the bot; their message ids."""
    return [int((await movement.client.send(chat, user["id"], text))["message_id"]) for _ in range(count)]


async def test_a_flood_in_a_committee_is_dropped_and_another_member_is_still_answered(
    movement: Movement, still: StillClock
):
    _council, _, [(chat, _admin)] = await approved_region(movement, "mangystau", ["Zhanaozen oil workers"])
    flooder = await movement.member(chat, "Flooder")
    comrade = await movement.member(chat, "Comrade")
    still.pass_minutes(2)  # what setting up asked of the bot no longer counts

    since = await movement.client.seq()
    flood = await send_many(movement, chat, flooder, "/demands", 10)
    asked = int((await movement.client.send(chat, comrade["id"], "/demands"))["message_id"])
    flood += await send_many(movement, chat, flooder, "/demands", 30)
    await handled(movement)

    said = await movement.client.messages(chat, since)
    answered = [m["reply_to_message_id"] for m in said if SLOW_DOWN not in m["text"]]
    notices = [m for m in said if SLOW_DOWN in m["text"]]
    # The flooder's first five are answered, one more gets the notice, 34 are dropped unanswered.
    assert answered[:PERSON_BURST] == flood[:PERSON_BURST]
    assert [m["reply_to_message_id"] for m in notices] == [flood[PERSON_BURST]]
    # The comrade, who wrote after ten of the flood, is answered after at most those five and the
    # notice, not after the thirty-five other floods behind which the chat's order would queue them.
    assert answered[PERSON_BURST:] == [asked]
    assert len(said) == PERSON_BURST + 2
    flood_control = movement.app.update_processor.flood
    assert (flood_control.dropped, flood_control.noticed) == (len(flood) - PERSON_BURST, 1)

    # Still flooding a moment later: no second notice. A window later: one more, and one more answer.
    since = await movement.client.seq()
    await send_many(movement, chat, flooder, "/demands", 5)
    await handled(movement)
    assert await movement.client.messages(chat, since) == [] and flood_control.dropped == len(flood) - PERSON_BURST + 5
    still.pass_minutes(NOTICE_EVERY_S / 60)
    since = await movement.client.seq()
    later = await send_many(movement, chat, flooder, "/demands", 20)
    await handled(movement)
    said = await movement.client.messages(chat, since)
    assert sum(SLOW_DOWN in m["text"] for m in said) == 1
    assert [m["reply_to_message_id"] for m in said if SLOW_DOWN not in m["text"]] == later[:PERSON_BURST]


async def test_a_private_flood_and_a_flood_of_presses_get_one_notice_each(movement: Movement, still: StillClock):
    flooder = await movement.person("Flooder")
    since = await movement.client.seq()
    await send_many(movement, flooder["id"], flooder, "/help", 12)
    await handled(movement)
    said = await movement.client.messages(flooder["id"], since)
    assert len(said) == PERSON_BURST + 1 and sum(SLOW_DOWN in m["text"] for m in said) == 1

    # A proposal's vote button pressed again and again: five presses answered by the vote's handler,
    # one with a short answer telling to slow down, and the rest dropped unanswered, in the chat not
    # a word (an answer to a press is seen by its presser only, and Telegram does not limit them).
    _council, _, [(chat, _admin)] = await approved_region(movement, "mangystau", ["Zhanaozen oil workers"])
    proposer = await movement.member(chat, "Proposer")
    presser = await movement.member(chat, "Presser")
    proposal = await movement.say(chat, proposer, "/propose We join the general strike on Monday")
    since = await movement.client.seq()
    agree = button(proposal, "Agree")
    queries = [await movement.client.press_button(chat, presser["id"], proposal, agree) for _ in range(12)]
    await handled(movement)
    answers = [await movement.client.callback_answer(query) for query in queries]
    assert "Your voice: agree" in answers[0]["text"]
    assert all(answer is not None and SLOW_DOWN not in (answer["text"] or "") for answer in answers[:PERSON_BURST])
    assert SLOW_DOWN in answers[PERSON_BURST]["text"]
    assert answers[PERSON_BURST + 1 :] == [None] * (12 - PERSON_BURST - 1)
    assert await movement.client.messages(chat, since) == []


async def test_membership_and_migration_are_handled_even_from_a_flooder(movement: Movement, still: StillClock):
    council, council_admin = await movement.council("kz")
    admin = await movement.person("Admin")
    old = (await movement.client.create_group("Kyzylorda workers", admin["id"], supergroup=False, announce=False))["id"]
    since = await movement.client.seq()
    await movement.say(old, admin, "/register kyzylorda workplace Kyzylorda workers")
    request = await movement.client.wait_for_text(council, "Kyzylorda workers", since=since, timeout=20)
    await movement.press(council, council_admin, request, "Approve")
    await movement.client.wait_for_text(old, "approved", since=since, timeout=20)
    still.pass_minutes(2)

    await send_many(movement, old, admin, "/committee", 3 * PERSON_BURST)
    await handled(movement)
    assert movement.app.update_processor.flood.dropped == 2 * PERSON_BURST  # the admin is over the limit

    # Still over it, the admin's group moves to a supergroup and the admin removes the bot: both are
    # handled, so the committee follows its group and is marked unreachable, as without a flood.
    new = await movement.client.migrate(old)
    await handled(movement)
    await movement.client.remove_bot(new, admin["id"])
    await handled(movement)
    async with movement.store.db.read() as conn:
        assert await movement.store.committees.by_chat(conn, old) is None
        committee = await movement.store.committees.by_chat(conn, new)
    assert committee is not None and committee.name == "Kyzylorda workers" and not committee.reachable
    assert movement.app.update_processor.flood.dropped == 2 * PERSON_BURST


async def test_flood_control_records_no_telegram_id(
    movement: Movement, still: StillClock, database: Path, caplog: pytest.LogCaptureFixture
):
    # The bot's own logging policy at its most verbose; the sandbox's records are the test's side.
    caplog.set_level(logging.DEBUG)
    apply_levels(logging.DEBUG)
    flooder = await movement.person("Flooder Canary 4e1b")
    await send_many(movement, flooder["id"], flooder, "/help", 20)
    await handled(movement)
    flood_control = movement.app.update_processor.flood
    assert flood_control.dropped == 20 - PERSON_BURST

    reports = [r.getMessage() for r in caplog.records if r.name == "bot.flood"]
    assert reports == ["flood control: updates dropped: 1, senders told: 1, since the last report"]  # a minute's
    log_text = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith(("bot.sandbox", "tornado")))
    assert str(flooder["id"]) not in log_text and "Flooder Canary" not in log_text

    files = raw_files(database)
    leaks = [(name, form) for name, data in files.items() for form in forms(flooder["id"]) if form in data]
    assert not leaks, leaks

    # Held in memory only while it counts: once the flooder is quiet, their id is forgotten.
    still.pass_minutes(2 * FORGET_EVERY_S / 60)
    someone = await movement.person("Someone else")
    await movement.say(someone["id"], someone, "/help")
    assert flood_control.rules.held() == 1  # someone's bucket; nothing of the flooder
