"""Who may do what: every command and button against every role, through the real bot.

`ROWS` mirrors the table "Who may do what" in docs/security.md, cell for cell: a test below parses
the document and fails when the two differ, and another fails when the bot registers a command or
a button the table does not list. Every cell that is not n/a is acted out in the sandbox:

* each role is a person standing in a fresh scene (`Scene`): a committee's group with its admin,
  an elected delegate, a plain member and a council delegate among its members, and the
  coordinating council's chat (moved to a fresh chat for each scene) with its admin and the
  others as plain members; the outsider is in neither;
* a refused cell must answer with the refusal's exact text, and a row's refused cells together
  must leave every table as it was (`Movement.rows()`, compared once every update is handled and
  the outbox is empty);
* an allowed cell must do its work, each in a scene of its own, as its answer shows.

Fresh chats keep the scenes apart, and one bot serves the whole module (its pace in a chat
quickened, see `world`), so the file runs in under a minute.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot import call_messages, escalation, pacing
from bot.app import build_application
from bot.cli import main as cli_main
from bot.credentials import Credentials
from bot.sandbox import SandboxClient, SandboxServer
from bot.sandbox.wire import Member
from bot.strike_status import record_status
from domain.calls import Scope, ScopeKind
from domain.codes import new_call_code
from domain.committees import Status
from domain.delegates import DAY_S
from domain.spread import StrikeStatus
from tests.conftest import make_config
from tests.movement import SECRET_KEY, Movement

SECURITY = Path(__file__).resolve().parent.parent / "docs" / "security.md"
ROLES = ("outsider", "member", "admin", "elected", "council", "operator")
HEADINGS = (
    "outsider",
    "member",
    "committee delegate: group admin",
    "committee delegate: elected",
    "council delegate",
    "operator",
)
PEOPLE = ROLES[:-1]  # the operator has no account in any chat
QUIET_S = 0.1
CONFIG = {
    # A demand endorsed by one committee reaches the coordinating council at once.
    "demands": {"council_committees": 1, "coordinating_committees": 1, "coordinating_regions": 1},
}
STRIKE = "/strike tomorrow 10:00 | at the gates | We stop work until wages rise | here"
COUNCIL_CALL = "/call strike tomorrow 10:00 | every workplace | General strike | turkistan"

# The refusals a refused cell answers with, and why a cell is n/a (the legends under the table).
REFUSALS = {
    "R1": "Only an admin of this group can register it as a committee.",
    "R2": "Only delegates (the admins of this chat) can issue calls.",
    "R3": "Only delegates (the admins of this chat) can change a call.",
    "R4": "Only the committee's delegates can answer for it; any member can put the call to the assembly.",
    "R5": "Only the members of this committee can put something to its assembly.",
    "R6": "Only the committee's delegates report its strike status.",
    "R7": "Only delegates (the admins of this group) can make the private link.",
    "R8": "Only the members of the committee deciding this can vote on it.",
    "R9": "Only the committee's delegates can open a new round.",
    "R10": "Only an admin of this group can change its settings.",
    "R11": "Only the committee's delegates can put its way of deciding to the assembly.",
    "R12": "Only an admin of this chat can link it as a council.",
    "R13": "Only the council's delegates (the admins of this chat) can decide.",
    "R14": "Only the council's delegates (the admins of this chat) decide on demands.",
    "R15": "Only the committee's delegates can wipe its data.",
    "R16": "Only the coordinating council's delegates (the admins of this chat) can wipe everything.",
    "R17": "Only the council's delegates (the admins of this chat) can read the audit log.",
}
NOT_APPLICABLE = ("N1", "N2", "N3", "N4")
OK = "allowed"


# -- the scene ---------------------------------------------------------------------------------

SCENES = itertools.count(1)


@dataclass
class Scene:
    """One committee and the coordinating council, with a person in each role (see the module doc)."""

    m: Movement
    n: int
    people: dict[str, dict]
    committee: int  # the committee's group
    committee_id: int
    council: int  # the coordinating council's chat, linked for this scene
    chats: list[int] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)

    def now(self) -> int:
        return int(self.m.app.bot_data["clock"].time())


async def new_scene(m: Movement, region: str = "mangystau") -> Scene:
    n = next(SCENES)
    people = {role: await m.person(f"{role.title()} {n}") for role in PEOPLE}
    committee = await group(m, f"Committee {n}", people, "admin", ("member", "elected", "council"))
    council = await group(m, f"Council {n}", people, "council", ("member", "admin", "elected"))
    store = m.store
    now = int(m.app.bot_data["clock"].time())
    async with store.db.transaction() as tx:
        registered = await store.committees.register(
            tx,
            chat_id=committee,
            name=f"Committee {n}",
            region=region,
            kind="workplace",
            registered_by=people["admin"]["id"],
            now=now,
        )
        await store.committees.set_status(tx, registered.id, Status.ACTIVE, decided_by=people["council"]["id"], now=now)
        await store.delegates.elect(
            tx,
            committee_id=registered.id,
            holder=store.delegates.pseudonym(people["elected"]["id"]),
            mandate="Speak for the assembly",
            starts_at=now,
            ends_at=now + 90 * DAY_S,
            decision_id=None,
        )
        await store.councils.link(
            tx, region="kz", chat_id=council, chat_type="supergroup", linked_by=people["council"]["id"], now=now
        )
    return Scene(m, n, people, committee, registered.id, council, chats=[committee, council])


async def group(m: Movement, title: str, people: dict[str, dict], creator: str, members: tuple[str, ...]) -> int:
    chat = (await m.client.create_group(title, people[creator]["id"], supergroup=True, announce=False))["id"]
    for role in members:
        await m.client.set_member(chat, people[role]["id"], "member")
    return chat


async def fresh_group(s: Scene) -> int:
    """A group that is no committee yet, its admin the scene's; the others (not the outsider) members."""
    chat = await group(s.m, f"New group {s.n}", s.people, "admin", ("member", "elected", "council"))
    s.chats.append(chat)
    return chat


