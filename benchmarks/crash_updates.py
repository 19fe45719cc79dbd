"""`asamblea bench kill-updates`: kill -9 the bot while it handles updates, restart it, again and again.

Issue 6, part 9: killed during update handling 50 times, the bot loses no demand and handles none
twice. What makes that so is the durable inbox (bot/inbox.py, bot/polling.py, storage/inbox.py):
an update is written before Telegram hears it arrived, its handler's first write marks it handled
in the same transaction, the kept-but-unhandled ones are handled again at start, and a copy that
Telegram sends again is dropped. This benchmark is the outside view of all that, through the real
bot as an operator runs it (harness.py: the sandbox with Telegram's limits in one process,
`asamblea run` in another, the same setup as `asamblea bench crash`).

Setup (not measured): `committees` active committees in the database, each group with `members`
members (its delegate among them); each delegate puts a proposal to the assembly (`/propose`), and
the bot's message with the vote buttons is waited for.

The stream: updates go into the sandbox at `rate` a second, the members taking turns in a fixed
(seeded) order, so each member sends one every `committees * members / rate` seconds (20 s with
the defaults), under the example config's flood limits (5 a minute per person), so that flood
control has no reason to drop one: mostly `/demand <text>` with a text no other demand resembles
(benchmarks/ingest.py's texts, each with its own number), and once per member a press of a vote
button of their committee's proposal. The stream goes on while the bot is dead, as Telegram keeps
taking messages then.

The kills: each round first lets the (re)started bot catch up (the updates that came while it was
down handled: none kept and unhandled in its inbox, no more than a few unconfirmed in the sandbox),
so the kills do not pile up a backlog that only grows; then it waits a random 0-1 s (seeded) and
sends SIGKILL at the next moment the bot holds an update it has kept but not yet handled (watched
as a count of the inbox's rows that still hold an update: no key is needed, nothing is decrypted);
then it starts the bot again. With `catch_up=False` (`--no-catch-up`) the kill comes a random
0-0.3 s after the restarted bot's first getUpdates, whatever it holds then: the bot is up for a
few tenths of a second of every four or so (a restart takes about three), less than it needs for
the stream, and its backlog grows from kill to kill until flood control's "too many waiting" rule
(bot/flood.py) drops part of it. That variant measures overload, not the inbox; docs/benchmarks.md
reports what it shows.
After the last restart the stream stops, the bot is given time to
answer everything (until every demand sent is acknowledged, or nothing more is acknowledged for the
stall time) and to go quiet, and is stopped. Everything is then counted from what stayed, not
from timing (a group's answers are paced at 20 a minute, bot/pacing.py):

- **lost**: a demand sent whose text is not in the database (read through `store.demands`: the
  texts are sealed), or a press whose voice is not in it as pressed;
- **duplicated**: a demand text in the database more than once; the bot's "already has this
  demand" for a text sent once (its second handling); one demand acknowledged in two different
  acknowledgements; a press answered twice (a second handling refuses "the same voice", answered);
- **acks_resent**: one acknowledgement delivered twice with the same text: not an update handled
  twice but the outbox resending a message that was in flight at a kill, which SPEC §3 allows
  (docs/delivery.md; `asamblea bench crash` counts the same for calls), so it is reported apart;
- **replayed_after_restart**: the updates the restarted bot found kept but not handled, as its log
  says at start (the bot runs at INFO here for that line); `kills_with_updates_in_hand`: after how
  many kills there were any.

Result (last line of stdout): kills, updates_sent (demands_sent, presses_sent), lost, duplicated,
replayed_after_restart, kills_with_updates_in_hand, the parts of lost and duplicated, acks_resent,
ack_messages, unacknowledged (demands recorded but never acknowledged: their acknowledgement is
written with them, so 0), unanswered_presses (a kill between a vote's commit and its answer leaves
the press unanswered; the voice counts), flood_notices, failure_answers, bot_errors, wall_s (from
the stream's first update until the last acknowledgement), seed, machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import secrets
import sqlite3
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from benchmarks.harness import READY_TIMEOUT_S, STALL_S, BenchError, Harness, machine, progress, run
from benchmarks.ingest import demand_text, gather_limited
from bot.sandbox.client import SandboxTimeout

DEFAULT_COMMITTEES = 100
DEFAULT_MEMBERS = 4  # per committee, its delegate among them
DEFAULT_KILLS = 50
DEFAULT_RATE = 20.0  # updates a second: each of the 400 members every 20 s, 3 a minute
MAX_UPTIME_S = 1.0  # once caught up, the bot runs a random 0..1 s before the kill is armed
OVERLOAD_UPTIME_S = 0.3  # without catching up, the kill comes a random 0..0.3 s after the first getUpdates
IN_HAND_TIMEOUT_S = 5.0  # no update in hand for so long (the stream is too thin): kill anyway
CAUGHT_UP_UNCONFIRMED = 3  # updates the sandbox may still hold unconfirmed when the bot has caught up
WATCH_S = 0.002  # how often the inbox is looked at while a kill is armed
PRESS_SHARE = 0.25  # a member's turn is their vote press with this chance, until they have voted
QUIET_S = 4.0  # the bot is done once it said nothing for longer than a group's pacing (3 s)
POLL_S = 0.3  # how often the sandbox's sent log is read while waiting for acknowledgements
PROPOSAL = "/propose We stay out until every demand of this committee is met"

# What the bot says, in the example config's English (handlers/demands.py, bot/errors.py, bot/flood.py).
ACK = re.compile(r"Demands? (?P<ids>#\d+(?:, #\d+)*)(?: and (?P<more>\d+) more)? (?:is|are) recorded")
REPEAT = "already has this demand"
FAILED = "Something went wrong on my side"
SLOW_DOWN = "🐢"
# What the bot logs at start (bot/inbox.py, bot/outbox.py).
REPLAYED = re.compile(r"inbox: (\d+) update\(s\) received before a stop and never handled are handled now")
RESUMED = re.compile(r"outbox: (\d+) messages were in flight at the last stop")


@dataclass
class Member:
    chat: int
    user: int
    vote: tuple[int, str] | None = None  # (message_id, callback_data) of the press still to make


@dataclass
class Press:
    chat: int
    user: int
    decision_id: int
    choice: str


@dataclass
class Stream:
    """What was sent into the sandbox: every demand text (with its chat) and every press."""

    demands: dict[str, int] = field(default_factory=dict)  # text -> chat
    presses: dict[str, Press] = field(default_factory=dict)  # callback query id -> the press
    first_at: float | None = None

    @property
    def sent(self) -> int:
        return len(self.demands) + len(self.presses)


@dataclass
class Answers:
    """The bot's messages in the committee chats (the last text of each), read incrementally."""

    chats: frozenset[int]
    texts: dict[tuple[int, int], str] = field(default_factory=dict)
    cursor: int = 0

    async def poll(self, harness: Harness) -> None:
        for record in await harness.client.sent(self.cursor):
            self.cursor = max(self.cursor, int(record["seq"]))
            if int(record["chat_id"]) in self.chats:
                self.texts[(int(record["chat_id"]), int(record["message_id"]))] = record.get("text") or ""

    def acknowledged(self) -> set[int]:
        return {demand_id for text in self.texts.values() for demand_id in ack_ids(text)}


