"""Hostile input (issue 6, part 7): malformed, forged and replayed updates through the whole bot.

Hypothesis writes the updates; the sandbox hands them to the real Application over HTTP as Telegram
would (`SandboxClient.inject`), in a small federation set up through the bot first (`federation`):
the coordinating council and a regional council, two approved committees with calls (one sent, one
cancelled, one left as a preview), demands, open decisions, a solidarity appeal, a head-count
prompt and questions waiting for a delegate's confirmation, a committee still waiting for approval,
a plain group, a channel and people's private chats. Every update is checked as it is handled:

* nothing raises: no exception reaches the Application's error handlers, and nothing is logged at
  ERROR or above (by the bot, python-telegram-bot or the sandbox), or with a traceback;
* whoever may change nothing by an update changes nothing: every table but the inbox is the same
  after it as before (`right_of_message`, `right_of_press` say who may, after docs/security.md);
* every press is answered, and one that is refused says why; a command for another bot
  (`/cmd@OtherBot`) is not answered in a group or channel at all.

What Telegram vouches for is kept true: who wrote in a group (a member; an anonymous admin writing
as the group; a member writing as their own channel), the chat and its type, and that a press is
under a message the bot sent in that chat. Everything people control is not: texts (empty, blank,
4,096 characters and more, zero-width, right-to-left, combining, astral and NUL characters, Kazakh
and Russian, markup), commands and their arguments in every kind of chat and for any bot, content
without text, edits, and callback data: random, a known prefix with wrong, foreign, overflowing or
disguised ids (`+7`, ` 7`, `7_0`, `٧`), another chat's buttons, buttons replayed after the state
changed; pressed by outsiders of a public group, members, and delegates of other committees and
councils. Updates that Telegram would not send in a shape python-telegram-bot can read at all (a chat
without a type, a message without a date) never reach a handler: they are the polling loop's to
survive (docs/security.md, "Hostile input").

Besides the fuzz, two tests go through what it samples exhaustively (every button shown anywhere,
every command that acts, from everyone without the right), and the rest are replays, double taps,
a handler failing midway, and the regressions the fuzz found. The whole file runs one bot
(`federation`, module scope) at ten times Telegram's pace in a chat and without the 20-a-minute
limit of groups, and, as every test, without flood control (tests/conftest.py), so that every update
reaches its handlers: what is tested here is what the bot does with an update, not how it keeps to
Telegram's limits (tests/test_delivery.py) or drops a flood (tests/test_flood.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from bot import app, call_messages, escalation, pacing
from bot.config import LANGUAGES
from bot.sandbox import Limits, SandboxClient, SandboxServer
from bot.sandbox.formatting import command_entities
from bot.sandbox.wire import chat_json
from domain.calls import Answer, ScopeKind
from domain.committees import KINDS, Status
from domain.decisions import FALLBACK_CHOICES, Choice, Rule
from handlers.common import ANONYMOUS_ADMIN_ID
from tests.conftest import make_config
from tests.movement import Movement

# The main fuzz's examples: with the federation's set-up the file runs in about a minute. A longer hunt:
# ASAMBLEA_HOSTILE_EXAMPLES=2000 .venv/bin/pytest tests/test_hostile_input.py
EXAMPLES = int(os.environ.get("ASAMBLEA_HOSTILE_EXAMPLES", "200"))
WAIT_S = 20.0
QUIET_S = 0.05
# The inbox keeps every update before it is handled and marks it handled after (bot/inbox.py,
# part 1 of issue 6): any input at all writes there, by design. No other table is left out.
EVERY_UPDATE_WRITES = frozenset({"inbox"})
OTHER_BOT = "OtherStrikeBot"
CHANNEL_BOT = {"id": 136817688, "is_bot": True, "first_name": "Channel", "username": "Channel_Bot"}
ANONYMOUS_ADMIN = {"id": ANONYMOUS_ADMIN_ID, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
STRANGER = {"id": 987_654_321, "is_bot": False, "first_name": "Stranger"}  # unknown to Telegram's sandbox
CONFIG = {
    # A demand endorsed by one committee rises to the council at once (the escalated demand below).
    "demands": {"council_committees": 1, "coordinating_committees": 1, "coordinating_regions": 1},
}


class Role(IntEnum):
    """Where someone stands in a chat; as a requirement, who may change something by an update."""

    OUTSIDER = 0
    MEMBER = 1
    DELEGATE = 2  # an admin of the chat (a committee's or council's delegate); in private, its person
    NOBODY = 3  # as a requirement: nobody changes anything by this update


# -- the federation ------------------------------------------------------------------------------


@dataclass
class Place:
    """A chat of the federation and where each person stands in it (absent: outside it)."""

    name: str
    id: int
    type: str
    roles: dict[str, Role]


@dataclass(repr=False)
class Federation:
    """The running bot, the people, the chats, and what the set-up left for forged updates to point at."""

    m: Movement
    people: dict[str, dict[str, Any]]
    places: dict[str, Place]
    words: list[str]  # what the set-up made: call codes, the private demand link
    log: list[logging.LogRecord] = field(default_factory=list)

    def place(self, name: str) -> Place:
        return self.places[name]

    def __repr__(self) -> str:  # Hypothesis prints the test's arguments with a failing example
        return f"<the federation: {', '.join(self.places)}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


class Failures(logging.Handler):
    """Every record logged at ERROR or above, or with a traceback, by any logger."""

    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__(logging.DEBUG)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info:
            self.into.append(record)


@contextlib.contextmanager
def quickened() -> Iterator[None]:
    """Ten messages a second in a chat (bursts of ten), no 20-a-minute limit in groups, tallies edited at
    once: set-up and fuzz send a few hundred messages into a handful of chats, which at Telegram's pace
    would take minutes. The sandbox's limits are off for the same reason."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(call_messages, "TALLY_EVERY_S", 0.0)
        patch.setattr(pacing, "CHAT_BURST", 10.0)
        patch.setattr(pacing, "CHAT_SPACING_S", 0.1)
        patch.setattr(pacing, "GROUP_PER_MINUTE", 100_000)
        # PTB's own limiter keeps 20 a minute per group too (bot/app.py); 0 switches that part off.
        patch.setattr(app, "SendingLimiter", functools.partial(app.SendingLimiter, group_max_rate=0))
        yield


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def federation(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Federation]:
    """The bot, and a federation whose rows the forged updates can point at (see the module doc)."""
    with quickened():
        async with SandboxServer(limits=Limits(enabled=False)) as server, SandboxClient(server.base_url) as client:
            database = tmp_path_factory.mktemp("hostile") / "asamblea.sqlite3"
            config = make_config(server.base_url, database, **CONFIG)
            async with Movement.running(config, server, client, publish_menus=False) as m:
                fed = await set_up(m)
                failures = Failures(fed.log)
                logging.getLogger().addHandler(failures)
                try:
                    yield fed
                finally:
                    logging.getLogger().removeHandler(failures)


