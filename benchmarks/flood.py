"""`asamblea bench flood`: how long others wait for the bot while one person floods it.

Issue 6 asks that a person sending 1,000 messages a minute neither slow the others down nor push
the bot into Telegram's 429 penalties: others' p95 at most 2,000 ms, 0 answers of 429.

What runs where (see harness.py): the Bot API sandbox in its own process with Telegram's limits
on; the bot as `asamblea run` in another, with the example config's flood limits (production's:
bot/flood.py, domain/flood.py); the people in this one. Setup is not measured: two committees
(active, in the database before the bot starts) with their groups, the council linked, members
added, a proposal with vote buttons in each group, and one round of every regular's action.

Then for `seconds` (60 by default), at the same time:

- **the floods**: a member of committee A floods its group, and another person their private
  chat, each with `per_minute` messages a minute (1,000 by default) on a fixed schedule, all
  commands the bot answers when it handles them (`/demands`, `/calls`, `/committee`, `/help`;
  `/help` and `/verify` in private), so that every one handled is visible as an answer;
- **the regulars**, each acting, waiting for the bot's answer, then acting again at their next
  turn: in committee A's group (the flooder's), three members taking turns every 30 s with
  `/demands`, `/calls` and `/demand TEXT` (answered through the outbox) and two members pressing
  the proposal's vote buttons every 6 s; in committee B's group two members (`/demands`,
  `/calls`) every 20 s and one presser every 6 s; three people in their private chats with
  `/help` every 10 s. Committee A's group is where a flood could hurt: the flooder's updates
  share its queue (bot/updates.py) and its 20 messages a minute (bot/pacing.py).

A regular's latency runs from just before their message or press goes to the sandbox to the
sandbox's timestamp of the bot's answer: the reply quoting the message (in a group), the next
message in the private chat, the answerCallbackQuery of the press. The sandbox's sent log and
call log are read a few times a second (the timestamps are the sandbox's own, not the polling's).
`outbound_429` counts the sandbox's 429 answers from the bot's start to the end. What became of
the floods is read from the sandbox too: a flood message the bot handled has its answer, one it
dropped has none, except one a minute per flooder answered with "slow down" (`told`).

Result (last line of stdout): p50_ms, p95_ms, p99_ms, max_ms of all regulars' actions and by
where, unanswered actions, outbound_429, per flood (sent, answered, told, dropped), the bot's
requests by method during the flood, duration_s, targets, met, machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from benchmarks.harness import BenchError, Harness, machine, progress, run
from benchmarks.ingest import Wire, demand_text
from bot.sandbox import SandboxClient
from bot.sandbox.client import SandboxTimeout

DEFAULT_PER_MINUTE = 1_000
DEFAULT_SECONDS = 60.0
TARGETS = {"p95_ms": 2000.0, "outbound_429": 0}

GROUP_FLOOD = ("/demands", "/calls", "/committee", "/help")
PRIVATE_FLOOD = ("/help", "/verify")
SLOW_DOWN = "Slow down"  # the flood notice (bot/flood.py), in the example config's English
PROPOSAL = "/propose We join the general strike on Monday"
VOTES = ("Agree", "Stand aside")

POLL_S = 0.2  # how often the sandbox's logs are read
ANSWER_TIMEOUT_S = 60.0  # a regular's action not answered within this counts as unanswered
READY_TIMEOUT_S = 30.0
# After the warm-up, before the floods: its burst of answers (a group's allowance of three messages at
# once, bot/pacing.py) would otherwise still be spent when the floods begin, as in no group that
# had a normal minute before.
SETTLE_S = 5.0


@dataclass
class Regular:
    """A person who uses the bot as people do: one action, its answer, then the next at its turn."""

    where: str  # how the figures are grouped: "A: commands", "A: presses", "B: ...", "private"
    chat: int
    user: int
    every_s: float
    offset_s: float
    commands: tuple[str, ...] = ()  # cycled through; empty for a presser
    buttons: tuple[str, ...] = ()  # a presser's callback data, cycled through
    button_message: int = 0


@dataclass
class Watcher:
    """What the bot said and answered, read incrementally from the sandbox's logs."""

    client: SandboxClient
    replies: dict[tuple[int, int], float] = field(default_factory=dict)  # (chat, replied-to id) -> sent_at
    in_chat: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))  # chat -> sent_at, in order
    answers: dict[str, float] = field(default_factory=dict)  # callback query id -> when answered
    texts: dict[int, list[tuple[int | None, str]]] = field(default_factory=lambda: defaultdict(list))
    sent_cursor: int = 0
    calls_cursor: int = 0
    _seen: set[tuple[int, int]] = field(default_factory=set)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def poll(self) -> None:
        for record in await self.client.sent(self.sent_cursor):
            self.sent_cursor = max(self.sent_cursor, int(record["seq"]))
            chat, key = int(record["chat_id"]), (int(record["chat_id"]), int(record["message_id"]))
            if key in self._seen:
                continue  # an edit of a message already counted
            self._seen.add(key)
            replied = record.get("reply_to_message_id")
            at = float(record["sent_at"])
            if replied is not None:
                self.replies.setdefault((chat, int(replied)), at)
            self.in_chat[chat].append(at)
            self.texts[chat].append((int(replied) if replied is not None else None, record.get("text") or ""))
        for call in await self.client.calls("answerCallbackQuery", self.calls_cursor):
            self.calls_cursor = max(self.calls_cursor, int(call["seq"]))
            self.answers.setdefault(str(call["params"].get("callback_query_id")), float(call["time"]))
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def follow(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.poll()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), POLL_S)
        await self.poll()

    async def wait(self, found: Callable[[], float | None], timeout: float) -> float | None:  # noqa: ASYNC109
        """The value `found` gives once it gives one, or None after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while (value := found()) is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
        return value

    def first_in_chat_after(self, chat: int, moment: float) -> float | None:
        return next((at for at in self.in_chat.get(chat, ()) if at >= moment), None)


@dataclass
class Samples:
    """Each regular action's latency in ms (None: unanswered), by where."""

    by_where: dict[str, list[float | None]] = field(default_factory=lambda: defaultdict(list))

    def add(self, where: str, latency_ms: float | None) -> None:
        self.by_where[where].append(latency_ms)

    def summary(self, values: list[float | None]) -> dict[str, Any]:
        answered = sorted(v for v in values if v is not None)
        return {
            "actions": len(values),
            "unanswered": len(values) - len(answered),
            "p50_ms": _rounded(percentile(answered, 0.50)),
            "p95_ms": _rounded(percentile(answered, 0.95)),
            "p99_ms": _rounded(percentile(answered, 0.99)),
            "max_ms": _rounded(answered[-1] if answered else None),
        }

    def everything(self) -> list[float | None]:
        return [value for values in self.by_where.values() for value in values]