async def wind_up(m: Movement, scenes: list[Scene]) -> None:
    """A row's scenes leave the movement: their committees stop being active and their offices end,
    so later rows' calls, lists and digests see only their own."""
    now = int(m.app.bot_data["clock"].time())
    async with m.store.db.transaction() as tx:
        for scene in scenes:
            for chat in scene.chats:
                committee = await m.store.committees.by_chat(tx, chat)
                if committee is None:
                    continue
                for office in await m.store.delegates.of_committee(tx, committee.id):
                    await m.store.delegates.recall(tx, office.id, now=now)
                await m.store.committees.set_status(tx, committee.id, Status.SUSPENDED, decided_by=0, now=now)


# -- acting -----------------------------------------------------------------------------------


def text_of(message: dict) -> str:
    return message.get("text") or message.get("caption") or ""


async def say(s: Scene, role: str, chat: int, text: str, reply_to: int | None = None) -> str:
    """`role` writes in a chat (their private chat: pass their id); the bot's answer there: the first
    message it sends after it, not an edit of an earlier one (a call's copy, a tally)."""
    since = await s.m.client.seq()
    await s.m.client.send(chat, s.people[role]["id"], text, reply_to=reply_to)
    cursor = since
    while True:
        for message in await s.m.client.wait_for(chat, cursor, timeout=20):
            if message["sent_seq"] > since:
                return text_of(message)
            cursor = max(cursor, message["seq"])


async def privately(s: Scene, role: str, text: str) -> str:
    return await say(s, role, s.people[role]["id"], text)


def button_data(message: dict, contains: str) -> str:
    for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
        for key in row:
            if contains in key["text"]:
                return key["callback_data"]
    raise AssertionError(f"no button with {contains!r} in {message.get('reply_markup')}")


async def press_from_outside(m: Movement, chat_id: int, user: dict, message_id: int, data: str) -> dict:
    """Someone outside a chat presses a button under one of its messages. Telegram allows it in a
    public group or channel, which anyone can open and read; the sandbox's control API refuses it,
    as Telegram does for private chats, so the press is made in the sandbox's world directly, the
    person counted present for that instant only (nothing is awaited in between)."""
    world = m.server.world
    chat = world.live_chat(chat_id)
    standing = chat.members.get(user["id"])
    assert standing is None or standing.status in ("left", "kicked"), "they are in the chat"
    chat.members[user["id"]] = Member(status="member")
    try:
        record = world.press(chat_id, message_id, user["id"], data)
    finally:
        if standing is None:
            del chat.members[user["id"]]
        else:
            chat.members[user["id"]] = standing
    return await m.answer_to(record.id)


async def tap_data(s: Scene, role: str, chat: int, message_id: int, data: str, then: str | None = None) -> str:
    """`role` presses a button with `data`: the bot's answer to the press, or for a press answered
    without words, the message with `then` that it brings to the chat ("" if none is awaited)."""
    since = await s.m.client.seq()
    if role == "outsider" and chat < 0:  # (in their own private chat they are no outsider)
        answer = await press_from_outside(s.m, chat, s.people[role], message_id, data)
    else:
        answer = await s.m.press_data(chat, s.people[role], message_id, data)
    if answer.get("text") or then is None:
        return answer.get("text") or ""
    return text_of(await s.m.client.wait_for_text(chat, then, since=since, timeout=20))


async def tap(s: Scene, role: str, chat: int, message: dict, label: str, then: str | None = None) -> str:
    return await tap_data(s, role, chat, message["message_id"], button_data(message, label), then)


async def with_button(s: Scene, chat: int, label: str, since: int) -> dict:
    """The first message after `since` with a button whose text has `label`."""
    cursor = since
    while True:
        for message in await s.m.client.wait_for(chat, cursor, timeout=20):
            cursor = max(cursor, message["seq"])
            if any(
                label in key["text"]
                for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
                for key in row
            ):
                return message


async def asked(s: Scene, role: str, chat: int, text: str, label: str) -> dict:
    """`role` sends a command whose answer (the first with a `label` button) is kept for a row's presses."""
    since = await s.m.client.seq()
    await s.m.client.send(chat, s.people[role]["id"], text)
    return await with_button(s, chat, label, since)


async def issued(s: Scene, chat: int, by: str, command: str) -> None:
    """A call sent from `chat` (the committee's, to itself; or the council's): notes its copy and tally."""
    since = await s.m.client.seq()
    await s.m.call(chat, s.people[by], command)
    s.notes["tally"] = await with_button(s, chat, "Cancel the call", since)
    if chat == s.committee:
        s.notes["copy"] = await with_button(s, chat, "We join", since)


def unique(what: str) -> str:
    return f"{what} {secrets.token_hex(6)}"


async def escalated(s: Scene) -> int:
    """A demand of the scene's committee, endorsed, risen to the coordinating council: its number
    (the council's message with its buttons noted). Written straight to the store: setup."""
    m = s.m
    since = await m.client.seq()
    async with m.store.db.transaction() as tx:
        demand = await m.store.demands.add(
            tx,
            committee_id=s.committee_id,
            text=unique("Demand"),
            via="group",
            submitted_by=s.people["member"]["id"],
            now=s.now(),
        )
        await m.store.demands.endorse(tx, demand.id, s.committee_id, now=s.now())
        await escalation.support_changed(tx, m.store, m.config, demand.id, now=s.now())
    m.app.bot_data["outbox"].wake()
    while True:
        message = await with_button(s, s.council, "Adopt", since)
        if re.search(rf"#{demand.id}\b", text_of(message)):
            s.notes.setdefault("risen", {})[demand.id] = message
            return demand.id
        since = message["seq"]