async def set_up(m: Movement) -> Federation:
    """Through the bot, as people would (rows only the clock could make are written to the store)."""
    client = m.client
    kz, kz_admin = await m.council("kz")
    mg, mg_admin = await m.council("mangystau")
    a, a_admin = await m.committee("Zhanaozen oil workers", "mangystau", council=mg, council_admin=mg_admin)
    b, b_admin = await m.committee("Atyrau refinery", "atyrau", council=kz, council_admin=kz_admin)
    p, p_admin = await m.committee("Temirtau miners", "karaganda")  # waits for the coordinating council
    a_member, b_member, kz_member = await m.member(a, "Asel"), await m.member(b, "Bolat"), await m.member(kz, "Kanat")
    outsider, g_admin, c_admin = await m.person("Olzhas"), await m.person("Gulnar"), await m.person("Saule")
    # Offices in one chat are plain membership in another: a committee's delegate in the councils and in
    # the other committee, a council's delegate in a committee.
    for chat, person in ((a, b_admin), (a, kz_admin), (kz, a_admin), (mg, a_member), (mg, b_admin)):
        await client.set_member(chat, person["id"], "member")
    g = (await client.create_group("Neighbours", g_admin["id"], announce=False))["id"]  # a group, not super
    await client.set_member(g, a_member["id"], "member")
    c = (await client.create_channel("Strike news", c_admin["id"], announce=False))["id"]
    people = {
        "kz_admin": kz_admin, "kz_member": kz_member, "mg_admin": mg_admin, "a_admin": a_admin,
        "a_member": a_member, "b_admin": b_admin, "b_member": b_member, "p_admin": p_admin,
        "g_admin": g_admin, "c_admin": c_admin, "outsider": outsider,
    }  # fmt: skip

    # Calls: the coordinating council's to everyone; the committee's own, sent; one cancelled; a preview.
    await m.call(kz, kz_admin, "/call strike tomorrow 10:00 | every workplace | General strike | all")
    await m.call(a, a_admin, "/strike tomorrow 11:00 | at the gates | We stop work until wages rise | here")
    since = await client.seq()
    await m.call(a, a_admin, "/strike tomorrow 12:00 | at the gates | The second shift stops | here")
    await tap(m, a, a_admin, await with_button(m, a, "Cancel the call", since), "Cancel the call")
    answer = await tap(m, a, a_admin, await with_button(m, a, "Yes, cancel it", since), "Yes, cancel it")
    assert answer["text"] == "Cancelled.", answer
    await m.say(a, a_admin, "/strike tomorrow 14:00 | at the gates | A draft nobody sends | here")
    discarded = await m.say(a, a_admin, "/strike tomorrow 15:00 | at the gates | A draft thrown away | here")
    await tap(m, a, a_admin, discarded, "Discard")
    # A head count prompt waits in A for its delegate's reply.
    since = await client.seq()
    await tap(m, a, a_admin, await with_button(m, a, "Report head count", 0), "Report head count")
    await client.wait_for_text(a, "How many people take part", since=since, timeout=WAIT_S)

    # Demands, one of them before the assembly, and a proposal: open decisions with vote buttons.
    await client.send(a, a_member["id"], "/demand Fuel back to 60 tenge a litre")
    await client.send(a, a_member["id"], "/demand Freedom to form unions")
    await m.drained()
    listing = await m.say(a, a_member, "/demands")
    since = await client.seq()
    await tap(m, a, a_member, listing, "Put #1 to the assembly")
    await client.wait_for_text(a, "Endorse demand #1", since=since, timeout=WAIT_S)
    await m.say(a, a_member, "/propose Hold an assembly at the gates every morning")
    # A demand of B's that rose to the coordinating council, adopted there: Adopt and programme buttons.
    since = await client.seq()
    now = int(m.app.bot_data["clock"].time())
    async with m.store.db.transaction() as tx:
        committee_b = await m.store.committees.by_chat(tx, b)
        demand = await m.store.demands.add(
            tx, committee_id=committee_b.id, text="A 100% wage rise", via="group", submitted_by=b_member["id"], now=now
        )
        await m.store.demands.endorse(tx, demand.id, committee_b.id, now=now)
        await escalation.support_changed(tx, m.store, m.config, demand.id, now=now)
    m.app.bot_data["outbox"].wake()
    await tap(m, kz, kz_admin, await with_button(m, kz, "Adopt", since), "Adopt")
    await m.say(kz, kz_admin, "/programme")
    # A strike in A: a solidarity appeal for Atyrau waits in the Mangystau council.
    since = await client.seq()
    await m.say(a, a_admin, "/status strike")
    await with_button(m, mg, "Send the appeal", since)
    # Questions that wait for a delegate: status, wipe, settings in A; panic in the coordinating
    # council; registration in the plain group; language in a private chat.
    for text in ("/status", "/wipe", "/settings"):
        await m.say(a, a_admin, text)
    await m.say(b, b_admin, "/status")
    await m.say(kz, kz_admin, "/panic")
    await m.say(g, g_admin, "/register")
    await m.say(g, g_admin, "/register mangystau workplace")  # a name prompt, with the title's button
    await m.say(outsider["id"], outsider, "/settings")
    link = re.search(r"\?start=(d_[\w-]+)", (await m.say(a, a_admin, "/demand link"))["text"]).group(1)
    for person in people.values():  # everyone's private chat exists, with a message of the bot in it
        await m.say(person["id"], person, "/start")
    await m.drained()

    chief, member = Role.DELEGATE, Role.MEMBER
    places = {
        "kz": Place("kz", kz, "supergroup", {"kz_admin": chief, "kz_member": member, "a_admin": member}),
        "mg": Place("mg", mg, "supergroup", {"mg_admin": chief, "a_member": member, "b_admin": member}),
        "a": Place("a", a, "supergroup", {"a_admin": chief, "a_member": member, "b_admin": member, "kz_admin": member}),
        "b": Place("b", b, "supergroup", {"b_admin": chief, "b_member": member}),
        "p": Place("p", p, "supergroup", {"p_admin": chief}),
        "g": Place("g", g, "group", {"g_admin": chief, "a_member": member}),
        "c": Place("c", c, "channel", {"c_admin": chief}),
    }  # fmt: skip
    for name, person in people.items():
        places[f"@{name}"] = Place(f"@{name}", person["id"], "private", {name: Role.DELEGATE})
    async with m.store.db.read() as conn:
        async with conn.execute("SELECT id FROM calls") as cursor:
            call_ids = [row[0] async for row in cursor]
        codes = [(await m.store.calls.get(conn, call_id)).code for call_id in call_ids]  # for /verify
    fed = Federation(m, people, places, words=[*codes, link])
    await check_membership(fed)
    return fed


async def with_button(m: Movement, chat: int, label: str, since: int) -> dict[str, Any]:
    """The first message the bot sends in a chat after `since` with a button whose label has `label`."""
    cursor = since
    while True:
        for message in await m.client.wait_for(chat, cursor, timeout=WAIT_S):
            cursor = max(cursor, message["seq"])
            if message["sent_seq"] > since and button(message, label):
                return message


def button(message: dict[str, Any], label: str) -> str | None:
    """The callback data of the message's button whose label has `label`."""
    for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
        for key in row:
            if label in key["text"]:
                return key["callback_data"]
    return None


async def tap(m: Movement, chat: int, person: dict[str, Any], message: dict[str, Any], label: str) -> dict:
    """`person` presses the button whose label has `label`; the bot's answer."""
    return await m.press_data(chat, person, message["message_id"], button(message, label))


async def check_membership(fed: Federation) -> None:
    """The roles the test assumes are the sandbox's: a delegate is an admin there, a member a member."""
    world = fed.m.server.world
    for place in fed.places.values():
        if place.type == "private":
            continue
        for name, person in fed.people.items():
            member = world.chats[place.id].members.get(person["id"])
            status = member.status if member else "left"
            expected = {Role.DELEGATE: ("creator", "administrator"), Role.MEMBER: ("member",)}
            assert status in expected.get(place.roles.get(name, Role.OUTSIDER), ("left",)), (place.name, name, status)


# -- who may change something by an update (docs/security.md, "Who may do what") ---------------------

