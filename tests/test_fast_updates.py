"""Demands and vote presses read straight from Telegram's JSON (bot/fast_updates.py).

Two things must hold. The reader takes an update as a fast one only when PTB would hand the `Update`
it makes of it to the same handler, with the same chat, person, message and text (checked on the
shapes Telegram sends and on Hypothesis' changes to them). And a person gets the same from the bot
whichever way an update goes: the same scenario runs through the real bot twice, once as the poller
reads updates, once with every update read by PTB (as PTB's webhook server hands them over).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from telegram import Bot, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, TypeHandler, filters

from bot.fast_updates import ChatPress, FastUpdate, GroupCommand, UpdateReader
from handlers.decisions import FAST_BUTTONS, VOTE_PREFIX
from handlers.demands import FAST_COMMANDS
from tests.movement import Movement
from tests.test_calls import approved_region, button

USERNAME = "asamblea_bot"


class NamedBot(Bot):
    """A bot that knows its name without asking a server (the reader and CommandHandler read it)."""

    @property
    def username(self) -> str:
        return USERNAME


BOT = NamedBot("123456:" + "A" * 35)
READER = UpdateReader(BOT, commands=FAST_COMMANDS, buttons=FAST_BUTTONS)
DEMAND_HANDLER = CommandHandler("demand", lambda *_: None, filters.UpdateType.MESSAGE & filters.ChatType.GROUPS)
VOTE_HANDLER = CallbackQueryHandler(lambda *_: None, pattern=f"^{VOTE_PREFIX}")


def demand_message(text: str = "/demand Lower fuel prices", command_length: int = 7) -> dict[str, Any]:
    return {
        "update_id": 41,
        "message": {
            "message_id": 7,
            "from": {"id": 5001, "is_bot": False, "first_name": "Aliya", "language_code": "kk"},
            "chat": {"id": -100123, "type": "supergroup", "title": "Zhanaozen oil workers"},
            "date": 1641168000,
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": command_length}],
        },
    }


def vote_press(data: str = f"{VOTE_PREFIX}3:1:agree") -> dict[str, Any]:
    return {
        "update_id": 42,
        "callback_query": {
            "id": "8231",
            "from": {"id": 5002, "is_bot": False, "first_name": "Berik"},
            "message": {
                "message_id": 11,
                "from": {"id": 123456, "is_bot": True, "first_name": "Asamblea", "username": USERNAME},
                "chat": {"id": -100123, "type": "supergroup", "title": "Zhanaozen oil workers"},
                "date": 1641168100,
                "text": "Proposal #3, round 1",
                "reply_markup": {"inline_keyboard": [[{"text": "Agree", "callback_data": data}]]},
            },
            "chat_instance": "-77",
            "data": data,
        },
    }


def test_a_demand_and_a_vote_in_a_group_are_read_fast_with_what_their_handlers_use():
    command = READER.read(demand_message())
    assert isinstance(command, GroupCommand)
    assert (command.update_id, command.chat_id, command.user_id, command.message_id) == (41, -100123, 5001, 7)
    assert (command.command, command.text) == ("demand", "/demand Lower fuel prices")
    press = READER.read(vote_press())
    assert isinstance(press, ChatPress)
    assert (press.update_id, press.chat_id, press.user_id, press.message_id) == (42, -100123, 5002, 11)
    assert (press.query_id, press.data) == ("8231", f"{VOTE_PREFIX}3:1:agree")
    assert isinstance(press.full(BOT), Update) and press.full(BOT).callback_query.id == "8231"


def changed(raw: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """`raw` with the value at `path` replaced (or removed, for `...`)."""
    raw = copy.deepcopy(raw)
    inner = raw
    for key in path[:-1]:
        inner = inner[key]
    if not isinstance(inner, dict):
        raise TypeError("the path leads to no object")
    if value is ...:
        inner.pop(path[-1], None)
    else:
        inner[path[-1]] = value
    return raw


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(demand_message("/demand@OtherBot Lower fuel prices", 16), id="for another bot"),
        pytest.param(demand_message("/demands", 8), id="another command"),
        pytest.param(changed(demand_message(), ("message", "chat", "type"), "private"), id="in a private chat"),
        pytest.param(changed(demand_message(), ("message", "chat", "type"), "channel"), id="in a channel"),
        pytest.param(
            changed(demand_message(), ("message", "sender_chat"), {"id": -100123, "type": "supergroup"}),
            id="sent as the group",
        ),
        pytest.param(changed(demand_message(), ("message", "reply_to_message"), {"message_id": 3}), id="a reply"),
        pytest.param(changed(demand_message(), ("message", "message_thread_id"), 5), id="in a topic"),
        pytest.param(
            {"update_id": 41, "edited_message": demand_message()["message"]},
            id="an edit",
        ),
        pytest.param(
            changed(demand_message(), ("message", "entities"), [{"type": "bot_command", "offset": 2, "length": 7}]),
            id="a command not at the start",
        ),
        pytest.param(changed(demand_message(), ("message", "from", "is_bot"), True), id="from a bot"),
        pytest.param(changed(demand_message(), ("message", "date"), "yesterday"), id="a date that is no number"),
        pytest.param(changed(vote_press(), ("callback_query", "data"), "v1:de:3"), id="another button"),
        pytest.param(changed(vote_press(), ("callback_query", "message", "date"), 0), id="under a message gone"),
        pytest.param(changed(demand_message(), ("message", "date"), -62_135_596_801), id="a date before the year 1"),
        pytest.param(
            changed(vote_press(), ("callback_query", "message", "date"), 253_402_300_800),
            id="a date after the year 9999",
        ),
        pytest.param(
            changed(
                changed(vote_press(), ("callback_query", "message"), ...), ("callback_query", "inline_message_id"), "9"
            ),
            id="under an inline message",
        ),
        pytest.param(changed(vote_press(), ("callback_query", "game_short_name"), "g"), id="a game"),
        pytest.param(changed(vote_press(), ("callback_query", "id"), 8231), id="a query id that is no text"),
        pytest.param({**demand_message(), "callback_query": vote_press()["callback_query"]}, id="two kinds at once"),
    ],
)
def test_anything_else_is_left_to_ptb(raw: dict[str, Any]):
    assert READER.fast(raw) is None


def test_a_command_for_this_bot_by_name_is_read_fast_in_any_case():
    command = READER.read(demand_message(f"/Demand@{USERNAME.upper()} Lower fuel prices", 8 + len(USERNAME)))
    assert isinstance(command, GroupCommand) and command.command == "demand"


# Hypothesis changes the fields of the two shapes: new values of every type, removed, added.
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.text(max_size=30),
    st.sampled_from(["/demand x", "/demand", f"/demand@{USERNAME} x", "/demands x", f"{VOTE_PREFIX}1:1:agree", ""]),
    st.sampled_from(["group", "supergroup", "private", "channel", "bot_command", "mention"]),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.sampled_from(["id", "type", "offset", "length"]), st.integers(), max_size=3),
)
PATHS = [
    ("update_id",),
    ("message", "message_id"),
    ("message", "from"),
    ("message", "from", "id"),
    ("message", "from", "is_bot"),
    ("message", "from", "first_name"),
    ("message", "chat"),
    ("message", "chat", "id"),
    ("message", "chat", "type"),
    ("message", "date"),
    ("message", "text"),
    ("message", "entities"),
    ("message", "caption"),
    ("message", "sender_chat"),
    ("callback_query", "id"),
    ("callback_query", "from", "id"),
    ("callback_query", "data"),
    ("callback_query", "message"),
    ("callback_query", "message", "chat", "id"),
    ("callback_query", "message", "chat", "type"),
    ("callback_query", "message", "date"),
    ("callback_query", "message", "message_id"),
    ("callback_query", "chat_instance"),
    ("callback_query", "inline_message_id"),
]


@st.composite
def updates(draw: st.DrawFn) -> dict[str, Any]:
    raw = draw(st.sampled_from([demand_message(), demand_message("/demand", 7), vote_press()]))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from([p for p in PATHS if p[0] in raw]))
        try:
            raw = changed(raw, path, draw(st.one_of(VALUES, st.just(...))))
        except (KeyError, TypeError):  # the path no longer leads anywhere
            continue
    return raw


@settings(max_examples=400, deadline=None)
@given(updates())
def test_a_fast_update_is_what_ptb_would_hand_the_same_handler(raw: dict[str, Any]):
    fast = READER.fast(raw)
    if fast is None:
        return
    update = Update.de_json(raw, BOT)  # PTB reads it
    assert update.update_id == fast.update_id
    assert (update.effective_chat.id, update.effective_user.id) == (fast.chat_id, fast.user_id)
    if isinstance(fast, GroupCommand):
        assert DEMAND_HANDLER.check_update(update)
        assert (update.message.message_id, update.message.text) == (fast.message_id, fast.text)
        assert update.message.sender_chat is None and update.message.reply_to_message is None
    else:
        assert isinstance(fast, ChatPress)
        assert VOTE_HANDLER.check_update(update)
        query = update.callback_query
        assert (query.id, query.data, query.message.message_id) == (fast.query_id, fast.data, fast.message_id)
        assert query.message.is_accessible and query.inline_message_id is None


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["/demand", "/demand ", "/demand@" + USERNAME, "/DEMAND"]), st.text(max_size=40))
def test_every_demand_ptb_hands_to_the_demand_handler_is_read_fast(command: str, argument: str):
    text = f"{command} {argument}" if argument else command
    raw = demand_message(text, len(command.strip()))
    if DEMAND_HANDLER.check_update(Update.de_json(raw, BOT)):
        assert isinstance(READER.fast(raw), GroupCommand)


# --- through the bot -----------------------------------------------------------------------


@pytest.fixture(params=["fast", "ptb"])
def reading(request: pytest.FixtureRequest) -> str:
    return request.param


async def test_demands_and_votes_get_the_same_answers_either_way(movement: Movement, reading: str):
    """The same people do the same things; the answers and what is written are checked the same way
    whether the updates came as fast updates or as PTB's (no fast reading at all)."""
    kinds: list[str] = []

    async def count(update: object, _context: Any) -> None:
        if isinstance(update, FastUpdate):
            kinds.append("fast, then PTB's Update" if update.fully_read else "fast")
        elif isinstance(update, Update) and (update.callback_query or (update.message and update.message.text)):
            kinds.append("ptb")  # (not counted: who joined the group, and the like)

    movement.app.add_handler(TypeHandler(object, count), group=99)
    if reading == "ptb":  # as PTB's webhook server would hand every update over
        movement.app.update_queue.serve(movement.app, UpdateReader(movement.app.bot))

    _council, _, [(chat, admin)] = await approved_region(movement, "mangystau", ["Zhanaozen oil workers"])
    aliya = await movement.member(chat, "Aliya")
    berik = await movement.member(chat, "Berik")
    kinds.clear()
    recorded = await movement.say(chat, aliya, "/demand A 100% wage rise for all oil workers")
    assert "Demand #1 is recorded" in recorded["text"]
    await movement.settle()
    again = await movement.say(chat, aliya, "/demand a 100 % wage rise for all oil workers!")
    assert "already has this demand: #1" in again["text"]
    assert "/demand TEXT" in (await movement.say(chat, aliya, "/demand"))["text"]
    assert "Only delegates" in (await movement.say(chat, aliya, "/demand link"))["text"]
    assert "t.me/" in (await movement.say(chat, admin, f"/demand@{movement.app.bot.username} link"))["text"]

    proposal = await movement.say(chat, aliya, "/propose We join the general strike on Monday")
    first = await movement.press(chat, aliya, proposal, button(proposal, "Agree"))
    second = await movement.press(chat, aliya, proposal, button(proposal, "Block"))  # the latest voice counts
    twice = await movement.press(chat, aliya, proposal, button(proposal, "Block"))
    unseen = await movement.press(chat, berik, proposal, button(proposal, "Agree"))  # Telegram is asked about him
    forged = await movement.press_data(chat, aliya, proposal["message_id"], f"{VOTE_PREFIX}1:1:veto")
    assert "agree" in first["text"] and not first["show_alert"]
    assert "block" in second["text"] and not second["show_alert"]
    assert "agree" in unseen["text"] and not unseen["show_alert"]
    assert twice["show_alert"] and forged["show_alert"]
    assert "no longer valid" in forged["text"]
    await movement.settle()

    assert await movement.query("SELECT COUNT(*) FROM demands") == [(1,)]
    assert sorted(await movement.query("SELECT choice FROM decision_voices")) == [("agree",), ("block",)]
    assert not movement.errors
    # Five demands and five presses; /propose is no fast update. The demand recorded and the presses
    # of a member seen lately (her second, the same again, the forged one) need no PTB Update at all.
    if reading == "fast":
        assert kinds[:5] == ["fast"] + ["fast, then PTB's Update"] * 4, kinds
        assert kinds[5] == "ptb" and kinds[7:] == ["fast", "fast", "fast, then PTB's Update", "fast"], kinds
    else:
        assert kinds == ["ptb"] * 11