# -- what each row does, as a role --------------------------------------------------------------
#
# A row's `setup` prepares its scene (as the scene's admin or council delegate, or in the store);
# `act` does the row's action as a role and returns the bot's answer.

Act = Callable[[Scene, str], Awaitable[str]]
Setup = Callable[[Scene], Awaitable[None]]


async def nothing(s: Scene) -> None:
    return None


async def demand_link(s: Scene) -> None:
    answer = await say(s, "admin", s.committee, "/demand link")
    s.notes["link"] = re.search(r"\?start=(d_[\w-]+)", answer).group(1)


async def private_demand(s: Scene, role: str) -> str:
    await privately(s, role, f"/start {s.notes['link']}")
    return await privately(s, role, unique("A demand sent privately"))


async def private_settings(s: Scene, role: str) -> str:
    since = await s.m.client.seq()
    await s.m.client.send(s.people[role]["id"], s.people[role]["id"], "/settings")
    choice = await with_button(s, s.people[role]["id"], "English", since)
    return await tap(s, role, s.people[role]["id"], choice, "English", then="From now on I speak")


async def a_call_in_the_store(s: Scene) -> None:
    """A sent call of the committee (only its code matters to /verify)."""
    code = new_call_code()
    async with s.m.store.db.transaction() as tx:
        draft = await s.m.store.calls.create_draft(
            tx,
            code=code,
            kind="strike",
            scope=Scope(ScopeKind.COMMITTEE).encode(),
            issuer_region="mangystau",
            issuer_committee_id=s.committee_id,
            issuer_council_id=None,
            starts_at=s.now() + DAY_S,
            place="at the gates",
            text="We stop work",
            created_by=s.people["admin"]["id"],
            now=s.now(),
        )
        await s.m.store.calls.activate(tx, draft.id, now=s.now())
    s.notes["code"] = code


async def registration_question(s: Scene) -> None:
    s.notes["group"] = await fresh_group(s)
    s.notes["question"] = await asked(s, "admin", s.notes["group"], "/register", "Mangystau")


async def name_prompt(s: Scene) -> None:
    s.notes["group"] = await fresh_group(s)
    prompt = await s.m.say(s.notes["group"], s.people["admin"], "/register mangystau workplace")
    s.notes["prompt"] = prompt["message_id"]


async def register(s: Scene, role: str) -> str:
    # An elected delegate is one of a registered committee: they try in theirs.
    chat = s.committee if role == "elected" else await fresh_group(s)
    return await say(s, role, chat, "/register mangystau workplace Port workers")


async def committee_preview(s: Scene) -> None:
    s.notes["preview"] = await asked(s, "admin", s.committee, STRIKE, "Send")


async def committee_call(s: Scene) -> None:
    await issued(s, s.committee, "admin", STRIKE)


async def cancel(s: Scene, role: str, chat: int) -> str:
    """Cancel the noted call: the button, then the confirmation if the first press is taken."""
    since = await s.m.client.seq()
    answer = await tap(s, role, chat, s.notes["tally"], "Cancel the call")
    if answer:
        return answer
    confirm = await with_button(s, chat, "Yes, cancel it", since)
    return await tap(s, role, chat, confirm, "Yes, cancel it")


async def update_prompt(s: Scene) -> None:
    await committee_call(s)
    since = await s.m.client.seq()
    await tap(s, "admin", s.committee, s.notes["tally"], "Update")
    prompt = await s.m.client.wait_for_text(s.committee, "Reply to this message with the new", since=since, timeout=20)
    s.notes["prompt"] = prompt["message_id"]


async def headcount_prompt(s: Scene) -> None:
    await committee_call(s)
    since = await s.m.client.seq()
    await tap(s, "admin", s.committee, s.notes["copy"], "head count")
    prompt = await s.m.client.wait_for_text(s.committee, "How many people take part", since=since, timeout=20)
    s.notes["prompt"] = prompt["message_id"]


async def status_buttons(s: Scene) -> None:
    s.notes["status"] = await asked(s, "admin", s.committee, "/status", "On strike")


async def demand_list(s: Scene) -> None:
    async with s.m.store.db.transaction() as tx:
        await s.m.store.demands.add(
            tx,
            committee_id=s.committee_id,
            text=unique("A demand"),
            via="group",
            submitted_by=s.people["member"]["id"],
            now=s.now(),
        )
    s.notes["list"] = await asked(s, "admin", s.committee, "/demands", "to the assembly")


async def proposal(s: Scene) -> None:
    s.notes["proposal"] = await asked(s, "admin", s.committee, "/propose Meet at the gates at dawn", "Agree")


async def blocked_proposal(s: Scene) -> None:
    await proposal(s)
    decision_id = int(re.search(r"Proposal #(\d+)", text_of(s.notes["proposal"])).group(1))
    async with s.m.store.db.transaction() as tx:
        assert await s.m.store.decisions.close(tx, decision_id, "blocked", now=s.now())
    s.notes["round"] = f"v1:dr:{decision_id}"


async def members_message(s: Scene) -> None:
    """A message of the member's (the bot does not see it: privacy mode), to answer with /elect."""
    s.notes["message"] = (await s.m.client.send(s.committee, s.people["member"]["id"], "I can speak for us"))[
        "message_id"
    ]