# Commands a member may act by in a group (a decision, a demand, a digest); delegates' commands; every
# other command only reads, or asks a delegate to confirm (/wipe, /panic, /settings).
MEMBER_COMMANDS = frozenset({"demand", "propose", "elect", "alternate", "recall", "digest"})
DELEGATE_COMMANDS = frozenset({"register", "strike", "rally", "call", "status", "council", "merge"})
# Each button's prefix and how many row ids lead its data (then its action).
BUTTONS = {
    "v1:ca:": 1, "v1:cc:": 1, "v1:cs:": 1, "v1:st:": 1, "v1:wp:": 1, "v1:pn:": 1, "v1:ap:": 1, "v1:de:": 1,
    "v1:dv:": 2, "v1:dr:": 1, "v1:dx:": 2, "v1:dm:": 2, "v1:dp:": 1, "v1:sa:": 1,
    "v1:rg:": 0, "v1:lang:": 0, "v1:rule:": 0, "v1:fb:": 0,
}  # fmt: skip
# A row id in a button: ASCII digits, within SQLite's integers (handlers.common.row_number).
ROW_ID = re.compile(r"[0-9]+")
SQLITE_MAX = 2**63 - 1


def command_of(text: str | None) -> tuple[str, str | None] | None:
    """The command a text starts with (Telegram's bot_command entity) and the bot it names, if any."""
    entities = command_entities(text or "")
    if not entities:
        return None
    name, _at, bot = text[1 : entities[0]["length"]].partition("@")
    return name.lower(), (bot if _at else None)


def right_of_message(place: Place, kind: str, text: str | None, reply: bool, our_bot: str) -> Role:
    """Who may change something by a message (an edit, a channel post) in this chat."""
    command = command_of(text)
    if command is None:
        if text is None:
            return Role.NOBODY  # a location, a photo's caption, a dice: no handler takes them
        if place.type == "private":
            return Role.MEMBER if kind == "message" else Role.NOBODY  # a demand after a committee's link
        # A reply to one of the bot's prompts (a committee's name, a call's update, a head count).
        return Role.DELEGATE if reply and kind != "channel_post" else Role.NOBODY
    name, bot = command
    if bot is not None and bot.lower() != our_bot.lower():
        return Role.NOBODY  # for another bot
    if place.type == "private":
        return Role.MEMBER if name == "verify" and kind == "message" else Role.NOBODY  # /verify counts misses
    if kind == "edited_message":  # only registration and status look at edits (and then as commands)
        return Role.DELEGATE if name in ("register", "status") else Role.NOBODY
    rest = text.split(maxsplit=1)[1] if len(text.split(maxsplit=1)) > 1 else ""
    if name == "demand" and rest.strip().casefold() == "link":
        return Role.DELEGATE
    if name == "status":
        return Role.DELEGATE if rest.split() else Role.NOBODY
    if name in MEMBER_COMMANDS:
        return Role.MEMBER
    return Role.DELEGATE if name in DELEGATE_COMMANDS else Role.NOBODY


def parse_button(data: str | None) -> tuple[str, list[int], str] | None:
    """A button's prefix, row ids and action, if it has the shape of one the bot makes."""
    prefix = next((p for p in BUTTONS if data and data.startswith(p)), None)
    if prefix is None:
        return None
    parts = data.removeprefix(prefix).split(":")
    count = BUTTONS[prefix]
    if len(parts) < count or not all(ROW_ID.fullmatch(part) for part in parts[:count]):
        return None
    ids = [int(part) for part in parts[:count]]
    if any(number > SQLITE_MAX for number in ids):
        return None
    return prefix, ids, ":".join(parts[count:])


async def owns(fed: Federation, place: Place, prefix: str, ids: list[int]) -> bool:
    """Whether a button names rows of this chat: its committee's (a call delivered to it or issued by it,
    its demands and decisions, the committee itself) or its council's (its calls, demands before it, its
    appeals, committees waiting in its area). A button naming anything else is forged, copied or stale."""
    store, federation = fed.m.store, fed.m.config.federation
    async with store.db.read() as conn:
        committee = await store.committees.by_chat(conn, place.id)
        council = await store.councils.by_chat(conn, place.id)
        if not ids:
            return True  # registration, language, rule and fallback buttons are about the chat itself
        first = ids[0]
        if prefix == "v1:ca:":
            return committee is not None and await store.calls.delivery_of(conn, first, committee.id) is not None
        if prefix in ("v1:cc:", "v1:cs:"):
            call = await store.calls.get(conn, first)
            return call is not None and (
                (committee is not None and call.issuer_committee_id == committee.id)
                or (council is not None and call.issuer_council_id == council.id)
            )
        if prefix in ("v1:st:", "v1:wp:"):
            return committee is not None and first == committee.id
        if prefix == "v1:pn:":
            return council is not None and first == council.id
        if prefix == "v1:ap:":
            named = await store.committees.get(conn, first)
            return (
                council is not None
                and named is not None
                and named.status is Status.PENDING
                and federation.is_within(named.region, council.region)
            )
        if prefix == "v1:de:":
            demand = await store.demands.get(conn, first)
            return committee is not None and demand is not None and demand.committee_id == committee.id
        if prefix in ("v1:dv:", "v1:dr:"):
            decision = await store.decisions.get(conn, first)
            return committee is not None and decision is not None and decision.committee_id == committee.id
        if prefix in ("v1:dx:", "v1:dp:"):
            named_council = ids[1] if prefix == "v1:dx:" else council.id if council else None
            return (
                council is not None
                and named_council == council.id
                and await store.programme.escalation(conn, first, council.id) is not None
            )
        if prefix == "v1:dm:":
            if council is None:
                return False
            for demand_id in ids:
                demand = await store.demands.get(conn, demand_id)
                origin = await store.committees.get(conn, demand.committee_id) if demand else None
                if origin is None or not federation.is_within(origin.region, council.region):
                    return False
                if demand.status in ("proposed", "rejected"):
                    return False
            return True
        appeal = await store.spread.appeal(conn, first)  # v1:sa:
        return council is not None and appeal is not None and appeal.council_id == council.id


async def right_of_press(fed: Federation, place: Place, data: str | None, on_message: bool) -> Role:
    """Who may change something by pressing a button with `data` under a message of this chat."""
    parsed = parse_button(data)
    if parsed is None or not on_message:
        return Role.NOBODY
    prefix, ids, action = parsed
    if place.type == "private":
        return Role.DELEGATE if prefix == "v1:lang:" else Role.NOBODY  # a person's own language
    if not await owns(fed, place, prefix, ids):
        return Role.NOBODY
    if prefix in ("v1:de:", "v1:dv:") or (prefix == "v1:ca:" and action == "a"):
        return Role.MEMBER  # put to the assembly, vote
    return Role.DELEGATE


# -- what Hypothesis writes ----------------------------------------------------------------------------