def ack_ids(text: str) -> list[int]:
    """The demand ids an acknowledgement lists ([] for any other message)."""
    found = ACK.search(text)
    return [int(part) for part in found["ids"].replace("#", "").split(", ")] if found else []


class InboxWatch:
    """How many updates the running bot has kept and not handled yet: its inbox's rows that still
    hold one (storage/inbox.py). A read-only count on the live database, in WAL mode a reader of
    its own: it neither blocks nor changes what the bot writes, and needs no key."""

    def __init__(self, harness: Harness) -> None:
        self._conn = sqlite3.connect(f"file:{harness.database}?mode=ro", uri=True, isolation_level=None)

    def in_hand(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM inbox WHERE update_ct IS NOT NULL").fetchone()[0])

    def close(self) -> None:
        self._conn.close()


# --- setup -----------------------------------------------------------------------------------


async def add_members(harness: Harness, per_committee: int) -> list[Member]:
    """Each committee's delegate, and per_committee - 1 more people who join its group."""
    movement = harness.movement
    if movement is None:
        raise RuntimeError("prepare() first")
    client = harness.client

    async def join(chat: int, number: int) -> Member:
        user = int((await client.create_user(f"Member {number}"))["id"])
        await client.set_member(chat, user, "member")
        return Member(chat, user)

    pairs = zip(movement.committee_chats, movement.committee_admins, strict=True)
    delegates = [Member(chat, admin) for chat, admin in pairs]
    others = await gather_limited(
        [
            lambda chat=chat, number=number: join(chat, number)
            for number, chat in enumerate(movement.committee_chats * (per_committee - 1))
        ]
    )
    return delegates + others


async def put_proposals(harness: Harness, members: list[Member], rng: random.Random) -> None:
    """Each delegate's `/propose`; each member is given one of its vote buttons to press."""
    from handlers.decisions import VOTE_PREFIX

    movement = harness.movement
    if movement is None:
        raise RuntimeError("prepare() first")
    client = harness.client
    cursor = await client.seq()
    await gather_limited(
        [
            lambda chat=chat, admin=admin: client.send(chat, admin, PROPOSAL)
            for chat, admin in zip(movement.committee_chats, movement.committee_admins, strict=True)
        ]
    )
    buttons: dict[int, tuple[int, list[str]]] = {}
    deadline = time.monotonic() + READY_TIMEOUT_S
    while len(buttons) < len(movement.committee_chats):
        if time.monotonic() > deadline:
            raise BenchError(f"{len(buttons)} of {len(movement.committee_chats)} proposals came in time")
        harness.check_bot()
        with contextlib.suppress(SandboxTimeout):
            for message in await client.wait_for(None, since=cursor, timeout=2.0):
                cursor = max(cursor, int(message["seq"]))
                data = [
                    key["callback_data"]
                    for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
                    for key in row
                    if str(key.get("callback_data", "")).startswith(VOTE_PREFIX)
                ]
                if data:
                    buttons[int(message["chat_id"])] = (int(message["message_id"]), data)
    for member in members:
        message_id, data = buttons[member.chat]
        member.vote = (message_id, rng.choice(data))


# --- the stream and the kills ----------------------------------------------------------------


async def send_stream(
    harness: Harness, members: list[Member], rate: float, rng: random.Random, stream: Stream, stop: asyncio.Event
) -> None:
    """Members take turns in a fixed order, one update each 1/rate s, until `stop`."""
    from handlers.decisions import VOTE_PREFIX

    client = harness.client
    order = list(members)
    rng.shuffle(order)
    serial = 0
    started = time.monotonic()
    stream.first_at = time.time()
    turn = 0
    while not stop.is_set():
        member = order[turn % len(order)]
        turn += 1
        if member.vote is not None and rng.random() < PRESS_SHARE:
            message_id, data = member.vote
            member.vote = None
            query = await client.press(member.chat, member.user, message_id, data)
            decision_id, _round, choice = data.removeprefix(VOTE_PREFIX).split(":")
            stream.presses[query] = Press(member.chat, member.user, int(decision_id), choice)
        else:
            serial += 1
            text = demand_text(rng, 1000 + serial)  # its own number: never taken for another demand
            stream.demands[text] = member.chat
            await client.send(member.chat, member.user, f"/demand {text}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), max(0.0, started + turn / rate - time.monotonic()))


async def wait_caught_up(harness: Harness, watch: InboxWatch, stall_s: float) -> None:
    """Until the bot has handled what came while it was down: nothing kept and unhandled, and no
    more than the stream's last few updates unconfirmed in the sandbox."""
    since = time.monotonic()
    while watch.in_hand() or await harness.client.pending_updates() > CAUGHT_UP_UNCONFIRMED:
        harness.check_bot()
        if time.monotonic() - since > stall_s:
            raise BenchError(f"the bot did not catch up with the stream within {stall_s:.0f} s:\n{harness.bot_tail()}")
        await asyncio.sleep(0.05)


async def kill_while_handling(harness: Harness, watch: InboxWatch) -> bool:
    """SIGKILL at the next moment the bot holds an update kept and not yet handled (or after
    IN_HAND_TIMEOUT_S); whether it did."""
    deadline = time.monotonic() + IN_HAND_TIMEOUT_S
    while not watch.in_hand() and time.monotonic() < deadline:
        harness.check_bot()
        await asyncio.sleep(WATCH_S)
    held = watch.in_hand() > 0
    await harness.kill_bot()
    return held


# --- counting --------------------------------------------------------------------------------


@dataclass
class Stored:
    """What the database holds after the run: each committee chat's demands, and the voices."""

    demands: dict[int, list[tuple[int, str]]]  # chat -> [(demand id, text)]
    voices: dict[tuple[int, int], str]  # (decision id, user id) -> choice


async def read_database(harness: Harness, stream: Stream) -> Stored:
    """Open the stopped bot's database with the project's Store (texts are sealed) and read it."""
    from bot.config import load_config
    from storage import Store

    movement = harness.movement
    if movement is None:
        raise RuntimeError("prepare() first")
    voters: dict[int, set[int]] = defaultdict(set)
    for press in stream.presses.values():
        voters[press.decision_id].add(press.user)
    config = load_config(harness.config_path)
    store = await Store.open(config.storage_path, harness.secret_key.encode())
    try:
        async with store.db.read() as conn:
            demands: dict[int, list[tuple[int, str]]] = {}
            for chat in movement.committee_chats:
                committee = await store.committees.by_chat(conn, chat)
                if committee is None:
                    raise BenchError(f"the committee of chat {chat} is gone from the database")
                demands[chat] = [(d.id, d.text) for d in await store.demands.of_committee(conn, committee.id)]
            voices: dict[tuple[int, int], str] = {}
            for decision_id, users in voters.items():
                decision = await store.decisions.get(conn, decision_id)
                held = await store.decisions.voices(conn, decision) if decision is not None else {}
                for user in users:
                    choice = held.get(store.db.crypto.user(user))
                    if choice is not None:
                        voices[(decision_id, user)] = choice
    finally:
        await store.close()
    return Stored(demands, voices)


def tally(stream: Stream, stored: Stored, answers: Answers, press_answers: Counter[str]) -> dict[str, int]:
    """Lost and duplicated, from what stayed in the database and what the bot said (see the module)."""
    rows: Counter[str] = Counter(text for chat_rows in stored.demands.values() for _id, text in chat_rows)
    ids_of = {text: demand_id for chat_rows in stored.demands.values() for demand_id, text in chat_rows}
    lost_demands = sum(1 for text in stream.demands if rows[text] == 0)
    extra_rows = sum(count - 1 for count in rows.values() if count > 1)
    unasked = sum(count for text, count in rows.items() if text not in stream.demands)  # no update asked for it
    repeats = sum(REPEAT in text for text in answers.texts.values())

    acked: dict[int, list[str]] = defaultdict(list)  # demand id -> the texts of the messages listing it
    for text in answers.texts.values():
        for demand_id in ack_ids(text):
            acked[demand_id].append(text)
    # The same acknowledgement twice in a chat: one outbox row sent again after a kill.
    ack_copies = Counter((chat, text) for (chat, _message), text in answers.texts.items() if ACK.search(text))
    acks_resent = sum(count - 1 for count in ack_copies.values())
    acked_apart = sum(len(set(texts)) - 1 for texts in acked.values())
    unlisted = sum(
        int(found["more"]) for text in answers.texts.values() if (found := ACK.search(text)) and found["more"]
    )
    unacknowledged = sum(1 for text in stream.demands if text in ids_of and ids_of[text] not in acked)

    lost_presses = sum(
        1 for press in stream.presses.values() if stored.voices.get((press.decision_id, press.user)) != press.choice
    )
    answered_twice = sum(n - 1 for n in press_answers.values() if n > 1)
    return {
        "lost": lost_demands + lost_presses,
        "duplicated": extra_rows + unasked + repeats + acked_apart + answered_twice,
        "lost_demands": lost_demands,
        "lost_presses": lost_presses,
        "duplicate_rows": extra_rows + unasked,
        "repeat_refusals": repeats,
        "acknowledged_apart": acked_apart,
        "presses_answered_twice": answered_twice,
        "acks_resent": acks_resent,
        "ack_messages": sum(1 for text in answers.texts.values() if ACK.search(text)),
        "unacknowledged": max(0, unacknowledged - unlisted),
        "unanswered_presses": sum(1 for query in stream.presses if press_answers[query] == 0),
        "flood_notices": sum(SLOW_DOWN in text for text in answers.texts.values()),
        "failure_answers": sum(FAILED in text for text in answers.texts.values()),
    }


def read_bot_log(harness: Harness) -> dict[str, int]:
    """What the bot said at its starts (updates replayed, outbox messages resent) and its errors."""
    text = harness.bot_log.read_text(encoding="utf-8", errors="replace")
    replayed = [int(n) for n in REPLAYED.findall(text)]
    return {
        "replayed_after_restart": sum(replayed),
        "kills_with_updates_in_hand": len(replayed),
        "most_replayed_at_once": max(replayed, default=0),
        "outbox_resumed": sum(int(n) for n in RESUMED.findall(text)),
        "bot_errors": sum(1 for line in text.splitlines() if " ERROR " in line or " CRITICAL " in line),
    }


async def wait_for_answers(harness: Harness, stream: Stream, answers: Answers, stall_s: float) -> float:
    """Until every demand sent is acknowledged (or none more is for the stall time) and the bot
    has gone quiet; when the last acknowledgement was seen (time.time())."""
    acked = len(answers.acknowledged())
    progressed = time.monotonic()
    last_at = time.time()
    next_report = progressed + 5.0
    while acked < len(stream.demands) and time.monotonic() - progressed < stall_s:
        harness.check_bot()
        await asyncio.sleep(POLL_S)
        await answers.poll(harness)
        now_acked = len(answers.acknowledged())
        if now_acked > acked:
            acked, progressed, last_at = now_acked, time.monotonic(), time.time()
        if time.monotonic() >= next_report:
            progress(f"{acked}/{len(stream.demands)} demands acknowledged")
            next_report += 5.0
    if acked < len(stream.demands):
        progress(f"nothing more acknowledged for {stall_s:.0f} s: {acked}/{len(stream.demands)}")
    with contextlib.suppress(SandboxTimeout):  # late duplicates, the last presses' answers
        await harness.client.wait_idle(timeout=60.0, quiet=QUIET_S)
    await answers.poll(harness)
    return last_at


# --- the benchmark ---------------------------------------------------------------------------


async def measure(
    committees: int = DEFAULT_COMMITTEES,
    members: int = DEFAULT_MEMBERS,
    kills: int = DEFAULT_KILLS,
    rate: float = DEFAULT_RATE,
    seed: int | None = None,
    *,
    keep: bool = False,
    stall_s: float = STALL_S,
    catch_up: bool = True,
) -> dict[str, Any]:
    if rate <= 0:
        raise BenchError("the rate must be above 0 updates a second")
    seed = secrets.randbelow(2**31) if seed is None else seed
    stream_rng = random.Random(seed)  # what is sent: the same for a seed, however the kills fall
    kill_rng = random.Random(f"{seed}:kills")
    stream = Stream()
    made = in_hand = 0
    async with Harness(committees, keep=keep, stall_s=stall_s, log_level="INFO") as harness:
        movement = await harness.prepare()
        people = await add_members(harness, members)
        await harness.start_bot()
        await put_proposals(harness, people, stream_rng)
        progress(
            f"{len(people)} members, a proposal in each of {committees} groups; {kills} kills planned (seed {seed})"
        )
        answers = Answers(frozenset(movement.committee_chats))
        watch = InboxWatch(harness)
        stop = asyncio.Event()
        sender = asyncio.create_task(send_stream(harness, people, rate, stream_rng, stream, stop), name="stream")
        try:
            while made < kills:
                if catch_up:
                    await wait_caught_up(harness, watch, stall_s)
                    await asyncio.sleep(kill_rng.uniform(0.0, MAX_UPTIME_S))
                    in_hand += await kill_while_handling(harness, watch)
                else:  # the overload variant: whatever it holds, soon after its first getUpdates
                    await asyncio.sleep(kill_rng.uniform(0.0, OVERLOAD_UPTIME_S))
                    in_hand += watch.in_hand() > 0
                    await harness.kill_bot()
                made += 1
                progress(f"kill -9 #{made}: {stream.sent} updates sent so far")
                await harness.start_bot()
        finally:
            stop.set()
            await sender
            watch.close()
        last_at = await wait_for_answers(harness, stream, answers, stall_s)
        await harness.stop_bot()
        stored = await read_database(harness, stream)
        press_answers = Counter(
            str(call["params"].get("callback_query_id")) for call in await harness.client.calls("answerCallbackQuery")
        )
        counts = tally(stream, stored, answers, press_answers)
        logged = read_bot_log(harness)
        await harness.save_records()

    result: dict[str, Any] = {
        "committees": committees,
        "members": len(people),
        "rate": rate,
        "catch_up": catch_up,
        "kills": made,
        "updates_sent": stream.sent,
        "demands_sent": len(stream.demands),
        "presses_sent": len(stream.presses),
        "lost": counts.pop("lost"),
        "duplicated": counts.pop("duplicated"),
        "replayed_after_restart": logged.pop("replayed_after_restart"),
        "kills_with_updates_in_hand": logged.pop("kills_with_updates_in_hand"),
        "kills_armed_in_hand": in_hand,
        **counts,
        **logged,
        "wall_s": round(last_at - stream.first_at, 3) if stream.first_at is not None else None,
        "seed": seed,
        "machine": {**machine(), "pinned": harness.pinning()},
    }
    progress(f"done: {made} kills, {stream.sent} updates, lost {result['lost']}, duplicated {result['duplicated']}")
    return result


def main(
    committees: int = DEFAULT_COMMITTEES,
    members: int = DEFAULT_MEMBERS,
    kills: int = DEFAULT_KILLS,
    rate: float = DEFAULT_RATE,
    seed: int | None = None,
    *,
    keep: bool = False,
    stall_s: float = STALL_S,
    catch_up: bool = True,
) -> int:
    started = time.monotonic()
    status = run(
        "kill-updates",
        lambda: measure(committees, members, kills, rate, seed, keep=keep, stall_s=stall_s, catch_up=catch_up),
    )
    progress(f"took {time.monotonic() - started:.0f} s in all")
    return status