async def settings_messages(s: Scene) -> None:
    since = await s.m.client.seq()
    await s.m.client.send(s.committee, s.people["admin"]["id"], "/settings")
    s.notes["languages"] = await with_button(s, s.committee, "English", since)
    s.notes["rules"] = await with_button(s, s.committee, "majority", since)


async def wipe_question(s: Scene) -> None:
    s.notes["question"] = await asked(s, "admin", s.committee, "/wipe", "Wipe")


async def panic_question(s: Scene) -> None:
    s.notes["question"] = await asked(s, "council", s.council, "/panic", "Destroy everything")


async def council_codes(s: Scene) -> None:
    s.notes["codes"] = {role: await s.m.code("kz") for role in PEOPLE}


async def waiting_committee(s: Scene) -> None:
    """One committee waiting for the council's decision (any left by earlier rows decided first)."""
    m = s.m
    chat = await fresh_group(s)
    async with m.store.db.transaction() as tx:
        for waiting in await m.store.committees.pending_in(tx, list(m.config.federation.regions)):
            await m.store.committees.set_status(tx, waiting.id, Status.REJECTED, decided_by=0, now=s.now())
        await m.store.committees.register(
            tx,
            chat_id=chat,
            name=f"Waiting committee {s.n}",
            region="mangystau",
            kind="workplace",
            registered_by=s.people["admin"]["id"],
            now=s.now(),
        )


async def approval_request(s: Scene) -> None:
    await waiting_committee(s)
    s.notes["request"] = await asked(s, "council", s.council, "/approve", "Approve")


async def council_preview(s: Scene) -> None:
    s.notes["preview"] = await asked(s, "council", s.council, COUNCIL_CALL, "Send")


async def council_call(s: Scene) -> None:
    await issued(s, s.council, "council", COUNCIL_CALL)


async def risen_demand(s: Scene) -> None:
    s.notes["demand"] = await escalated(s)


async def two_risen_demands(s: Scene) -> None:
    s.notes["demands"] = (await escalated(s), await escalated(s))


async def programme_buttons(s: Scene) -> None:
    demand_id = await escalated(s)
    async with s.m.store.db.transaction() as tx:
        demand = await s.m.store.demands.get(tx, demand_id)
        council = await s.m.store.councils.by_chat(tx, s.council)
        assert await escalation.decide(
            tx, s.m.store, s.m.config, demand, council, "adopted", by="a council delegate", now=s.now()
        )
    await s.m.drained()
    s.notes["demand"] = demand_id
    s.notes["programme"] = await asked(s, "council", s.council, "/programme", f"#{demand_id} won")


APPEALS = itertools.count(1)


async def solidarity_appeal(s: Scene) -> None:
    """The scene's committee (in Kyzylorda) on strike, at a moment no other there was (earlier for each
    scene), so the council responsible for the region is asked to appeal to Turkistan's committee."""
    since = await s.m.client.seq()
    async with s.m.store.db.transaction() as tx:
        appeal = await record_status(
            tx,
            s.m.store,
            s.m.config,
            s.committee_id,
            "kyzylorda",
            StrikeStatus.ON_STRIKE,
            since=s.now() - 3600 * next(APPEALS),
            by=s.people["admin"]["id"],
            now=s.now(),
        )
    assert appeal is not None
    s.m.app.bot_data["outbox"].wake()
    s.notes["appeal"] = await with_button(s, s.council, "Send the appeal", since)


def in_committee(text: str) -> Act:
    async def act(s: Scene, role: str) -> str:
        return await say(s, role, s.committee, text)

    return act


def in_council(text: str) -> Act:
    async def act(s: Scene, role: str) -> str:
        return await say(s, role, s.council, text)

    return act


def in_private(text: str) -> Act:
    async def act(s: Scene, role: str) -> str:
        return await privately(s, role, text)

    return act


def pressing(note: str, label: str, chat: str = "committee", then: str | None = None) -> Act:
    async def act(s: Scene, role: str) -> str:
        return await tap(s, role, getattr(s, chat), s.notes[note], label, then)

    return act


def replying(text: str, chat: str = "committee") -> Act:
    """A reply to the prompt the row's setup noted."""

    async def act(s: Scene, role: str) -> str:
        where = s.notes.get("group") if chat == "group" else s.committee
        return await say(s, role, where, text, reply_to=s.notes["prompt"])

    return act


def answering_members_message(text: str) -> Act:
    async def act(s: Scene, role: str) -> str:
        return await say(s, role, s.committee, text, reply_to=s.notes["message"])

    return act


async def verify(s: Scene, role: str) -> str:
    return await privately(s, role, f"/verify {s.notes['code']}")


async def start_again_with_code(s: Scene, role: str) -> str:
    return await say(s, role, s.council, f"/council {s.notes['codes'][role]}")


async def new_round(s: Scene, role: str) -> str:
    return await tap_data(s, role, s.committee, s.notes["proposal"]["message_id"], s.notes["round"])


async def merge_pressed(s: Scene, role: str) -> str:
    first, second = s.notes["demands"]
    message = s.notes["risen"][first]
    return await tap_data(s, role, s.council, message["message_id"], f"v1:dm:{first}:{second}")


async def merge_command(s: Scene, role: str) -> str:
    first, second = s.notes["demands"]
    return await say(s, role, s.council, f"/merge {first} {second}")


async def adopt(s: Scene, role: str) -> str:
    return await tap(s, role, s.council, s.notes["risen"][s.notes["demand"]], "Adopt")


async def mark_won(s: Scene, role: str) -> str:
    return await tap(s, role, s.council, s.notes["programme"], f"#{s.notes['demand']} won")