ODD = (
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff",  # zero-width
    "\u202e", "\u202d", "\u200f", "\u061c", "\u2067",  # right-to-left, overrides, isolates
    "\u0301", "\u0336", "\u20e3", "\u0489", "e\u0301\u0301\u0301",  # combining marks
    "\x00", "\x7f", "\x1b", "\u2028", "\u2029", "\x85", "\t", "\n", "\r\n",  # NUL, controls, separators
    "\ufffd", "\uffff", "\ud7ff", "\ue000", "\U0010ffff", "\U00010000",  # around the surrogates
    "\U0001f469\u200d\U0001f52c", "\U0001f1f0\U0001f1ff", "\U0001f3f4\U000e0067\U000e0062\U000e007f",  # emoji
    "\u3000", "\u00a0", "\u202f", "１２", "٣",  # odd spaces and digits
    "<b>", "</i>", "&amp;", "*_`[", "\\", "%s", "{id}", "{0}", "{", "}",  # markup and format fields
)  # fmt: skip
WORDS = (
    "Жаңаөзен", "Маңғыстау облысы", "ереуіл", "Қазақстан", "забастовка", "Ақтау", "Ұлытау",
    "mangystau", "atyrau", "karaganda", "kz", "Mangystau Region", "mordor",
    *KINDS, "strike", "work", "suppressed", "link", "general", "solidarity", "blockade",
    "here", "region", "neighbours", "all", "tomorrow", "now", "10:00", "25:61", "04.01.2022", "31.02.2022 09:00",
    "|", "-", "#1", "#", "d_", "@", "/", "'", '"', "0", "-1", "7", "99999999999999999999", "1e9", "NaN",
)  # fmt: skip
BLANK = (" ", "  \n\t", "\u200b", "\u3000\u00a0", "\n\n\n")
# Arguments that work for some command, so that a command from someone without the right would act if
# the bot let it: a call, a registration, a status, a link, an election's mandate, a merge, a code.
WORKING = (
    "tomorrow 10:00 | at the gates | We stop work | here",
    "general tomorrow 09:00 | everywhere | General strike | all",
    "strike tomorrow 08:00 | every workplace | Strike | region",
    "mangystau workplace Port workers",
    "atyrau",
    "strike",
    "work | yesterday 09:00",
    "link",
    "A 100% wage rise",
    "90 | Negotiate the wage rise",
    "1",
    "1 2",
    "ABCDE-FGHJK",
)
COMMANDS = (
    "start", "help", "settings", "verify", "register", "committee", "council", "approve", "strike", "rally",
    "call", "calls", "demand", "demands", "propose", "elect", "alternate", "recall", "delegates", "status",
    "digest", "spread", "programme", "merge", "wipe", "panic", "foo", "START", "Strike", "a" * 40,
)  # fmt: skip
ACTIONS = (
    "", "y", "n", *(a.value[0] for a in Answer), "h", "a", "s", "w", "x", "c", "r", "m", "t", "k",
    "send", "drop", "edit", "cancel", "cancel-yes", "keep", *(f"s:{kind.value}" for kind in ScopeKind),
    *(c.value for c in Choice), *LANGUAGES, *(r.value for r in Rule), *(str(n or 0) for n in FALLBACK_CHOICES),
    "r:mangystau", "k:mangystau:workplace", "t:karaganda:campus", "xx", "en:", "Y",
)  # fmt: skip
NUMBERS = (
    "0", "1", "2", "3", "5", "8", "13", "-1", "-0", "07", "+1", " 1", "1 ", "1_0", "٣", "１", "1.0", "0x1", "",
    str(SQLITE_MAX), str(SQLITE_MAX + 1), "99999999999999999999", "9" * 40,
)  # fmt: skip
PREFIXES = (*BUTTONS, "v1:", "v2:ca:", "V1:CA:", "v1:ca", "v1::", "v0:ap:", "/start ")

characters = st.characters(exclude_categories=("Cs",))  # JSON (and Telegram) carry no lone surrogates


def texts(fed: Federation) -> st.SearchStrategy[str]:
    """What people write: nothing, blanks, phrases of odd pieces and the federation's words, long runs."""
    piece = st.one_of(
        st.sampled_from(ODD), st.sampled_from((*WORDS, *fed.words)), st.text(characters, min_size=1, max_size=6)
    )
    phrase = st.builds(
        lambda parts, separator: separator.join(parts),
        st.lists(piece, min_size=1, max_size=8),
        st.sampled_from((" ", "", " | ", "\n", " , ")),
    )
    long = st.builds(
        lambda unit, size: (unit * size)[:size],
        st.sampled_from(("x", "Жаңаөзен ", "\u200b", "\U0001f3f3\ufe0f\u200d\U0001f308", "a|", "9", "tomorrow ")),
        st.integers(4000, 4300),
    )
    return st.one_of(st.just(""), st.sampled_from(BLANK), phrase, phrase, long)


def command_texts(fed: Federation) -> st.SearchStrategy[str]:
    """A command, for us, for another bot or for nobody in particular, with or without arguments."""
    our = fed.m.app.bot.username
    suffixes = ("", "", "", f"@{our}", f"@{our.upper()}", f"@{OTHER_BOT}", f"@{OTHER_BOT.lower()}", "@")
    return st.builds(
        lambda name, suffix, separator, arguments: f"/{name}{suffix}" + (separator + arguments if arguments else ""),
        st.sampled_from(COMMANDS),
        st.sampled_from(suffixes),
        st.sampled_from((" ", " ", "\n", "\u00a0", "  ")),
        st.one_of(st.just(""), st.sampled_from(WORKING), texts(fed)),
    )


def among(items: list[Any]) -> st.SearchStrategy[Any]:
    """One of `items`, a list that grows as the bot works: drawn as a number in a fixed range, so that
    Hypothesis, replaying an example to shrink it, asks for the same kind of choice as the first time."""
    return st.integers(0, 10_000).map(lambda index: items[index % len(items)])


def callback_data(here: list[str], everywhere: list[str]) -> st.SearchStrategy[str | None]:
    """Buttons the bot showed in this chat (current and stale) and in others, forgeries of their shape with
    wrong, foreign, overflowing and disguised ids, and noise; at most Telegram's 64 bytes."""
    real = sorted({part for data in everywhere for part in data.split(":") if part.isdigit()}) or ["1"]
    numbers = st.one_of(among(real), among(real), st.sampled_from(NUMBERS), st.integers(0, 40).map(str))
    forged = st.sampled_from(sorted(BUTTONS)).flatmap(
        lambda prefix: st.builds(
            lambda ids, action: prefix + ":".join([*ids, action]) if ids or action else prefix,
            st.lists(numbers, min_size=max(0, BUTTONS[prefix] - 1), max_size=BUTTONS[prefix] + 1),
            st.sampled_from(ACTIONS),
        )
    )
    odd = st.builds(
        lambda prefix, parts: prefix + ":".join(parts),
        st.sampled_from(PREFIXES),
        st.lists(st.one_of(numbers, st.sampled_from(ACTIONS)), max_size=4),
    )
    mangled = st.builds(
        lambda data, cut, tail: data[:cut] + tail,
        among(everywhere or ["v1:ca:1:j"]),
        st.integers(0, 64),
        st.sampled_from(("", ":", ":x", ":1", "\x00", " ", "\u200b", ":y:n")),
    )
    noise = st.one_of(
        st.text(characters, max_size=64),
        st.binary(max_size=64).map(lambda raw: raw.decode("utf-8", "replace")),
    )
    families: dict[str, list[str]] = {}
    for data in here:
        families.setdefault(data[:6], []).append(data)
    # This chat's buttons a family at a time, so that the few status or wipe buttons are pressed as often
    # as the many vote buttons.
    this_chat = among(sorted(families) or [""]).flatmap(
        lambda family: among(families.get(family) or everywhere or [""])
    )
    any_data = st.one_of(
        this_chat,
        this_chat,
        this_chat,
        among(everywhere or [""]),
        forged,
        forged,
        forged,
        odd,
        mangled,
        noise,
    )
    return st.one_of(any_data.filter(lambda data: 0 < len(data.encode()) <= 64), st.sampled_from(("", None)))


@dataclass
class Hostile:
    """One update Hypothesis wrote, and what the test knows about it."""

    update: dict[str, Any]
    place: Place
    role: Role  # of whoever wrote or pressed, in that chat
    right: Role  # who may change something by it
    query: str | None = None  # a press's id
    foreign: bool = False  # a command for another bot

    def __str__(self) -> str:
        return f"{self.role.name} in {self.place.name} ({self.right.name} may change something): {shorten(self.update)}"