def percentile(ordered: list[float], q: float) -> float | None:
    """Nearest rank, as the ingest benchmark computes it."""
    if not ordered:
        return None
    return ordered[max(0, min(len(ordered) - 1, int(q * len(ordered) + 0.999999) - 1))]


def _rounded(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


# --- acting ----------------------------------------------------------------------------------


async def act(client: SandboxClient, watcher: Watcher, regular: Regular, turn: int) -> float | None:
    """One action of a regular; its latency in ms, or None if the bot did not answer in time."""
    if regular.buttons:
        data = regular.buttons[turn % len(regular.buttons)]
        started = time.time()
        query = await client.press(regular.chat, regular.user, regular.button_message, data)
        answered = await watcher.wait(lambda: watcher.answers.get(query), ANSWER_TIMEOUT_S)
    else:
        text = regular.commands[turn % len(regular.commands)]
        if text == "/demand":
            text = f"/demand {demand_text(random.Random(turn * 7919 + regular.user))} ({turn})"
        started = time.time()
        message = await client.send(regular.chat, regular.user, text)
        if regular.chat > 0:  # a private chat: the bot's next message there is the answer
            answered = await watcher.wait(lambda: watcher.first_in_chat_after(regular.chat, started), ANSWER_TIMEOUT_S)
        else:  # in a group the answer quotes the message (a demand's acknowledgement too, alone)
            key = (regular.chat, int(message["message_id"]))
            answered = await watcher.wait(lambda: watcher.replies.get(key), ANSWER_TIMEOUT_S)
    return (answered - started) * 1000 if answered is not None else None


async def keep_acting(
    client: SandboxClient, watcher: Watcher, regular: Regular, start: float, until: float, samples: Samples
) -> None:
    """Act at each turn (start + offset + k * every) until `until`; a late answer skips turns."""
    turn = 0
    while True:
        at = start + regular.offset_s + turn * regular.every_s
        if at >= until:
            return
        await asyncio.sleep(max(0.0, at - time.time()))
        samples.add(regular.where, await act(client, watcher, regular, turn))
        turn = max(turn + 1, int((time.time() - start - regular.offset_s) / regular.every_s) + 1)


async def flood(wire: Wire, chat: int, user: int, texts: tuple[str, ...], per_minute: float, until: float) -> list[int]:
    """Messages on a fixed schedule of `per_minute`, sent as fast as the schedule says; their ids."""
    interval, start, sent = 60.0 / per_minute, time.time(), []
    while (at := start + len(sent) * interval) < until:
        await asyncio.sleep(max(0.0, at - time.time()))
        body = {"chat_id": chat, "from_user_id": user, "text": texts[len(sent) % len(texts)]}
        sent.append(int((await wire.call("POST", "/sandbox/messages", body))["message_id"]))
    return sent


def flood_outcome(watcher: Watcher, chat: int, sent: list[int]) -> dict[str, int]:
    """What became of a flood: answered (handled), told (dropped with the notice), dropped."""
    ids = set(sent)
    private = chat > 0
    said = [(replied, text) for replied, text in watcher.texts.get(chat, []) if private or replied in ids]
    told = sum(SLOW_DOWN in text for _, text in said)
    answered = len(said) - told
    return {"sent": len(sent), "answered": answered, "told": told, "dropped": len(sent) - answered}


# --- setting up ------------------------------------------------------------------------------


async def person(client: SandboxClient, name: str, chat: int | None = None) -> int:
    user = int((await client.create_user(name))["id"])
    if chat is not None:
        await client.set_member(chat, user, "member")
    return user


async def vote_buttons(client: SandboxClient, chat: int, proposer: int) -> tuple[int, tuple[str, ...]]:
    """A proposal put to the group's assembly; its message and the data of the buttons pressed."""
    since = await client.seq()
    await client.send(chat, proposer, PROPOSAL)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        with contextlib.suppress(SandboxTimeout):
            for message in await client.wait_for(chat, since=since, timeout=2.0):
                since = max(since, int(message["seq"]))
                keys = {
                    key["text"]: key.get("callback_data", "")
                    for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
                    for key in row
                }
                data = tuple(next((d for label, d in keys.items() if vote in label), "") for vote in VOTES)
                if all(data):
                    return int(message["message_id"]), data
    raise BenchError(f"no proposal with {' and '.join(VOTES)} buttons within {READY_TIMEOUT_S:.0f} s")


async def regulars(client: SandboxClient, group_a: int, group_b: int, admin_a: int, admin_b: int) -> list[Regular]:
    """Everyone who uses the bot as people do during the floods (see the module's docstring)."""
    message_a, buttons_a = await vote_buttons(client, group_a, admin_a)
    message_b, buttons_b = await vote_buttons(client, group_b, admin_b)
    people: list[Regular] = []
    for n, command in enumerate(("/demands", "/calls", "/demand")):
        user = await person(client, f"Committee A member {n}", group_a)
        people.append(Regular("A: commands", group_a, user, 30.0, 2.0 + 10.0 * n, commands=(command,)))
    for n in range(2):
        user = await person(client, f"Committee A voter {n}", group_a)
        presser = Regular("A: presses", group_a, user, 6.0, 1.0 + 3.0 * n, buttons=buttons_a, button_message=message_a)
        people.append(presser)
    for n, command in enumerate(("/demands", "/calls")):
        user = await person(client, f"Committee B member {n}", group_b)
        people.append(Regular("B: commands", group_b, user, 20.0, 5.0 + 10.0 * n, commands=(command,)))
    user = await person(client, "Committee B voter", group_b)
    people.append(Regular("B: presses", group_b, user, 6.0, 2.5, buttons=buttons_b, button_message=message_b))
    for n in range(3):
        user = await person(client, f"Someone {n}")
        people.append(Regular("private", user, user, 10.0, 1.5 + 3.3 * n, commands=("/help",)))
    return people


async def warm_up(client: SandboxClient, watcher: Watcher, people: list[Regular]) -> None:
    """One action each before the clock runs: the first of a chat or person costs the bot more (its
    language, the committee, a membership check), and private chats exist once someone writes."""
    answered = await asyncio.gather(*(act(client, watcher, regular, -1) for regular in people))
    if any(latency is None for latency in answered):
        raise BenchError("a regular's warm-up action got no answer")


# --- the benchmark ---------------------------------------------------------------------------


async def measure(
    per_minute: float = DEFAULT_PER_MINUTE, seconds: float = DEFAULT_SECONDS, *, keep: bool = False
) -> dict[str, Any]:
    if per_minute <= 0 or seconds <= 0:
        raise BenchError("--per-minute and --seconds must be above 0")
    async with Harness(2, keep=keep) as harness:
        movement = await harness.prepare()
        client = harness.client
        (group_a, group_b), (admin_a, admin_b) = movement.committee_chats, movement.committee_admins
        flooder = await person(client, "Flooder in the group", group_a)
        private_flooder = await person(client, "Flooder in private")
        await harness.start_bot()
        stats_before = await client.stats()
        watcher = Watcher(client)
        stop = asyncio.Event()
        following = asyncio.create_task(watcher.follow(stop))
        wire = Wire(harness.base_url)
        try:
            people = await regulars(client, group_a, group_b, admin_a, admin_b)
            await warm_up(client, watcher, people)
            await asyncio.sleep(SETTLE_S)
            progress(f"{len(people)} regulars ready; two floods of {per_minute:g} messages a minute for {seconds:g} s")
            samples = Samples()
            start = time.time()
            until = start + seconds
            stats_start = await client.stats()
            jobs: list[Awaitable[Any]] = [
                flood(wire, group_a, flooder, GROUP_FLOOD, per_minute, until),
                flood(wire, private_flooder, private_flooder, PRIVATE_FLOOD, per_minute, until),
                *(keep_acting(client, watcher, regular, start, until, samples) for regular in people),
            ]
            sent_group, sent_private, *_ = await asyncio.gather(*jobs)
            duration = time.time() - start
            harness.check_bot()
            with contextlib.suppress(SandboxTimeout):
                await client.wait_idle(timeout=90.0, quiet=5.0)  # paced answers of the flood's last minute
        finally:
            stop.set()
            await following
            await wire.close()
        stats_after = await client.stats()
        if keep:  # for looking into a result afterwards: what the sandbox saw, request by request
            for name, data in (("stats", stats_after), ("calls", await client.calls()), ("sent", await client.sent())):
                (harness.workdir / f"sandbox-{name}.json").write_text(json.dumps(data, ensure_ascii=False), "utf-8")

    everything = samples.summary(samples.everything())
    floods = {
        "group": flood_outcome(watcher, group_a, sent_group),
        "private": flood_outcome(watcher, private_flooder, sent_private),
    }
    outbound_429 = int(stats_after["too_many_requests"]) - int(stats_before["too_many_requests"])
    requests = Counter(stats_after["requests"]) - Counter(stats_start["requests"])
    met = (
        everything["p95_ms"] is not None
        and everything["p95_ms"] <= TARGETS["p95_ms"]
        and everything["unanswered"] == 0
        and outbound_429 <= TARGETS["outbound_429"]
    )
    result = {
        "per_minute": per_minute,
        "seconds": seconds,
        **{key: everything[key] for key in ("p50_ms", "p95_ms", "p99_ms", "max_ms")},
        "others_actions": everything["actions"],
        "others_unanswered": everything["unanswered"],
        "outbound_429": outbound_429,
        "flood_sent": sum(f["sent"] for f in floods.values()),
        "flood_dropped": sum(f["dropped"] for f in floods.values()),
        "floods": floods,
        "by_where": {where: samples.summary(values) for where, values in sorted(samples.by_where.items())},
        "bot_requests_during_flood": dict(sorted(requests.items())),
        "duration_s": round(duration, 1),
        "targets": TARGETS,
        "met": met,
        "machine": {**machine(), "pinned": harness.pinning()},
    }
    progress(
        f"done: others p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms ({everything['actions']} actions, "
        f"{everything['unanswered']} unanswered); {result['flood_dropped']} of {result['flood_sent']} flood "
        f"messages dropped; {outbound_429} answers of 429 ({'targets met' if met else 'targets NOT met'})"
    )
    return result


def main(per_minute: float = DEFAULT_PER_MINUTE, seconds: float = DEFAULT_SECONDS, *, keep: bool = False) -> int:
    started = time.monotonic()
    status = run("flood", lambda: measure(per_minute, seconds, keep=keep))
    progress(f"took {time.monotonic() - started:.0f} s in all")
    return status