async def cancel_in_committee(s: Scene, role: str) -> str:
    return await cancel(s, role, s.committee)


async def cancel_in_council(s: Scene, role: str) -> str:
    return await cancel(s, role, s.council)


async def in_fresh_group_reply(s: Scene, role: str) -> str:
    return await say(s, role, s.notes["group"], "Port workers", reply_to=s.notes["prompt"])


# -- the table --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    what: str  # the doc table's first column, exactly
    chat: str  # its second column
    cells: tuple[str, ...]  # outsider, member, admin, elected, council: "allowed", "R…" or "N…"
    act: Act
    done: tuple[str, ...]  # an allowed act's answer has one of these
    setup: Setup = nothing
    region: str = "mangystau"  # the scene's committee's

    @property
    def outcomes(self) -> dict[str, str]:
        return dict(zip(ROLES, (*self.cells, "N3"), strict=True))

    @property
    def id(self) -> str:
        return f"{self.what} ({self.chat})"


def cells(text: str) -> tuple[str, ...]:
    """Five cells, outsider to council delegate: "ok", "R1"…, "N1"…; the operator's is always N3."""
    parsed = tuple(OK if word == "ok" else word for word in text.split())
    assert len(parsed) == 5, text
    return parsed


PREVIEW = ("Preview: nothing has been sent yet.",)
PROPOSAL = ("🗳 Proposal #",)
ASSEMBLY = ("Put to the assembly.",)