def shorten(value: Any) -> Any:
    """An update as a failure shows it: long texts cut, a press's message reduced to where it is."""
    if isinstance(value, str) and len(value) > 80:
        return f"{value[:40]!r}…({len(value)} characters)"
    if isinstance(value, dict):
        if "message_id" in value and "chat" in value and "reply_markup" in value:
            value = {key: value[key] for key in ("message_id", "chat", "text") if key in value}
        return {key: shorten(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shorten(item) for item in value]
    return value


QUERIES = itertools.count(1)


def now() -> int:
    return int(time.time())


def chat_of(fed: Federation, place: Place) -> dict[str, Any]:
    """The Chat object Telegram puts in updates from this chat."""
    world = fed.m.server.world
    return chat_json(world.chats[place.id], world.users)


def shown(record: dict[str, Any]) -> set[str]:
    """Every callback_data a sent message has shown, its keyboards since edited away included."""
    markups = [record["original"].get("reply_markup"), *(edit.get("reply_markup") for edit in record["edits"])]
    return {
        key["callback_data"]
        for markup in markups
        for row in (markup or {}).get("inline_keyboard", [])
        for key in row
        if "callback_data" in key
    }


def sent_buttons(records: list[dict[str, Any]]) -> dict[int, list[str]]:
    """Every callback_data the bot has shown, per chat."""
    found: dict[int, list[str]] = {}
    for record in records:
        found.setdefault(record["chat_id"], []).extend(sorted(shown(record)))
    return found


async def draw_update(data: st.DataObject, fed: Federation) -> Hostile:
    """A message, an edit, a channel post or a press, in any of the federation's chats."""
    # Mostly the committees' and councils' chats, where there is something to protect.
    where = data.draw(st.sampled_from(("a", "a", "b", "p", "kz", "kz", "mg", "g", "c", "private")), label="where")
    people = sorted(name for name in fed.places if name.startswith("@"))
    place = fed.place(data.draw(st.sampled_from(people), label="whose") if where == "private" else where)
    history = await fed.m.client.history(place.id)
    kinds = ["channel_post"] * 2 if place.type == "channel" else ["message", "message", "edited_message"]
    kind = data.draw(st.sampled_from([*kinds, *["callback_query"] * 3]), label="kind")
    if kind == "callback_query":
        return await draw_press(data, fed, place, history)
    return draw_message(data, fed, place, kind, history)


def draw_message(
    data: st.DataObject, fed: Federation, place: Place, kind: str, history: list[dict[str, Any]]
) -> Hostile:
    """Someone who can write there writes (or edits) something, perhaps in reply to a message."""
    message: dict[str, Any] = {"date": now(), "chat": chat_of(fed, place)}
    if place.type == "channel":
        message["sender_chat"] = message["chat"]  # only a channel's admins post, as the channel
        role = Role.DELEGATE
    else:
        present = sorted(name for name in place.roles)
        senders = [*present, "as the group", "as a channel", "nobody"] if place.type != "private" else present
        sender = data.draw(st.sampled_from(senders), label="sender")
        if sender == "as the group":  # an anonymous admin
            message |= {"from": ANONYMOUS_ADMIN, "sender_chat": message["chat"]}
            role = Role.DELEGATE
        elif sender == "as a channel":  # a member writing as their own channel
            channel = {"id": -1_009_999_999_999, "type": "channel", "title": "Someone's channel"}
            message |= {"from": CHANNEL_BOT, "sender_chat": channel}
            role = Role.MEMBER
        elif sender == "nobody":  # no sender at all: python-telegram-bot reads it, Telegram sends none
            role = Role.MEMBER
        else:
            message["from"] = fed.people[sender]
            role = place.roles[sender]
    content = data.draw(st.sampled_from(("command", "command", "text", "caption", "location", "none")), label="content")
    text = None
    if content in ("command", "text"):
        text = data.draw(command_texts(fed) if content == "command" else texts(fed), label="text")
        message["text"] = text
        if command_entities(text):
            message["entities"] = command_entities(text)
    elif content == "caption":  # a command in a photo's caption is no command
        message["photo"] = [{"file_id": "AgAD", "file_unique_id": "AQAD", "width": 1, "height": 1}]
        message["caption"] = data.draw(command_texts(fed), label="caption")
    elif content == "location":
        message["location"] = {"latitude": 43.34, "longitude": 52.86}
    replied = data.draw(st.one_of(st.none(), among(history[-12:] or [None])), label="in reply to")
    if replied is not None:
        message["reply_to_message"] = {key: value for key, value in replied.items() if key != "reply_to_message"}
    if kind == "edited_message":
        message["edit_date"] = now()
    command = command_of(text)
    foreign = command is not None and command[1] is not None and command[1].lower() != fed.m.app.bot.username.lower()
    right = right_of_message(place, kind, text, replied is not None, fed.m.app.bot.username)
    return Hostile({kind: message}, place, role, right, foreign=foreign)


async def draw_press(data: st.DataObject, fed: Federation, place: Place, history: list[dict[str, Any]]) -> Hostile:
    """Someone presses under one of the bot's messages there, with data of their choosing."""
    records = await fed.m.client.sent()
    mine = {record["message_id"] for record in records if record["chat_id"] == place.id}
    ours = [message for message in history if message["message_id"] in mine]
    assume(ours)
    if place.type == "private":
        presser = next(iter(place.roles))  # in a private chat only its person can press
    else:
        presser = data.draw(st.sampled_from([*sorted(fed.people), "stranger"]), label="presser")
    person = STRANGER if presser == "stranger" else fed.people[presser]
    role = place.roles.get(presser, Role.OUTSIDER)
    by_chat = sent_buttons(records)
    everywhere = sorted({data for buttons in by_chat.values() for data in buttons})
    pressed = data.draw(callback_data(sorted(set(by_chat.get(place.id, []))), everywhere), label="data")
    under = data.draw(st.sampled_from(("message", "message", "message", "inaccessible", "inline")), label="under")
    query: dict[str, Any] = {"id": f"hostile-{next(QUERIES)}", "from": person, "chat_instance": "42"}
    message = data.draw(among(ours[-15:]), label="message")
    if under == "message":
        query["message"] = message
    elif under == "inaccessible":  # a message too old for Telegram to show the bot
        query["message"] = {"chat": message["chat"], "message_id": message["message_id"], "date": 0}
    else:
        query["inline_message_id"] = "AQAAAHN0cmlrZQ"
    if pressed is None:
        query["game_short_name"] = "strike"
    else:
        query["data"] = pressed
    right = await right_of_press(fed, place, pressed, under == "message")
    if role is Role.DELEGATE and place.type != "private":
        # A delegate's own buttons in their own chat would act, as they may: that is the other tests'.
        assume(right is Role.NOBODY)
    return Hostile({"callback_query": query}, place, role, right, query=query["id"])


# -- delivering an update and looking at what it did ------------------------------------------------------


async def settled(m: Movement) -> None:
    """Every update handled to its end, the outbox empty and the wire quiet for a moment: whatever an
    update did is in the database and the sandbox now."""
    while True:
        await m.client.wait_idle(timeout=WAIT_S, quiet=QUIET_S)
        states = await m.states()
        busy = m.app.update_processor.current_concurrent_updates > 0 or not m.app.update_queue.empty()
        if not busy and not states.get("pending") and not states.get("inflight"):
            return
        m.app.bot_data["outbox"].wake()
        await asyncio.sleep(0.02)


async def database(m: Movement) -> dict[str, list[tuple]]:
    """Every row of every table (but the inbox, see EVERY_UPDATE_WRITES), in one read."""
    state: dict[str, list[tuple]] = {}
    async with m.store.db.read() as conn:
        async with conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") as cursor:
            tables = [name async for (name,) in cursor if not name.startswith("sqlite_")]
        for table in tables:
            if table not in EVERY_UPDATE_WRITES:
                async with conn.execute(f'SELECT * FROM "{table}"') as cursor:
                    state[table] = sorted([tuple(row) async for row in cursor], key=repr)
    return state


def changes(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> dict[str, str]:
    """Which tables changed, and how many rows went and came."""
    found = {}
    for table in sorted(set(before) | set(after)):
        old, new = before.get(table, []), after.get(table, [])
        if old != new:
            gone = len([row for row in old if row not in new])
            came = len([row for row in new if row not in old])
            found[table] = f"{gone} rows gone, {came} came"
    return found


async def deliver(fed: Federation, hostile: Hostile) -> dict[str, Any] | None:
    """Hand the update to the bot as Telegram would and check it (see the module doc); the bot's answer to
    a press, if it was one."""
    m = fed.m
    strict = hostile.role < hostile.right
    errors, logged = len(m.errors), len(fed.log)
    before = await database(m) if strict else None
    seq = await m.client.seq()
    await m.client.inject(hostile.update, post=hostile.query is None)
    await settled(m)
    raised = [repr(error) for error in m.errors[errors:]]
    assert not raised, f"a handler raised {raised} on {hostile}"
    logs = [f"{record.name}: {record.getMessage()}" for record in fed.log[logged:]]
    assert not logs, f"logged {logs} on {hostile}"
    if strict:
        changed = changes(before, await database(m))
        assert not changed, f"{hostile.role.name} changed {changed} by {hostile}"
    answer = None
    if hostile.query is not None:
        answer = await m.client.callback_answer(hostile.query)
        assert answer is not None, f"no answer to the press {hostile}"
        assert answer["text"] or not strict, f"a refusal without a reason: {hostile}"
    if hostile.foreign and hostile.place.type != "private":
        assert await m.client.messages(hostile.place.id, since=seq) == [], f"answered another bot's command {hostile}"
    return answer


# -- chosen updates, with the same checks --------------------------------------------------------------


async def bot_message_with(fed: Federation, place: Place, data: str) -> dict[str, Any]:
    """The bot's message in that chat that showed a button with `data` (its keyboard maybe edited away
    since), as Telegram shows it now."""
    records = await fed.m.client.messages(place.id)
    showing = {message_id for message_id, buttons in sent_per_message(records).items() if data in buttons}
    return next(message for message in await fed.m.client.history(place.id) if message["message_id"] in showing)


def sent_per_message(records: list[dict[str, Any]]) -> dict[int, set[str]]:
    """Every callback_data each of a chat's messages from the bot has shown, by message id."""
    return {record["message_id"]: shown(record) for record in records}


async def latest_bot_message(fed: Federation, place: Place) -> dict[str, Any]:
    """The bot's last message in that chat, as Telegram shows it now."""
    ours = {record["message_id"] for record in await fed.m.client.messages(place.id)}
    return [message for message in await fed.m.client.history(place.id) if message["message_id"] in ours][-1]


async def press(fed: Federation, place: Place, who: str, data: str, under: dict[str, Any] | None = None) -> Hostile:
    """`who` presses a button with `data` under the bot's message `under` (its latest there if None)."""
    person = STRANGER if who == "stranger" else fed.people[who]
    message = under or await latest_bot_message(fed, place)
    query = {"id": f"chosen-{next(QUERIES)}", "from": person, "chat_instance": "42", "message": message, "data": data}
    role = place.roles.get(who, Role.OUTSIDER)
    return Hostile({"callback_query": query}, place, role, await right_of_press(fed, place, data, True), query["id"])


def say(fed: Federation, place: Place, who: str, text: str) -> Hostile:
    """`who` writes `text` in the chat (a channel posts it)."""
    message: dict[str, Any] = {"date": now(), "chat": chat_of(fed, place), "text": text}
    if command_entities(text):
        message["entities"] = command_entities(text)
    kind = "channel_post" if place.type == "channel" else "message"
    if place.type == "channel":
        message["sender_chat"] = message["chat"]
    else:
        message["from"] = fed.people[who]
    command = command_of(text)
    foreign = command is not None and command[1] is not None and command[1].lower() != fed.m.app.bot.username.lower()
    right = right_of_message(place, kind, text, False, fed.m.app.bot.username)
    return Hostile({kind: message}, place, place.roles.get(who, Role.DELEGATE), right, foreign=foreign)


async def answer_in(fed: Federation, place: Place, since: int) -> str:
    """The text of the bot's first message in the chat after `since`."""
    return (await fed.m.client.wait_for(place.id, since, timeout=WAIT_S))[0]["text"]


# -- every button and every acting command, from everyone without the right --------------------------


@pytest.mark.asyncio(loop_scope="module")
async def test_every_button_pressed_by_everyone_without_the_right_changes_nothing(federation: Federation):
    """Exhaustively, what the fuzz samples: every button the bot has shown anywhere (this chat's, other
    chats', stale ones), pressed in each chat of the federation by everyone who may not act by it there:
    its members, delegates of other committees and councils sitting in it as members, outsiders (someone
    who opened a public group; a stranger the sandbox does not know), and its own delegates where the
    button names another chat's rows. A chat's presses go in together: nothing raises, each press is
    answered with a reason, and every table is as it was."""
    fed = federation
    m = fed.m
    shown = sent_buttons(await m.client.sent())
    everywhere = sorted({data for buttons in shown.values() for data in buttons})
    pressed = 0
    for name in ("a", "b", "p", "kz", "mg", "g", "c"):
        place = fed.place(name)
        records = await m.client.messages(place.id)
        if not records:
            continue  # (the channel, when the bot has not posted there)
        history = {message["message_id"]: message for message in await m.client.history(place.id)}
        showing = {data: message_id for message_id, buttons in sent_per_message(records).items() for data in buttons}
        latest = history[max(record["message_id"] for record in records)]
        outsiders = [who for who in sorted(fed.people) if who not in place.roles][:1]
        pressers = [*place.roles, *outsiders, "stranger"]
        presses = []
        for data in everywhere:
            under = history.get(showing.get(data), latest)
            right = await right_of_press(fed, place, data, True)
            for who in pressers:
                role = place.roles.get(who, Role.OUTSIDER)
                if role < right:
                    person = STRANGER if who == "stranger" else fed.people[who]
                    query = {"id": f"every-{next(QUERIES)}", "from": person, "chat_instance": "42", "data": data}
                    presses.append(
                        Hostile({"callback_query": query | {"message": under}}, place, role, right, query["id"])
                    )
        before, errors, logged = await database(m), len(m.errors), len(fed.log)
        for hostile in presses:  # queued in the sandbox's world directly: thousands of control requests saved
            m.server.world.inject(hostile.update)
        await settled(m)
        assert m.errors[errors:] == [] and fed.log[logged:] == [], (name, m.errors[errors:], fed.log[logged:])
        assert changes(before, await database(m)) == {}, name
        for hostile in presses:
            answer = m.server.world.callbacks[hostile.query].answer
            assert answer is not None and answer["text"], f"{answer} to {hostile}"
        pressed += len(presses)
    assert pressed > 1000, pressed  # the federation shows its buttons: a sanity check of the set-up


@pytest.mark.asyncio(loop_scope="module")
async def test_every_command_that_acts_from_everyone_without_the_right_changes_nothing(federation: Federation):
    """Exhaustively, what the fuzz samples: each command that acts for a delegate, with arguments that make
    it act (a fresh council code, the adopted demand's number), sent in each chat of the federation by
    everyone there who may not act by it: its members, delegates of other committees sitting in it, a member
    writing as their own channel, and a message without a sender. Nothing raises, every table is as it was."""
    fed = federation
    m = fed.m
    async with m.store.db.read() as conn, conn.execute("SELECT id FROM demands ORDER BY id") as cursor:
        demands = [row[0] async for row in cursor]
    acting = {
        "register": "mangystau workplace Port workers",
        "strike": "tomorrow 10:00 | at the gates | We stop work | here",
        "rally": "tomorrow 11:00 | the square | Rally for the wage rise | region",
        "call": "strike tomorrow 08:00 | every workplace | Strike | all",
        "status": "strike",
        "demand": "link",
        "council": await m.code("atyrau"),
        "merge": f"{demands[-1]} {demands[0]}",
    }
    for name in ("a", "b", "p", "kz", "mg", "g"):
        place = fed.place(name)
        senders = [who for who, role in place.roles.items() if role is Role.MEMBER] + ["as a channel", "nobody"]
        messages = []
        for command, arguments in acting.items():
            for sender in senders:
                hostile = say(fed, place, next(iter(place.roles)), f"/{command} {arguments}")  # "from" below
                message = hostile.update["message"]
                if sender == "as a channel":
                    message["from"] = CHANNEL_BOT
                    message["sender_chat"] = {"id": -1_009_999_999_999, "type": "channel", "title": "Someone's"}
                elif sender == "nobody":
                    del message["from"]
                else:
                    message["from"] = fed.people[sender]
                assert hostile.right is Role.DELEGATE
                messages.append(hostile.update)
        before, errors, logged = await database(m), len(m.errors), len(fed.log)
        for update in messages:
            m.server.world.inject(update, post=True)
        await settled(m)
        assert m.errors[errors:] == [] and fed.log[logged:] == [], (name, m.errors[errors:], fed.log[logged:])
        assert changes(before, await database(m)) == {}, name


# -- the fuzz ----------------------------------------------------------------------------------------


@pytest.mark.asyncio(loop_scope="module")
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
@given(data=st.data())
async def test_hostile_updates_raise_nothing_and_change_nothing_without_the_right(
    federation: Federation, data: st.DataObject
):
    hostile = await draw_update(data, federation)
    kind, strict = next(iter(hostile.update)), hostile.role < hostile.right
    event(
        f"{kind} in a {hostile.place.type} chat by {hostile.role.name}: {'nothing to change' if strict else 'may act'}"
    )
    await deliver(federation, hostile)


# -- regressions the fuzz found, and chosen cases --------------------------------------------------


@pytest.mark.asyncio(loop_scope="module")
async def test_forged_ids_disguised_numbers_and_unknown_data_are_refused_with_a_reason(federation: Federation):
    """Regressions the fuzz found: an id beyond SQLite's integers raised OverflowError in the handler
    (`v1:ca:99999999999999999999:j`, `/recall 99999999999999999999`); int() took " 7", "+7", "7_0" and
    "٧" for 7; data no capability knew (an old version's button, noise) went unanswered."""
    fed = federation
    a, kz = fed.place("a"), fed.place("kz")
    async with fed.m.store.db.read() as conn, conn.execute("SELECT id FROM calls WHERE status = 'active'") as cursor:
        active = [row[0] async for row in cursor]
    for who in ("a_admin", "a_member", "outsider"):
        for data in (f"v1:ca:{SQLITE_MAX + 1}:j", "v1:ca:99999999999999999999:a", f"v1:ca:+{active[0]}:j"):
            answer = await deliver(fed, await press(fed, a, who, data))
            assert answer["text"] == "This button is no longer valid.", (who, data, answer)
    for data in (f"v1:ca: {active[0]}:j", f"v1:ca:{active[0]}_0:j", "v1:dv:٣:1:agree", f"v1:st:{SQLITE_MAX}9:s", "0"):
        assert (await deliver(fed, await press(fed, a, "a_admin", data)))["text"] == "This button is no longer valid."
    for data in ("v0:ap:1:y", "v1:zz:1", "\u202ev1:ca:1:j", "v1:dx:99999999999999999999:1:a"):
        assert (await deliver(fed, await press(fed, kz, "kz_admin", data)))["text"]
    since = await fed.m.client.seq()
    await deliver(fed, say(fed, a, "a_member", "/recall 99999999999999999999"))
    assert "Send /recall N" in await answer_in(fed, a, since)
    since = await fed.m.client.seq()
    await deliver(fed, say(fed, kz, "kz_admin", "/merge 99999999999999999999 1"))
    assert "Write the two demands' numbers" in await answer_in(fed, kz, since)


@pytest.mark.asyncio(loop_scope="module")
async def test_an_answer_repeats_at_most_a_little_of_what_was_sent(federation: Federation):
    """Regressions the fuzz found: "Unknown status “…”" and "Unknown region “…”" repeated a 4,000-character
    argument whole, and the answer, over Telegram's 4,096 characters, failed with "message is too long"."""
    fed = federation
    a, b, g, kz = fed.place("a"), fed.place("b"), fed.place("g"), fed.place("kz")
    cases = (
        (a, "a_admin", "/status " + "x" * 4090, "Unknown status “" + "x" * 63 + "…”"),
        (a, "a_admin", "/status strike | " + "9" * 4080, "I cannot read the time “" + "9" * 63 + "…”"),
        (kz, "kz_admin", "/call " + "🏳️‍🌈" * 1000, "Unknown kind of call “" + ("🏳️‍🌈" * 16)[:63] + "…”"),
        (b, "b_admin", "/strike tomorrow 10:00 | gates | text | " + "y" * 3000, "Unknown region “" + "y" * 63 + "…”"),
        (b, "b_admin", "/strike " + "x" * 4000 + " | here | text", "I cannot read the time “" + "x" * 63 + "…”"),
        (g, "g_admin", "/register " + "Жаңаөзен" * 500, "Unknown region “" + ("Жаңаөзен" * 8)[:63] + "…”"),
        (g, "g_admin", "/register mangystau " + "k" * 4000, "Unknown kind “" + "k" * 63 + "…”"),
    )
    for place, who, text, expected in cases:
        since = await fed.m.client.seq()
        await deliver(fed, say(fed, place, who, text))
        assert expected in await answer_in(fed, place, since), text[:40]


@pytest.mark.asyncio(loop_scope="module")
async def test_commands_for_another_bot_are_left_to_it(federation: Federation):
    """`/cmd@OtherBot` in a group or channel is for that bot: no answer and no change, even from the chat's
    delegate, for every command the bot knows; `/cmd@<this bot>` is answered like `/cmd`."""
    fed = federation
    m = fed.m
    names = sorted({name.lower() for name in COMMANDS})
    for place_name, who in (("a", "a_admin"), ("kz", "kz_admin"), ("g", "g_admin"), ("c", "c_admin")):
        place = fed.place(place_name)
        before, since = await database(m), await m.client.seq()
        errors, logged = len(m.errors), len(fed.log)
        for name in names:  # all at once: one wait for the lot
            for bot in (OTHER_BOT, OTHER_BOT.lower()):
                hostile = say(fed, place, who, f"/{name}@{bot} mangystau workplace | tomorrow 10:00 | x | all")
                assert hostile.foreign and hostile.right is Role.NOBODY
                await m.client.inject(hostile.update, post=True)
        await settled(m)
        assert m.errors[errors:] == [] and fed.log[logged:] == []
        assert await m.client.messages(place.id, since=since) == [], place_name
        assert changes(before, await database(m)) == {}, place_name
    a = fed.place("a")
    for text in (f"/committee@{m.app.bot.username}", f"/committee@{m.app.bot.username.upper()}", "/committee"):
        since = await m.client.seq()
        await deliver(fed, say(fed, a, "a_member", text))
        assert "Committee: Zhanaozen oil workers" in await answer_in(fed, a, since), text


async def settled_buttons(fed: Federation) -> list[tuple[Place, str, str]]:
    """Buttons the set-up showed whose moment has passed, with the delegate who may press them in their chat:
    a sent, cancelled or discarded call's preview, a cancelled call's Update, Cancel and answers, an
    approval already given, a risen demand already adopted."""
    store = fed.m.store
    found = []
    shown = sent_buttons(await fed.m.client.sent())
    for name, who in (("a", "a_admin"), ("kz", "kz_admin"), ("mg", "mg_admin")):
        place = fed.place(name)
        async with store.db.read() as conn:
            for data in sorted(set(shown.get(place.id, []))):
                prefix, ids, _action = parse_button(data) or ("", [], "")
                if prefix in ("v1:cs:", "v1:cc:", "v1:ca:"):
                    status = (await store.calls.get(conn, ids[0])).status
                    done = status != "draft" if prefix == "v1:cs:" else status == "cancelled"
                elif prefix == "v1:ap:":
                    done = (await store.committees.get(conn, ids[0])).status is not Status.PENDING
                elif prefix == "v1:dx:":
                    done = (await store.programme.escalation(conn, ids[0], ids[1])).verdict != "pending"
                else:
                    done = False
                if done:
                    found.append((place, who, data))
    return found


@pytest.mark.asyncio(loop_scope="module")
async def test_buttons_pressed_again_after_the_fact_change_nothing(federation: Federation):
    """Replays by the very delegates who may press them: every button of the set-up whose moment has passed
    (see settled_buttons) is refused with a reason and changes nothing."""
    fed = federation
    replays = await settled_buttons(fed)
    prefixes = {data[:6] for _place, _who, data in replays}
    assert prefixes == {"v1:cs:", "v1:cc:", "v1:ca:", "v1:ap:", "v1:dx:"}, prefixes  # the set-up made them all
    for place, who, data in replays:
        hostile = await press(fed, place, who, data, under=await bot_message_with(fed, place, data))
        assert hostile.role is Role.DELEGATE
        hostile.right = Role.NOBODY  # their own chat's buttons, with nothing left to do by them
        await deliver(fed, hostile)


@pytest.mark.asyncio(loop_scope="module")
async def test_a_double_tap_is_no_error(federation: Federation):
    """Regression the fuzz found: a button pressed twice before its message changed (a double tap, or a
    replay) asked Telegram to make the same edit again, which it refuses as "message is not modified"; the
    handler raised. Both presses are answered, and what the first did is not done twice."""
    fed = federation
    m = fed.m
    async with m.store.db.read() as conn:
        committee = await m.store.committees.by_chat(conn, fed.place("a").id)
        council = await m.store.councils.by_chat(conn, fed.place("kz").id)
        async with conn.execute(
            "SELECT id FROM calls WHERE status = 'active' AND issuer_committee_id IS NOT NULL"
        ) as rows:
            active = (await rows.fetchone())[0]
        async with conn.execute("SELECT id FROM calls WHERE status = 'draft'") as rows:
            draft = (await rows.fetchone())[0]
    taps = (
        ("a", "a_admin", f"v1:wp:{committee.id}:n"),  # Cancel under the wipe question
        ("kz", "kz_admin", f"v1:pn:{council.id}:n"),  # Cancel under the panic question
        ("a", "a_admin", f"v1:cc:{active}:keep"),  # No, keep it
        ("g", "g_admin", "v1:rg:r:karaganda"),  # a region in registration
        ("a", "a_admin", f"v1:cs:{draft}:s:region"),  # a preview's scope
        ("@outsider", "outsider", "v1:lang:kk"),  # a language in a private chat
    )
    for name, who, data in taps:
        place = fed.place(name)
        under = await bot_message_with(fed, place, data) if not data.startswith("v1:cc:") else None
        if under is None:  # Keep is asked for under a confirmation: ask for one
            since = await m.client.seq()
            tally = await bot_message_with(fed, place, f"v1:cc:{active}:cancel")
            await deliver(fed, await press(fed, place, who, f"v1:cc:{active}:cancel", under=tally))
            under = await with_button(m, place.id, "No, keep it", since)
        first, second = await press(fed, place, who, data, under), await press(fed, place, who, data, under)
        errors, logged = len(m.errors), len(fed.log)
        await m.client.inject(first.update)
        await m.client.inject(second.update)
        await settled(m)
        assert m.errors[errors:] == [] and fed.log[logged:] == [], (data, m.errors[errors:])
        for hostile in (first, second):
            assert await m.client.callback_answer(hostile.query) is not None, data
    async with m.store.db.read() as conn:
        assert (await m.store.calls.get(conn, active)).status == "active"
        assert await m.store.committees.by_chat(conn, fed.place("a").id) is not None


@pytest.mark.asyncio(loop_scope="module")
async def test_a_handler_that_fails_midway_writes_nothing(federation: Federation, monkeypatch: pytest.MonkeyPatch):
    """No partial writes: sending a call writes the call, its tallies, one outbox row per committee and the
    deliveries in one transaction. When the last of those writes fails, the error reaches the error handler,
    the delegate is told that nothing was changed, and nothing was: every table is as before. Pressed again
    once the fault is gone, the call goes out whole."""
    fed = federation
    m, a = fed.m, fed.place("a")
    since = await m.client.seq()
    await deliver(fed, say(fed, a, "a_admin", "/strike tomorrow 16:00 | at the gates | All or nothing | here"))
    preview = await with_button(m, a.id, "Send", since)
    before = await database(m)
    errors, logged = len(m.errors), len(fed.log)

    async def disk_fails(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the disk failed")

    with monkeypatch.context() as patch:
        patch.setattr(m.store.calls, "add_deliveries", disk_fails)
        query = await m.client.press(a.id, fed.people["a_admin"]["id"], preview["message_id"], button(preview, "Send"))
        answer = await m.answer_to(query)
        await settled(m)
    assert answer["text"] == "Something went wrong on my side; nothing was changed. Please try again later."
    assert [type(error) for error in m.errors[errors:]] == [RuntimeError]
    assert [record.getMessage() for record in fed.log[logged:]] == [
        f"error handling update {m.server.world.next_update_id - 1} (callback_query): RuntimeError"
    ]
    del m.errors[errors:], fed.log[logged:]  # the fault this test made, not one the bot has
    assert changes(before, await database(m)) == {}
    answer = await m.press_data(a.id, fed.people["a_admin"], preview["message_id"], button(preview, "Send"))
    assert answer["text"] == "Sent.", answer
    await settled(m)
    assert set(changes(before, await database(m))) >= {"calls", "call_tallies", "call_deliveries", "outbox"}


@pytest.mark.asyncio(loop_scope="module")
async def test_a_listing_longer_than_a_message_comes_in_several(federation: Federation):
    """Regression: a member who puts nine demands of 480 characters forward made /demands longer than
    Telegram's 4,096 characters, and from then on it failed for the whole committee with "message is too
    long". Now the list comes in as many messages as it needs, its buttons under the last."""
    fed = federation
    m, b = fed.m, fed.place("b")
    for n in range(9):
        await deliver(fed, say(fed, b, "b_member", f"/demand {n} " + "Жаңаөзен " * 53))
    since = await m.client.seq()
    await deliver(fed, say(fed, b, "b_member", "/demands"))
    parts = await m.client.messages(b.id, since=since)
    assert len(parts) >= 2 and all(len(part["text"].encode("utf-16-le")) <= 2 * 4096 for part in parts)
    assert parts[0]["text"].startswith("Demands of this committee:") and button(parts[-1], "to the assembly")


@pytest.mark.asyncio(loop_scope="module")
async def test_a_command_deleted_before_its_answer_is_still_answered(federation: Federation):
    """Regression: a command sent in a group and deleted at once made the quoting answer fail ("message to
    be replied not found"): an error for the error handler, and one report to the operator's chat for each
    such command, a cheap way to flood it. Now the answer goes without the quote."""
    fed = federation
    m, a = fed.m, fed.place("a")
    since, errors, logged = await m.client.seq(), len(m.errors), len(fed.log)
    gone = say(fed, a, "a_member", "/committee").update
    gone["message"]["message_id"] = 999_999  # not posted: the chat has it no more
    await m.client.inject(gone)
    await settled(m)
    assert m.errors[errors:] == [] and fed.log[logged:] == []
    [answer] = await m.client.messages(a.id, since=since)
    assert "Committee: Zhanaozen oil workers" in answer["text"] and "reply_to_message_id" not in answer