ROWS = (
    # A private chat: everyone has one with the bot.
    Row("`/start`", "private", cells("ok ok ok ok ok"), in_private("/start"), ("How to stay safe",)),
    Row(
        "`/start d_…`, then the demand",
        "private",
        cells("ok ok ok ok ok"),
        private_demand,
        ("is posted in the committee's group, without your name",),
        demand_link,
    ),
    Row("`/help`", "private", cells("ok ok ok ok ok"), in_private("/help"), ("In a private chat with me:",)),
    Row(
        "`/settings`, language buttons `v1:lang:`",
        "private",
        cells("ok ok ok ok ok"),
        private_settings,
        ("From now on I speak English",),
    ),
    Row(
        "`/verify CODE`",
        "private",
        cells("ok ok ok ok ok"),
        verify,
        ("✅ Genuine",),
        a_call_in_the_store,
    ),
    # A group that is not a committee yet.
    Row("`/register`", "group", cells("N1 R1 ok R1 R1"), register, ("Your request has gone to",)),
    Row(
        "registration buttons `v1:rg:`",
        "group",
        cells("R1 R1 ok N2 R1"),
        lambda s, role: tap(s, role, s.notes["group"], s.notes["question"], "Mangystau", then="What kind"),
        ("What kind of committee is it?",),
        registration_question,
    ),
    Row(
        "reply to the name prompt of `/register`",
        "group",
        cells("N1 R1 ok N2 R1"),
        in_fresh_group_reply,
        ("Your request has gone to",),
        name_prompt,
    ),
    # A committee's group.
    Row("`/help`", "committee", cells("N1 ok ok ok ok"), in_committee("/help"), ("In a private chat with me:",)),
    Row(
        "`/verify`",
        "committee",
        cells("N1 ok ok ok ok"),
        in_committee("/verify ABCDE-FGHJK"),
        ("Send /verify CODE to me in a private chat.",),
    ),
    Row("`/committee`", "committee", cells("N1 ok ok ok ok"), in_committee("/committee"), ("Committee: ",)),
    Row("`/strike`", "committee", cells("N1 R2 ok ok R2"), in_committee(STRIKE), PREVIEW),
    Row(
        "`/rally`",
        "committee",
        cells("N1 R2 ok ok R2"),
        in_committee("/rally tomorrow 11:00 | Central square | Rally for the wage rise | here"),
        PREVIEW,
    ),
    Row(
        "preview buttons `v1:cs:`",
        "committee",
        cells("R2 R2 ok ok R2"),
        pressing("preview", "Send"),
        ("Sent.",),
        committee_preview,
    ),
    Row(
        "`/calls`",
        "committee",
        cells("N1 ok ok ok ok"),
        in_committee("/calls"),
        ("No call is active here.", "Calls issued here:"),
    ),
    Row(
        "call buttons `v1:cc:`",
        "committee",
        cells("R3 R3 ok ok R3"),
        cancel_in_committee,
        ("Cancelled.",),
        committee_call,
    ),
    Row(
        "reply to a call's update prompt",
        "committee",
        cells("N1 R3 ok ok R3"),
        replying("- | - | We stop work until wages rise by half"),
        ("updated",),
        update_prompt,
    ),
    Row(
        "answer buttons `v1:ca:`",
        "committee",
        cells("R4 R4 ok ok R4"),
        pressing("copy", "We join"),
        ("Recorded: your committee joins.",),
        committee_call,
    ),
    Row(
        "reply to the head count prompt",
        "committee",
        cells("N1 R4 ok ok R4"),
        replying("120"),
        ("Recorded: 120 people take part.",),
        headcount_prompt,
    ),
    Row(
        "put to the assembly `v1:ca:…:a`",
        "committee",
        cells("R5 ok ok ok ok"),
        pressing("copy", "Put to the assembly"),
        ASSEMBLY,
        committee_call,
    ),
    Row(
        "`/status`",
        "committee",
        cells("N1 ok ok ok ok"),
        in_committee("/status"),
        ("Delegates can report a change",),
    ),
    Row(
        "`/status strike`, `work`, `suppressed`",
        "committee",
        cells("N1 R6 ok ok R6"),
        in_committee("/status strike"),
        ("Recorded: this committee is on strike",),
    ),
    Row(
        "status buttons `v1:st:`",
        "committee",
        cells("R6 R6 ok ok R6"),
        pressing("status", "On strike"),
        ("Recorded.",),
        status_buttons,
    ),
    Row(
        "`/demand TEXT`",
        "committee",
        cells("N1 ok ok ok ok"),
        lambda s, role: say(s, role, s.committee, "/demand " + unique("A demand")),
        ("is recorded",),
    ),
    Row(
        "`/demand link`",
        "committee",
        cells("N1 R7 ok ok R7"),
        in_committee("/demand link"),
        ("Members can put demands forward privately",),
    ),
    Row(
        "`/demands`",
        "committee",
        cells("N1 ok ok ok ok"),
        in_committee("/demands"),
        ("No demands yet.", "Demands of this committee:"),
    ),
    Row(
        "put a demand to the assembly `v1:de:`",
        "committee",
        cells("R5 ok ok ok ok"),
        pressing("list", "to the assembly"),
        ASSEMBLY,
        demand_list,
    ),
    Row("`/propose TEXT`", "committee", cells("N1 ok ok ok ok"), in_committee("/propose Meet at dawn"), PROPOSAL),
    Row(
        "vote buttons `v1:dv:`",
        "committee",
        cells("R8 ok ok ok ok"),
        pressing("proposal", "Agree"),
        ("Your voice: agree.",),
        proposal,
    ),
    Row(
        "new round `v1:dr:`",
        "committee",
        cells("R9 R9 ok ok R9"),
        new_round,
        ("New round opened.",),
        blocked_proposal,
    ),
    Row(
        "`/elect`",
        "committee",
        cells("N1 ok ok ok ok"),
        answering_members_message("/elect 90 | Negotiate the wage rise"),
        PROPOSAL,
        members_message,
    ),
    Row(
        "`/alternate N`",
        "committee",
        cells("N1 ok ok ok ok"),
        answering_members_message("/alternate 1"),
        PROPOSAL,
        members_message,
    ),
    Row("`/recall N`", "committee", cells("N1 ok ok ok ok"), in_committee("/recall 1"), PROPOSAL),
    Row(
        "`/delegates`",
        "committee",
        cells("N1 ok ok ok ok"),
        in_committee("/delegates"),
        ("Delegates of this committee",),
    ),
    Row(
        "`/settings`",
        "committee",
        cells("N1 R10 ok ok R10"),
        in_committee("/settings"),
        ("Which language should I use in this chat?", "How does this committee's assembly decide?"),
    ),
    Row(
        "language buttons `v1:lang:`",
        "committee",
        cells("R10 R10 ok R10 R10"),
        pressing("languages", "English", then="From now on I speak"),
        ("From now on I speak English",),
        settings_messages,
    ),
    Row(
        "rule buttons `v1:rule:`",
        "committee",
        cells("R11 R11 ok ok R11"),
        pressing("rules", "majority"),
        ASSEMBLY,
        settings_messages,
    ),
    Row(
        "fallback buttons `v1:fb:`",
        "committee",
        cells("R11 R11 ok ok R11"),
        pressing("rules", "Fallback after 2"),
        ASSEMBLY,
        settings_messages,
    ),
    Row(
        "`/wipe`",
        "committee",
        cells("N1 R15 ok ok R15"),
        in_committee("/wipe"),
        ("Wipe the committee",),
    ),
    Row(
        "wipe buttons `v1:wp:`",
        "committee",
        cells("R15 R15 ok ok R15"),
        pressing("question", "Wipe"),
        ("Wiped.",),
        wipe_question,
    ),
    Row(
        "`/programme`",
        "committee",
        cells("N1 ok ok ok ok"),
        in_committee("/programme"),
        ("The common programme is empty", "The common programme:"),
    ),
    # The coordinating council's chat.
    Row(
        "`/council CODE`",
        "council",
        cells("N1 R12 R12 R12 ok"),
        start_again_with_code,
        ("This chat is now the",),
        council_codes,
    ),
    Row(
        "`/approve`",
        "council",
        cells("N1 ok ok ok ok"),
        in_council("/approve"),
        ("A new committee asks to join",),
        waiting_committee,
    ),
    Row(
        "approval buttons `v1:ap:`",
        "council",
        cells("R13 R13 R13 R13 ok"),
        pressing("request", "Approve", chat="council"),
        ("Approved.",),
        approval_request,
    ),
    Row("`/call`", "council", cells("N1 R2 R2 R2 ok"), in_council(COUNCIL_CALL), PREVIEW),
    Row(
        "preview buttons `v1:cs:`",
        "council",
        cells("R2 R2 R2 R2 ok"),
        pressing("preview", "Send", chat="council"),
        ("Sent.",),
        council_preview,
    ),
    Row(
        "`/calls`",
        "council",
        cells("N1 ok ok ok ok"),
        in_council("/calls"),
        ("No call is active here.", "Calls issued here:"),
    ),
    Row(
        "call buttons `v1:cc:`",
        "council",
        cells("R3 R3 R3 R3 ok"),
        cancel_in_council,
        ("Cancelled.",),
        council_call,
    ),
    Row(
        "`/delegates`",
        "council",
        cells("N1 ok ok ok ok"),
        in_council("/delegates"),
        ("Elected delegates of the committees in the area of",),
    ),
    Row(
        "`/programme`",
        "council",
        cells("N1 ok ok ok ok"),
        in_council("/programme"),
        ("The common programme is empty", "The common programme:"),
    ),
    Row(
        "escalated demand buttons `v1:dx:`",
        "council",
        cells("R14 R14 R14 R14 ok"),
        adopt,
        ("Adopted.",),
        risen_demand,
    ),
    Row(
        "merge buttons `v1:dm:`",
        "council",
        cells("R14 R14 R14 R14 ok"),
        merge_pressed,
        ("Merged.",),
        two_risen_demands,
    ),
    Row(
        "`/merge A B`",
        "council",
        cells("N1 R14 R14 R14 ok"),
        merge_command,
        ("is merged into",),
        two_risen_demands,
    ),
    Row(
        "programme buttons `v1:dp:`",
        "coordinating council",
        cells("R14 R14 R14 R14 ok"),
        mark_won,
        ("Marked.",),
        programme_buttons,
    ),
    Row(
        "solidarity appeal buttons `v1:sa:`",
        "council",
        cells("R14 R14 R14 R14 ok"),
        pressing("appeal", "Send the appeal", chat="council"),
        ("The appeal goes to 1 committees.",),
        solidarity_appeal,
        region="kyzylorda",
    ),
    Row("`/digest`", "council", cells("N1 ok ok ok ok"), in_council("/digest"), ("📰 Digest for", "The spread:")),
    Row("`/spread`", "council", cells("N1 ok ok ok ok"), in_council("/spread"), ("The spread:",)),
    Row(
        "`/audit`",
        "council",
        cells("N1 R17 R17 R17 ok"),
        in_council("/audit"),
        ("📋 Audit log of the area of", "📋 No privileged action in the area of"),
    ),
    Row(
        "`/settings`",
        "council",
        cells("N1 R10 R10 R10 ok"),
        in_council("/settings"),
        ("Which language should I use in this chat?",),
    ),
    Row("`/panic`", "coordinating council", cells("N1 R16 R16 R16 ok"), in_council("/panic"), ("Wipe everything?",)),
    Row(
        # Cancel, not Destroy: the same check stands before both, and the table's other rows need the
        # database (tests/test_wipe.py destroys it).
        "panic buttons `v1:pn:`",
        "coordinating council",
        cells("R16 R16 R16 R16 ok"),
        pressing("question", "Cancel", chat="council"),
        ("Cancelled.",),
        panic_question,
    ),
)


# -- the bot, once for the module -------------------------------------------------------------


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Movement]:
    """The bot for the whole table, with two of its paces quickened: what is tested here is who may do
    what, and at Telegram's pace a scene with a call (a preview, its copy, its tally and their
    edits: six messages in one chat) would take six seconds and the table minutes. A chat takes ten
    messages a second here (the sandbox and the bot's own pacing alike; the other tests and the
    benchmarks keep Telegram's one), and a call's live tally is edited at once instead of at
    most every TALLY_EVERY_S."""
    saved = call_messages.TALLY_EVERY_S, pacing.CHAT_BURST, pacing.CHAT_SPACING_S
    call_messages.TALLY_EVERY_S, pacing.CHAT_BURST, pacing.CHAT_SPACING_S = 0.0, 10.0, 0.1
    async with SandboxServer() as server, SandboxClient(server.base_url) as client:
        await client.set_limits(per_chat_per_second=10, per_chat_burst=10)
        config = make_config(server.base_url, tmp_path_factory.mktemp("permissions") / "asamblea.sqlite3", **CONFIG)
        try:
            async with Movement.running(config, server, client, publish_menus=False) as movement:
                # A committee beyond Kyzylorda's border for solidarity appeals, and one /call reaches.
                await movement.seed_committees("turkistan", 1)
                yield movement
        finally:
            call_messages.TALLY_EVERY_S, pacing.CHAT_BURST, pacing.CHAT_SPACING_S = saved


async def drained(m: Movement) -> None:
    """Every update handled, the outbox empty, and a moment without traffic (shorter than
    Movement.drained's, for a table of a few hundred cells)."""
    while True:
        await m.client.wait_idle(timeout=20, quiet=QUIET_S)
        states = await m.states()
        if not states.get("pending") and not states.get("inflight"):
            return
        m.app.bot_data["outbox"].wake()
        await asyncio.sleep(0.05)


def answer_problem(row: Row, role: str, answer: str) -> str | None:
    expected = row.outcomes[role]
    if expected == OK:
        if any(done in answer for done in row.done) and answer not in REFUSALS.values():
            return None
        return f"{row.id}, {role}: expected it done ({row.done}), got {answer!r}"
    if answer != REFUSALS[expected]:
        return f"{row.id}, {role}: expected {expected} {REFUSALS[expected]!r}, got {answer!r}"
    return None


COUNCIL_CHATS = ("council", "coordinating council")


async def allowed_cell(m: Movement, row: Row, role: str, scenes: list[Scene]) -> str | None:
    scene = await new_scene(m, row.region)
    scenes.append(scene)
    await row.setup(scene)
    return answer_problem(row, role, await row.act(scene, role))


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
async def test_every_role_gets_what_the_table_says(world: Movement, row: Row):
    m = world
    problems: list[str | None] = []
    scenes: list[Scene] = []
    refused = [role for role, outcome in row.outcomes.items() if outcome in REFUSALS]
    allowed = [role for role, outcome in row.outcomes.items() if outcome == OK]
    try:
        if refused:
            # The refused roles share a scene: every one is refused, and none of them changes a row.
            scene = await new_scene(m, row.region)
            scenes.append(scene)
            await row.setup(scene)
            await drained(m)
            before = await m.rows()
            for role in refused:
                problems.append(answer_problem(row, role, await row.act(scene, role)))
            await drained(m)
            after = await m.rows()
            changed = [table for table in before if before[table] != after[table]]
            if changed:
                problems.append(f"{row.id}: refused actions changed {changed}")
        if row.chat in COUNCIL_CHATS:
            # One council chat at a time is the coordinating council's: its scenes come one by one.
            for role in allowed:
                problems.append(await allowed_cell(m, row, role, scenes))
        else:  # each in chats of its own, side by side
            problems += await asyncio.gather(*(allowed_cell(m, row, role, scenes) for role in allowed))
        await m.client.wait_idle(timeout=20, quiet=QUIET_S)  # the next row drains the outbox before it looks
    finally:
        await wind_up(m, scenes)
    errors, m.errors[:] = list(m.errors), []
    assert not errors, f"a handler raised: {errors!r}"
    assert not [p for p in problems if p], "\n".join(p for p in problems if p)


@pytest.mark.asyncio(loop_scope="module")
async def test_an_elected_delegate_removed_from_the_group_no_longer_acts_for_it(world: Movement):
    """The admins' quickest answer to an infiltrator is to remove them from the group; an elected
    delegate's office then stops counting at once, before the assembly recalls them."""
    m = world
    scene = await new_scene(m)
    try:
        await committee_preview(scene)
        await committee_call(scene)
        await m.client.set_member(scene.committee, scene.people["elected"]["id"], "kicked")
        await drained(m)
        before = await m.rows()
        outside = scene.people["elected"]
        sent = await press_from_outside(
            m,
            scene.committee,
            outside,
            scene.notes["preview"]["message_id"],
            button_data(scene.notes["preview"], "Send"),
        )
        assert sent["text"] == REFUSALS["R2"]
        joined = await press_from_outside(
            m, scene.committee, outside, scene.notes["copy"]["message_id"], button_data(scene.notes["copy"], "We join")
        )
        assert joined["text"] == REFUSALS["R4"]
        await drained(m)
        assert await m.rows() == before
    finally:
        await wind_up(m, [scene])


# -- the table in docs/security.md is this one ---------------------------------------------------


def split_row(line: str) -> list[str]:
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def doc_section(heading: str) -> list[str]:
    lines = SECURITY.read_text(encoding="utf-8").splitlines()
    start = lines.index(heading)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return lines[start + 1 : end]


def doc_table(section: list[str], first_heading: str) -> list[list[str]]:
    """The rows of the table whose header starts with `first_heading`, separator left out."""
    rows, inside = [], False
    for line in section:
        if line.startswith("|"):
            cells_ = split_row(line)
            if cells_[0] == first_heading:
                inside, header = True, cells_
                continue
            if inside and not set(line) <= set("|-: "):
                rows.append(cells_)
        elif inside:
            break
    assert inside, f"no table starting with {first_heading!r}"
    return [header, *rows]


def cell_outcome(cell: str) -> str:
    found = re.match(r"(allowed|refused (R\d+)|n/a (N\d+))\b", cell)
    assert found, f"a cell says allowed, refused R… or n/a N…: {cell!r}"
    return found.group(2) or found.group(3) or OK


PERMISSIONS = "## Who may do what"


def test_the_documented_table_is_the_tested_one():
    section = doc_section(PERMISSIONS)
    header, *rows = doc_table(section, "command or button")
    assert header == ["command or button", "chat", *HEADINGS]
    documented = {(row[0], row[1]): tuple(cell_outcome(cell) for cell in row[2:]) for row in rows}
    tested = {(row.what, row.chat): (*row.cells, "N3") for row in ROWS}
    assert set(documented) == set(tested), (
        f"only in the doc: {set(documented) - set(tested)}; only in the test: {set(tested) - set(documented)}"
    )
    differ = {key: (documented[key], tested[key]) for key in tested if documented[key] != tested[key]}
    assert not differ, f"(doc, test): {differ}"
    legend = dict(re.findall(r"^- \*\*(R\d+)\*\* “(.+)”$", "\n".join(section), re.MULTILINE))
    assert legend == REFUSALS
    reasons = re.findall(r"^- \*\*(N\d+)\*\* ", "\n".join(section), re.MULTILINE)
    assert tuple(reasons) == NOT_APPLICABLE


def test_the_table_lists_every_command_and_button_the_bot_answers(tmp_path: Path):
    """A command or button added to the bot without a row (and so without tested permissions) fails here."""
    application = build_application(
        make_config("http://127.0.0.1:9", tmp_path / "db"),
        Credentials(bot_token="1:" + "x" * 30, secret_key=SECRET_KEY),
        publish_menus=False,
    )
    commands: set[str] = set()
    prefixes: set[str] = set()
    for handlers in application.handlers.values():
        for handler in handlers:
            commands |= set(getattr(handler, "commands", ()) or ())
            pattern = getattr(handler, "pattern", None)
            if pattern is not None:
                prefixes.add(pattern.pattern.removeprefix("^"))
    spans = {span for row in ROWS for span in re.findall(r"`([^`]+)`", row.what)}
    listed_commands = {span.split()[0].removeprefix("/").rstrip(",") for span in spans if span.startswith("/")}
    assert commands - listed_commands == set()
    assert {p for p in prefixes if not any(span.startswith(p) for span in spans)} == set()


def test_the_command_line_table_lists_every_subcommand(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit):
        cli_main(["--help"])
    usage = capsys.readouterr().out
    subcommands = set(re.search(r"\{([\w,-]+)\}", usage).group(1).split(","))
    header, *rows = doc_table(doc_section(PERMISSIONS), "command line")
    assert header == ["command line", "operator", "everyone else"]
    documented = {re.match(r"`asamblea ([\w-]+)", row[0]).group(1) for row in rows}
    assert documented == subcommands
    for row in rows:
        assert (cell_outcome(row[1]), cell_outcome(row[2])) == (OK, "N4"), row
