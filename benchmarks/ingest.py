"""`asamblea bench ingest`: demand submissions and vote presses through the full bot, at scale.

SPEC §5 asks that the bot handle updates (demand submissions, button presses) with 10,000
committees and 1,000,000 demands stored at >= 1,000 updates/s on one core, with a p99 handling
latency <= 20 ms and no more than 2x the cost of a bare echo bot measured in the same run.

What runs where:

- the Bot API sandbox in its own process on the last CPU, with Telegram's limits off (they would
  measure Telegram, not the bot: the bot still paces its own sending, see bot/pacing.py);
- the Application from `build_application()` (its update queue, handlers, storage, outbox, the
  replies to the sandbox over loopback HTTP) in this process, pinned to one CPU together with
  every thread it starts (aiosqlite's worker included), so "on one core" is what is measured.

Setup is not measured. The database gets `committees` committees, `demands` demands spread evenly
over them (texts sealed with the storage layer's keys, as the bot writes them) and one open
decision in each of the `active` committees that are in session; it is written straight with
SQLite and kept in a cache (~/.cache/asamblea/bench-ingest, keyed by every parameter, the schema
and the chats' ids) so that a rerun only copies it. In the sandbox the active committees get a
supergroup with three members and the decision's message with its vote buttons; each update is
then made by the sandbox itself (a member's `/demand ...` message, a member's press of a vote
button: a real callback query the bot must answer), so the bot gets exactly what getUpdates would
have given it. The updates are handed to `application.update_queue` rather than through long
polling, so that the moment each update enters the bot is known. The bot's queue is its durable
inbox (bot/inbox.py): like the poller (bot/polling.py), the feeder hands it the JSON a batch at a
time (`Inbox.receive_sent`: each update read, as a fast update (bot/fast_updates.py) or PTB's
`Update`, then kept, sealed, in one transaction, then queued), so reading and keeping the updates
are measured too; the echo bot has no inbox and gets each update as PTB's `Update` (made by the
feeder, counted) with `put_nowait`.

Each update goes to an active committee picked at random; a share `votes` of them are vote
presses (a random choice of the consensus rule, by one of three members, on the committee's open
decision), the rest new demands (unique texts, so none is refused as a repeat). Latency runs from
an update's batch being handed to the bot (before the inbox keeps it) to its last handler
returning (writes committed: a transaction only returns once its COMMIT is done), taken by a
handler in a last group.

The phases, each with fresh updates: a warm-up, not counted (a demand in every committee in
session and a vote by each of its members, in random order, then `warmup` random updates: so no
measured update is the first of its committee or member since the bot started, which costs a
reading of the committee's demands for the repeat check and a membership check with Telegram;
the warm-up's own figures are in the result); throughput
(`updates` updates fed as fast as the bot takes them, at most WINDOW in the queue or in handlers
at a time; `updates_per_s`); latency (`updates` updates offered at `rate` per second on a fixed
schedule; `p50_ms`, `p99_ms`). Then the same phases with the same updates (new presses, since a
query is answered once) against a bare echo bot: PTB's Application built like ours but without
storage or rate limiter, with one handler that echoes a message (`reply_text`) and one that
answers a press. `ratio` = echo_updates_per_s / updates_per_s: how many times slower than the
echo bot the whole bot is (target <= 2).

Result (last line of stdout): updates_per_s, p50_ms, p99_ms, echo_updates_per_s, ratio, and the
details (per phase, counts of what the bot wrote and sent, errors), machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import json
import os
import random
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.harness import BenchError, Harness, machine, progress, run
from benchmarks.seed_cache import SeedCache, cache_folder

DEFAULT_COMMITTEES = 10_000
DEFAULT_DEMANDS = 1_000_000
DEFAULT_ACTIVE = 1_000
DEFAULT_UPDATES = 10_000
DEFAULT_WARMUP = 1_000
DEFAULT_RATE = 1_000.0
DEFAULT_VOTES = 0.5
DEFAULT_SEED = 1

WINDOW = 256  # updates in the queue or in handlers at once in the throughput phase
BATCH = 100  # updates handed to the bot's inbox at once at most: getUpdates' default limit
MEMBERS_PER_COMMITTEE = 3  # the chat's creator and two members: who submits and votes
SETUP_CONCURRENCY = 32  # sandbox requests in flight while making the updates
WIRE_CONNECTIONS = 16
FINISHED_GROUP = 1_000_000  # the timing handler's PTB group: after every handler of the bot
CACHE_VERSION = 1  # bump when the seeded data changes shape
PHASE_TIMEOUT_S = 600.0

TARGETS = {"updates_per_s": 1000.0, "p99_ms": 20.0, "ratio": 2.0}


# --- a lean HTTP client for setup ------------------------------------------------------------


class Wire:
    """JSON over HTTP/1.1 keep-alive connections to the sandbox on loopback.

    Setup makes tens of thousands of requests (one per update); this does them at the sandbox's
    pace rather than at an HTTP library's, and is used for nothing but setup."""

    def __init__(self, base_url: str, connections: int = WIRE_CONNECTIONS) -> None:
        host_port = base_url.split("://", 1)[1].rstrip("/")
        self.host, _, port = host_port.partition(":")
        self.port = int(port or 80)
        self.size = connections
        self._idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
        self._open = 0

    async def close(self) -> None:
        while not self._idle.empty():
            _, writer = self._idle.get_nowait()
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._idle.empty() and self._open < self.size:
            self._open += 1
            try:
                return await asyncio.open_connection(self.host, self.port)
            except BaseException:
                self._open -= 1
                raise
        return await self._idle.get()

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        payload = b"" if body is None else json.dumps(body).encode()
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n"
        ).encode()
        reader, writer = await self._connection()
        try:
            writer.write(head + payload)
            status, data = await _read_response(reader)
        except BaseException:
            self._open -= 1
            writer.close()
            raise
        self._idle.put_nowait((reader, writer))
        answer = json.loads(data) if data else None
        if status >= 400:
            raise BenchError(f"sandbox {method} {path}: {status} {answer}")
        return answer

    async def bot(self, token: str, method: str, **params: Any) -> Any:
        """A Bot API call as the bot (setup only: the proposal messages)."""
        answer = await self.call("POST", f"/bot{token}/{method}", params)
        return answer["result"]


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            chunks.append(chunk[:-2])
        return status, b"".join(chunks)
    return status, await reader.readexactly(int(headers.get("content-length", "0")))


async def gather_limited(jobs: Sequence[Callable[[], Awaitable[Any]]], limit: int = SETUP_CONCURRENCY) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(job: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await job()

    return await asyncio.gather(*(one(job) for job in jobs))


# --- demand texts ----------------------------------------------------------------------------

# Fragments of the demands of an oil strike, in the bot's languages; a text is an action, who it
# is for, where, and a number, so that a committee's hundred demands differ as real ones do.
_ACTIONS = (
    "Повысить зарплату на {n}%", "Снизить цены на газ на {n}%", "Вернуть на работу {n} уволенных",
    "Освободить {n} задержанных активистов", "Отменить штрафы за {n} дней забастовки",
    "Признать независимый профсоюз и его {n} делегатов", "Сократить смену до {n} часов",
    "Жалақыны {n}% көтеру", "Газ бағасын {n}% төмендету", "Жұмыстан шығарылған {n} адамды қайтару",
    "Ереуілдің {n} күні үшін айыппұлдарды жою", "Raise wages by {n}%", "Cut fuel prices by {n}%",
    "Reinstate the {n} workers who were fired", "Release the {n} detained strikers",
    "Pay the {n} days lost to the lockout", "Recognise the union and its {n} shop stewards",
    "Subir los salarios un {n}%", "Bajar el precio del gas un {n}%", "Readmitir a los {n} despedidos",
    "Liberar a los {n} detenidos", "Reducir la jornada a {n} horas",
)  # fmt: skip
_FOR = (
    "всем нефтяникам", "буровым бригадам", "водителям вахтовых автобусов", "медсёстрам больницы",
    "учителям посёлка", "мұнайшыларға", "бұрғылаушыларға", "дәрігерлерге", "for all oil workers",
    "for the drilling crews", "for the bus drivers", "for the hospital nurses", "for contract workers",
    "para todos los petroleros", "para los conductores", "para el personal de limpieza",
)  # fmt: skip
_WHERE = (
    "в Жанаозене", "в Актау", "в Атырау", "на месторождении Каламкас", "Жаңаөзенде", "Ақтауда",
    "Атырауда", "in Zhanaozen", "in Aktau", "at the Kalamkas field", "at the Tengiz field",
    "en Zhanaozen", "en Aktau", "en el yacimiento de Tengiz",
)  # fmt: skip


def demand_text(rng: random.Random, number: int | None = None) -> str:
    n = number if number is not None else rng.randint(2, 99)
    return f"{rng.choice(_ACTIONS).format(n=n)} {rng.choice(_FOR)} {rng.choice(_WHERE)}"


# --- the database ----------------------------------------------------------------------------


@dataclass
class Seeded:
    """What the seeded database holds, as the workload needs it."""

    secret_key: str
    committees: int
    demands: int
    max_demand_id: int
    decisions: dict[int, int]  # active chat id -> its open decision's id
    seconds: float
    cached: bool


def seed_database(
    path: Path,
    *,
    committees: int,
    demands: int,
    chat_ids: Sequence[int],
    regions: Sequence[str],
    seed: int,
    cache: Path | None,
) -> Seeded:
    """The database at `path`: from the cache if it has these parameters, else written anew (and cached).

    Blocking (a thread's work): the writing takes a while at full scale."""
    started = time.monotonic()
    stored = SeedCache(cache, CACHE_VERSION, committees, demands, list(chat_ids), list(regions), seed)
    meta = stored.load(path)
    if meta is not None:
        return Seeded(
            secret_key=meta["secret_key"],
            committees=committees,
            demands=demands,
            max_demand_id=meta["max_demand_id"],
            decisions={int(chat): decision for chat, decision in meta["decisions"].items()},
            seconds=time.monotonic() - started,
            cached=True,
        )
    secret_key = os.urandom(24).hex()
    decisions = _write_database(path, secret_key, committees, demands, chat_ids, regions, seed)
    seconds = time.monotonic() - started
    progress(f"{committees} committees and {demands} demands written in {seconds:.1f} s")
    stored.save(path, {"secret_key": secret_key, "max_demand_id": demands, "decisions": decisions})
    return Seeded(
        secret_key=secret_key,
        committees=committees,
        demands=demands,
        max_demand_id=demands,
        decisions=decisions,
        seconds=seconds,
        cached=False,
    )


def _write_database(
    path: Path,
    secret_key: str,
    committees: int,
    demands: int,
    chat_ids: Sequence[int],
    regions: Sequence[str],
    seed: int,
) -> dict[int, int]:
    """Schema and keys as the bot makes them, then every row in one transaction with executemany.

    Committees 1..len(chat_ids) are the active ones, in the sandbox's chats; the others get chat
    ids no chat has (nothing is ever sent to them). Returns {active chat id: open decision id}."""
    from storage import Store
    from storage.crypto import Crypto

    async def schema() -> None:
        store = await Store.open(path, secret_key.encode())
        await store.close()

    asyncio.run(schema())
    rng = random.Random(seed)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        salt = conn.execute("SELECT salt FROM keyring WHERE id = 1").fetchone()[0]
        crypto = Crypto.derive(secret_key.encode(), bytes(salt))
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN IMMEDIATE")
        now = int(time.time())
        people = [crypto.user(1_000_000 + n) for n in range(997)]  # who registered and submitted

        def committee_rows():
            for number in range(1, committees + 1):
                chat_id = chat_ids[number - 1] if number <= len(chat_ids) else -1_009_000_000_000 - number
                yield (
                    number,
                    crypto.chat(chat_id),
                    crypto.seal_chat_id(chat_id, table="committees", row=number),
                    crypto.seal_text(
                        f"Strike committee {number:05d}", table="committees", column="name_ct", row=number
                    ),
                    regions[number % len(regions)],
                    "workplace",
                    "active",
                    people[number % len(people)],
                    now - 86_400 * 30,
                    now - 86_400 * 29,
                )

        conn.executemany(
            """INSERT INTO committees (id, chat_ref, chat_id_ct, name_ct, region, kind, status, registered_by,
                                       registered_at, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            committee_rows(),
        )

        def demand_rows():
            base, extra = divmod(demands, committees)
            demand_id = 0
            for number in range(1, committees + 1):
                for _ in range(base + (1 if number <= extra else 0)):
                    demand_id += 1
                    yield (
                        demand_id,
                        number,
                        crypto.seal_text(demand_text(rng), table="demands", column="text_ct", row=demand_id),
                        "endorsed" if demand_id % 7 == 0 else "proposed",
                        "group",
                        people[demand_id % len(people)],
                        now - 86_400 * 20 + demand_id % 86_400,
                    )

        conn.executemany(
            """INSERT INTO demands (id, committee_id, text_ct, status, via, submitted_by, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            demand_rows(),
        )
        decisions: dict[int, int] = {}

        def decision_rows():
            for number, chat_id in enumerate(chat_ids, start=1):
                decisions[chat_id] = number
                text = f"Join the general strike from Monday ({number})"
                yield (
                    number,
                    number,
                    crypto.seal_text(text, table="decisions", column="text_ct", row=number),
                    "consensus",
                    24.0 * 30,
                    people[number % len(people)],
                    now - 3600,
                    now + 86_400 * 30,
                )

        conn.executemany(
            """INSERT INTO decisions (id, committee_id, text_ct, rule, deadline_hours, opened_by, opened_at, closes_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            decision_rows(),
        )
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return decisions


# --- the movement in the sandbox and its updates -----------------------------------------------


@dataclass
class Committee:
    chat: dict[str, Any]  # the chat as messages carry it
    members: list[dict[str, Any]]  # users as updates carry them
    proposal: dict[str, Any]  # the bot's message with the vote buttons
    decision_id: int = 0


@dataclass
class Planned:
    """One update to make: a demand (text) or a vote (data) by a member of a committee."""

    committee: int
    member: int
    text: str | None = None
    data: str | None = None


async def create_chats(wire: Wire, active: int) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]:
    """`active` supergroups with the bot in it (it is not told), each with its members.

    The chats are created one after another, so their ids come out the same in every run (the
    seeded database stores them); users and memberships in parallel."""
    users = await gather_limited(
        [
            lambda n=n: wire.call("POST", "/sandbox/users", {"first_name": f"Member {n}", "language_code": "en"})
            for n in range(active * MEMBERS_PER_COMMITTEE)
        ]
    )
    members = [users[i * MEMBERS_PER_COMMITTEE : (i + 1) * MEMBERS_PER_COMMITTEE] for i in range(active)]
    chats = []
    for number, people in enumerate(members, start=1):
        body = {
            "type": "supergroup",
            "title": f"Strike committee {number:05d}",
            "creator_id": people[0]["id"],
            "bot_member": True,
            "announce": False,
        }
        chats.append(await wire.call("POST", "/sandbox/chats", body))
    await gather_limited(
        [
            lambda chat=chat, person=person: wire.call(
                "POST", f"/sandbox/chats/{chat['id']}/members", {"user_id": person["id"], "status": "member"}
            )
            for chat, people in zip(chats, members, strict=True)
            for person in people[1:]
        ]
    )
    return chats, members


async def post_proposals(
    wire: Wire,
    token: str,
    chats: Sequence[dict[str, Any]],
    members: Sequence[list[dict[str, Any]]],
    decisions: dict[int, int],
) -> list[Committee]:
    """Each open decision's message with its vote buttons, sent as the bot (the seeded decision was
    never posted by the bot itself)."""
    from domain.decisions import Rule, choices_for
    from handlers.decisions import VOTE_PREFIX

    async def post(chat: dict[str, Any]) -> dict[str, Any]:
        decision_id = decisions[int(chat["id"])]
        buttons = [
            {"text": choice.value, "callback_data": f"{VOTE_PREFIX}{decision_id}:1:{choice.value}"}
            for choice in choices_for(Rule.CONSENSUS)
        ]
        return await wire.bot(
            token,
            "sendMessage",
            chat_id=chat["id"],
            text=f"🗳 Proposal #{decision_id}, round 1:\n\nJoin the general strike from Monday",
            reply_markup={"inline_keyboard": [buttons[:2], buttons[2:]]},
        )

    proposals = await gather_limited([lambda chat=chat: post(chat) for chat in chats])
    return [
        Committee(
            chat={"id": chat["id"], "type": "supergroup", "title": chat["title"]},
            members=[{k: v for k, v in person.items() if k in ("id", "is_bot", "first_name", "language_code")}
                     for person in people],
            proposal=proposal,
            decision_id=decisions[int(chat["id"])],
        )
        for chat, people, proposal in zip(chats, members, proposals, strict=True)
    ]  # fmt: skip


def plan(
    rng: random.Random, committees: int, count: int, votes: float, serial: list[int], *, cover: bool = False
) -> list[Planned]:
    """`count` updates to random committees, a share `votes` of them vote presses.

    With `cover`, first (in random order) a demand in every committee and a vote by each of its
    members: the warm-up, after which no measured update is the first of its committee or member
    since the bot started (that first one costs the reading of the committee's demands for the
    repeat check, and a membership check with Telegram)."""
    from domain.decisions import Rule, choices_for

    choices = [choice.value for choice in choices_for(Rule.CONSENSUS)]

    def demand(committee: int, member: int) -> Planned:
        serial[0] += 1  # a number no stored demand has: never refused as a repeat
        return Planned(committee, member, text="/demand " + demand_text(rng, 100 + serial[0]))

    planned = []
    if cover:
        for committee in range(committees):
            planned.append(demand(committee, rng.randrange(MEMBERS_PER_COMMITTEE)))
            planned.extend(
                Planned(committee, member, data=rng.choice(choices)) for member in range(MEMBERS_PER_COMMITTEE)
            )
        rng.shuffle(planned)
    for _ in range(count):
        committee = rng.randrange(committees)
        member = rng.randrange(MEMBERS_PER_COMMITTEE)
        if rng.random() < votes:
            planned.append(Planned(committee, member, data=rng.choice(choices)))
        else:
            planned.append(demand(committee, member))
    return planned


async def make_updates(
    wire: Wire, movement: list[Committee], planned: Sequence[Planned], messages: dict[int, dict]
) -> list[dict[str, Any]]:
    """The raw updates (as getUpdates would deliver them) for `planned`, made by the sandbox.

    A demand is a real message in the chat; a vote a real press of the proposal's button, whose
    query the bot must answer once. `messages` keeps the demand messages by position, so that
    the echo bot gets the very same ones (their presses must be new)."""

    async def make(index: int, item: Planned) -> dict[str, Any]:
        committee = movement[item.committee]
        person = committee.members[item.member]
        chat_id = committee.chat["id"]
        if item.text is not None:
            message = messages.get(index)
            if message is None:
                message = await wire.call(
                    "POST", "/sandbox/messages", {"chat_id": chat_id, "from_user_id": person["id"], "text": item.text}
                )
                messages[index] = message
            return {"message": message}
        from handlers.decisions import VOTE_PREFIX

        data = f"{VOTE_PREFIX}{committee.decision_id}:1:{item.data}"
        body = {
            "chat_id": chat_id,
            "message_id": committee.proposal["message_id"],
            "from_user_id": person["id"],
            "data": data,
        }
        query_id = (await wire.call("POST", "/sandbox/callbacks", body))["callback_query_id"]
        return {
            "callback_query": {
                "id": str(query_id),
                "from": person,
                "message": committee.proposal,
                "chat_instance": str(5_000_000_000_000_000_000 + abs(chat_id)),
                "data": data,
            }
        }

    return await gather_limited([lambda i=i, item=item: make(i, item) for i, item in enumerate(planned)])


# --- feeding and timing ----------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    updates: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    bot_cpu_s: float = 0.0  # CPU time of this process (the bot's core) during the phase
    sandbox_cpu_s: float | None = None  # and of the sandbox's process
    kinds: list[str] = field(default_factory=list)  # each update's kind ("message", "callback_query")
    transactions: int | None = None  # the bot's write transactions during the phase
    commits: int | None = None  # and the COMMITs that made them durable
    gc_pauses_ms: list[float] = field(default_factory=list)  # the garbage collector's, each

    @property
    def updates_per_s(self) -> float:
        return self.updates / self.seconds if self.seconds > 0 else 0.0

    def percentile(self, q: float, kind: str | None = None) -> float | None:
        latencies = [ms for ms, k in zip(self.latencies_ms, self.kinds, strict=True) if k == kind] if kind else None
        ordered = sorted(self.latencies_ms if latencies is None else latencies)
        if not ordered:
            return None
        rank = max(0, min(len(ordered) - 1, int(q * len(ordered) + 0.999999) - 1))  # nearest rank
        return ordered[rank]

    def summary(self) -> dict[str, Any]:
        p50, p99 = self.percentile(0.50), self.percentile(0.99)
        return {
            "updates": self.updates,
            "seconds": round(self.seconds, 3),
            "updates_per_s": round(self.updates_per_s, 1),
            "p50_ms": round(p50, 3) if p50 is not None else None,
            "p99_ms": round(p99, 3) if p99 is not None else None,
            "max_ms": round(max(self.latencies_ms), 3) if self.latencies_ms else None,
            "transactions": self.transactions,
            "commits": self.commits,
            # Demands wait for the database only; votes also for Telegram's answer to answerCallbackQuery.
            "by_kind": {
                kind: {"p50_ms": _rounded(self.percentile(0.50, kind)), "p99_ms": _rounded(self.percentile(0.99, kind))}
                for kind in sorted(set(self.kinds))
            },
            "errors": self.errors,
            # Python's cyclic garbage collector stops everything while it runs, so its pauses add
            # to the latencies of the updates waiting meanwhile.
            "gc_pauses": len(self.gc_pauses_ms),
            "gc_max_ms": round(max(self.gc_pauses_ms), 3) if self.gc_pauses_ms else 0.0,
            "gc_total_ms": round(sum(self.gc_pauses_ms), 3),
            # How busy each core was: near 1.0 for the bot's means the bot was the limit.
            "bot_core_busy": round(self.bot_cpu_s / self.seconds, 3) if self.seconds else None,
            "sandbox_core_busy": round(self.sandbox_cpu_s / self.seconds, 3)
            if self.seconds and self.sandbox_cpu_s is not None
            else None,
        }


def process_cpu_s(pid: int | None) -> float | None:
    """CPU seconds a process has used so far (Linux), or None."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Meter:
    """When each update entered the queue and when its last handler returned."""

    def __init__(self, sandbox_pid: int | None = None) -> None:
        self.entered: dict[int, float] = {}
        self.finished: dict[int, float] = {}
        self.errors = 0
        self.changed = asyncio.Event()
        self.sandbox_pid = sandbox_pid
        self.gc_pauses_ms: list[float] = []
        self._gc_started = 0.0

    def on_gc(self, phase: str, _info: dict[str, int]) -> None:
        """A `gc.callbacks` entry: how long each collection stopped the process."""
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gc_pauses_ms.append((time.perf_counter() - self._gc_started) * 1000.0)

    def attach(self, application: Any) -> None:
        from telegram import Update
        from telegram.ext import TypeHandler

        from bot.fast_updates import FastUpdate

        async def finished(update: Any, _context: Any) -> None:
            self.finished[update.update_id] = time.perf_counter()
            self.changed.set()

        async def failed(_update: object, _context: Any) -> None:
            self.errors += 1

        # Every update: PTB's, and the fast ones (bot/fast_updates.py).
        application.add_handler(TypeHandler((Update, FastUpdate), finished), group=FINISHED_GROUP)
        application.add_error_handler(failed)

    async def wait(self, done: Callable[[], bool], deadline: float) -> None:
        while not done():
            self.changed.clear()
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise BenchError("the bot stopped finishing updates (phase timeout)")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(remaining, 5.0))


async def feed(
    application: Any,
    meter: Meter,
    raws: Sequence[dict[str, Any]],
    first_id: int,
    name: str,
    *,
    window: int | None = None,
    rate: float | None = None,
) -> Phase:
    """Hand `raws` to the application (with update ids from `first_id`) and wait for all.

    With `window`: as fast as the bot finishes them, at most `window` unfinished at once. With
    `rate`: on a fixed schedule of `rate` per second, whatever the bot's progress (an update
    that is due while the loop is busy goes in as soon as the feeder runs again).

    The bot's queue is its durable inbox (bot/inbox.py): there the updates go in as the poller
    (bot/polling.py) hands them over, a batch of JSON at a time through `receive_sent`, which
    reads the updates and keeps the batch in one transaction before queueing it: with `window`, what
    getUpdates would answer (up to BATCH of those the window lets in); with `rate`, whatever is due
    at that moment (up to BATCH). A queue with no `receive_sent` (the echo bot has no inbox) gets
    each update as PTB's `Update` with `put_nowait`."""
    from telegram import Update

    queue = application.update_queue
    receive = getattr(queue, "receive_sent", None)
    bot = application.bot
    ids = range(first_id, first_id + len(raws))
    finished_before = len(meter.finished)
    gc_before = len(meter.gc_pauses_ms)
    errors_before = meter.errors
    cpu_before, sandbox_before = time.process_time(), process_cpu_s(meter.sandbox_pid)
    store = application.bot_data.get("store")
    writes_before = (store.db.transactions, store.db.commits) if store is not None else None
    started = time.perf_counter()
    deadline = started + PHASE_TIMEOUT_S
    index = 0
    while index < len(raws):
        if window is not None:
            await meter.wait(lambda i=index: i - (len(meter.finished) - finished_before) < window, deadline)
            due = index + min(BATCH, window - (index - (len(meter.finished) - finished_before)))
        elif rate is not None:
            wait = started + index / rate - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            due = index + max(1, min(BATCH, int((time.perf_counter() - started) * rate) + 1 - index))
        else:
            due = index + BATCH
        if receive is None:
            due = index + 1
        sent = [{"update_id": first_id + position, **raws[position]} for position in range(index, min(due, len(raws)))]
        handed = time.perf_counter()  # the batch is handed over, as getUpdates' answer would be
        for position, raw in enumerate(sent, start=index):
            # On a schedule, from the moment the update was due: a bot that asks for the next batch
            # late (the poller waits for the last one to be kept) leaves it waiting at Telegram.
            meter.entered[raw["update_id"]] = started + position / rate if rate is not None else handed
        index += len(sent)
        if receive is None:
            queue.put_nowait(Update.de_json(sent[0], bot))
        else:
            # As the poller: read (bot/fast_updates.py), kept and queued; the next getUpdates (which
            # tells Telegram these arrived) only once they are on disk.
            await (await receive(sent))
    await meter.wait(lambda: len(meter.finished) - finished_before >= len(raws), deadline)
    phase = Phase(name, updates=len(raws), errors=meter.errors - errors_before)
    phase.bot_cpu_s = time.process_time() - cpu_before
    phase.gc_pauses_ms = meter.gc_pauses_ms[gc_before:]
    if writes_before is not None:
        phase.transactions = store.db.transactions - writes_before[0]
        phase.commits = store.db.commits - writes_before[1]
    sandbox_after = process_cpu_s(meter.sandbox_pid)
    if sandbox_before is not None and sandbox_after is not None:
        phase.sandbox_cpu_s = sandbox_after - sandbox_before
    phase.seconds = max(meter.finished[i] for i in ids) - started
    phase.latencies_ms = [(meter.finished[i] - meter.entered[i]) * 1000.0 for i in ids]
    phase.kinds = [next(iter(raw)) for raw in raws]
    return phase


# --- the pinned process ------------------------------------------------------------------------


@contextlib.contextmanager
def pinned(cpus: set[int] | None) -> Iterator[None]:
    """Pin this process to `cpus`: every thread it has now, and so every thread they start."""
    tasks = Path("/proc/self/task")
    if not cpus or not hasattr(os, "sched_setaffinity") or not tasks.is_dir():
        yield
        return
    before = os.sched_getaffinity(0)
    for tid in os.listdir(tasks):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(int(tid), cpus)
    try:
        yield
    finally:
        for tid in os.listdir(tasks):
            with contextlib.suppress(OSError):
                os.sched_setaffinity(int(tid), before)


# --- the applications ----------------------------------------------------------------------------


async def run_phases(
    application: Any,
    updates: dict[str, list[dict[str, Any]]],
    rate: float,
    *,
    start: Callable[[], Awaitable[None]],
    stop: Callable[[], Awaitable[None]],
    profile: Path | None = None,
    sandbox_pid: int | None = None,
) -> dict[str, Phase]:
    """Start the application, feed each phase's updates in turn, stop it.

    With `profile`, the throughput phase runs under cProfile and its stats are written there (for
    `python -m pstats`, or snakeviz)."""
    meter = Meter(sandbox_pid)
    meter.attach(application)
    await start()
    gc.callbacks.append(meter.on_gc)
    try:
        phases: dict[str, Phase] = {}
        next_id = 1
        for name, raws in updates.items():
            if not raws:
                continue
            if name == "latency":
                phase = await feed(application, meter, raws, next_id, name, rate=rate)
            elif name == "throughput" and profile is not None:
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
                try:
                    phase = await feed(application, meter, raws, next_id, name, window=WINDOW)
                finally:
                    profiler.disable()
                    profiler.dump_stats(profile)
                progress(f"  profile of the throughput phase (slowed by profiling) in {profile}")
            else:
                phase = await feed(application, meter, raws, next_id, name, window=WINDOW)
            phases[name] = phase
            next_id += len(raws)
            summary = phase.summary()
            progress(
                f"  {name}: {summary['updates']} updates in {summary['seconds']} s, {summary['updates_per_s']}/s, "
                f"p50 {summary['p50_ms']} ms, p99 {summary['p99_ms']} ms, errors {summary['errors']}, "
                f"cores busy: bot {summary['bot_core_busy']}, sandbox {summary['sandbox_core_busy']}, "
                f"transactions {summary['transactions']} in {summary['commits']} commits, "
                f"gc {summary['gc_pauses']} pauses (max {summary['gc_max_ms']} ms, total {summary['gc_total_ms']} ms)"
            )
        return phases
    finally:
        gc.callbacks.remove(meter.on_gc)
        await stop()


def echo_application(base_url: str, token: str, like: Any) -> Any:
    """A bare echo bot: PTB's Application built as `like` (the bot) is, with the same HTTP client
    and the same handling of updates side by side, but no storage, no rate limiter, and one handler
    that echoes a message (`reply_text`) and one that answers a button press."""
    from telegram import Update
    from telegram.ext import ApplicationBuilder, CallbackQueryHandler, Defaults, MessageHandler, filters

    from bot.app import REQUEST_TIMEOUT_S

    async def echo(update: Update, _context: Any) -> None:
        await update.effective_message.reply_text(update.effective_message.text)

    async def answer(update: Update, _context: Any) -> None:
        await update.callback_query.answer(update.callback_query.data)

    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{base_url}/bot")
        .base_file_url(f"{base_url}/file/bot")
        .defaults(Defaults(block=True))
    )
    request = like.bot.request
    if type(request).__module__.startswith("bot."):  # the bot's own HTTP client (bot/transport.py)
        builder = builder.request(
            type(request)(
                read_timeout=REQUEST_TIMEOUT_S, write_timeout=REQUEST_TIMEOUT_S, connect_timeout=REQUEST_TIMEOUT_S
            )
        )
    else:
        builder = (
            builder.connect_timeout(REQUEST_TIMEOUT_S).read_timeout(REQUEST_TIMEOUT_S).write_timeout(REQUEST_TIMEOUT_S)
        )
    processor = like.update_processor
    if type(processor).__module__.startswith("bot."):  # the bot's own order (bot/updates.py), with no inbox
        from bot.updates import ChatOrderedUpdates

        builder = builder.concurrent_updates(ChatOrderedUpdates(processor.max_concurrent_updates))
    else:
        builder = builder.concurrent_updates(processor.max_concurrent_updates)
    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.add_handler(CallbackQueryHandler(answer))
    return application


async def count_written(database: Path, secret_key: str, max_demand_id: int) -> dict[str, int]:
    from storage import Store

    store = await Store.open(database, secret_key.encode())
    try:
        async with store.db.read() as conn:
            async with conn.execute("SELECT count(*) FROM demands WHERE id > ?", (max_demand_id,)) as cursor:
                demands = (await cursor.fetchone())[0]
            async with conn.execute("SELECT count(*) FROM decision_voices") as cursor:
                voices = (await cursor.fetchone())[0]
            states = await store.outbox.counts(conn)
    finally:
        await store.close()
    return {"demands_recorded": demands, "voices_recorded": voices, "outbox": states}


# --- the benchmark ---------------------------------------------------------------------------


async def measure(
    committees: int = DEFAULT_COMMITTEES,
    demands: int = DEFAULT_DEMANDS,
    active: int = DEFAULT_ACTIVE,
    updates: int = DEFAULT_UPDATES,
    *,
    warmup: int = DEFAULT_WARMUP,
    rate: float = DEFAULT_RATE,
    votes: float = DEFAULT_VOTES,
    seed: int = DEFAULT_SEED,
    cache: Path | None = None,
    keep: bool = False,
    echo: bool = True,
    profile: Path | None = None,
) -> dict[str, Any]:
    if not 1 <= active <= committees:
        raise BenchError("--active must be between 1 and --committees")
    from bot import collector
    from bot.app import build_application
    from bot.config import load_config
    from bot.credentials import Credentials

    async with Harness(active, keep=keep, limits=False) as harness:
        harness.write_config()
        # Its members each send dozens of updates a minute, as fast as the bot takes them: flood control
        # (bot/flood.py) would drop them; `asamblea bench flood` measures it.
        config = dataclasses.replace(load_config(harness.config_path), flood=None)
        regions = [region.id for region in config.federation.committee_regions()]
        wire = Wire(harness.base_url)
        try:
            started = time.monotonic()
            chats, members = await create_chats(wire, active)
            chat_ids = [int(chat["id"]) for chat in chats]
            seeded = await asyncio.to_thread(
                seed_database,
                harness.database,
                committees=committees,
                demands=demands,
                chat_ids=chat_ids,
                regions=regions,
                seed=seed,
                cache=cache,
            )
            movement = await post_proposals(wire, harness.token, chats, members, seeded.decisions)
            rng = random.Random(seed * 7919 + 1)
            serial = [0]
            phases_planned = {
                "warmup": plan(rng, active, warmup, votes, serial, cover=True),
                "throughput": plan(rng, active, updates, votes, serial),
                "latency": plan(rng, active, updates, votes, serial),
            }
            messages: dict[str, dict[int, dict]] = {name: {} for name in phases_planned}
            bot_updates = {
                name: await make_updates(wire, movement, planned, messages[name])
                for name, planned in phases_planned.items()
            }
            echo_updates = (
                {
                    name: await make_updates(wire, movement, planned, messages[name])
                    for name, planned in phases_planned.items()
                }
                if echo
                else {}
            )
            # The sandbox queued every update for a long poll that never comes; confirm them all (as
            # the updater would once it had them), so that it does not carry them through the run.
            await wire.bot(harness.token, "getUpdates", offset=2**31 - 1, timeout=0)
            progress(
                f"setup done in {time.monotonic() - started:.0f} s: {active} committees in session, "
                f"{sum(len(u) for u in bot_updates.values()) + sum(len(u) for u in echo_updates.values())} updates made"
            )
        finally:
            await wire.close()

        bot_cpu = {min(harness.bot_cpus)} if harness.bot_cpus else None
        credentials = Credentials(bot_token=harness.token, secret_key=seeded.secret_key.encode())
        with pinned(bot_cpu):
            progress(f"the bot, pinned to CPU {sorted(bot_cpu) if bot_cpu else 'any'}:")
            application = build_application(config, credentials, publish_menus=False)
            # The garbage collector as `asamblea run` sets it once the bot is built (bot/collector.py),
            # for both bots; it also sets aside the prepared updates, millions of objects the bot would
            # not have, which every full collection would otherwise walk.
            collector.settle()
            bot_phases = await run_phases(
                application,
                bot_updates,
                rate,
                start=lambda: _start(application),
                stop=lambda: _stop(application),
                profile=profile,
                sandbox_pid=harness.sandbox.pid if harness.sandbox else None,
            )
            echo_phases: dict[str, Phase] = {}
            if echo:
                progress("the echo bot, same CPU, same updates:")
                echo_app = echo_application(harness.base_url, harness.token, application)
                echo_phases = await run_phases(
                    echo_app,
                    echo_updates,
                    rate,
                    start=lambda: _start(echo_app),
                    stop=lambda: _stop(echo_app),
                    sandbox_pid=harness.sandbox.pid if harness.sandbox else None,
                )
        written = await count_written(harness.database, seeded.secret_key, seeded.max_demand_id)
        stats = await harness.client.stats()

    demands_fed = sum(1 for planned in phases_planned.values() for item in planned if item.text is not None)
    throughput, latency = bot_phases["throughput"], bot_phases["latency"]
    echo_throughput = echo_phases.get("throughput")
    result: dict[str, Any] = {
        "committees": committees,
        "demands_stored": demands,
        "active_committees": active,
        "vote_share": votes,
        "updates_per_phase": updates,
        "updates_per_s": round(throughput.updates_per_s, 1),
        "p50_ms": _rounded(latency.percentile(0.50)),
        "p99_ms": _rounded(latency.percentile(0.99)),
        "rate": rate,
        "echo_updates_per_s": round(echo_throughput.updates_per_s, 1) if echo_throughput else None,
        "ratio": round(echo_throughput.updates_per_s / throughput.updates_per_s, 3)
        if echo_throughput and throughput.updates_per_s
        else None,
        "ratio_means": "echo_updates_per_s / updates_per_s",
        "phases": {name: phase.summary() for name, phase in bot_phases.items()},
        "echo_phases": {name: phase.summary() for name, phase in echo_phases.items()},
        "errors": sum(phase.errors for phase in bot_phases.values()),
        "echo_errors": sum(phase.errors for phase in echo_phases.values()),
        "demands_fed": demands_fed,
        **written,
        "sandbox_requests": stats.get("requests", {}),
        "seeded_s": round(seeded.seconds, 1),
        "seeded_from_cache": seeded.cached,
        "machine": {
            **machine(),
            "pinned": {"sandbox": sorted(harness.sandbox_cpus or []), "bot": sorted(bot_cpu or [])},
        },
    }
    result["targets_met"] = {
        "updates_per_s": result["updates_per_s"] >= TARGETS["updates_per_s"],
        "p99_ms": result["p99_ms"] is not None and result["p99_ms"] <= TARGETS["p99_ms"],
        "ratio": result["ratio"] is not None and result["ratio"] <= TARGETS["ratio"],
    }
    if result["errors"]:
        result["error"] = f"{result['errors']} handler errors"
    progress(
        f"done: {result['updates_per_s']} updates/s, p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, "
        f"echo {result['echo_updates_per_s']}/s, ratio {result['ratio']}"
    )
    return result


def _rounded(value: float | None) -> float | None:
    return round(value, 3) if value is not None else None


async def _start(application: Any) -> None:
    """Start the Application without the updater: the updates come from `feed`, not a long poll."""
    await application.initialize()
    if application.post_init:
        await application.post_init(application)
    await application.start()


async def _stop(application: Any) -> None:
    if application.running:
        await application.stop()
    if application.post_shutdown:
        await application.post_shutdown(application)
    await application.shutdown()


def main(
    committees: int = DEFAULT_COMMITTEES,
    demands: int = DEFAULT_DEMANDS,
    active: int = DEFAULT_ACTIVE,
    updates: int = DEFAULT_UPDATES,
    *,
    warmup: int = DEFAULT_WARMUP,
    rate: float = DEFAULT_RATE,
    votes: float = DEFAULT_VOTES,
    seed: int = DEFAULT_SEED,
    use_cache: bool = True,
    keep: bool = False,
    profile: Path | None = None,
) -> int:
    started = time.monotonic()
    status = run(
        "ingest",
        lambda: measure(
            committees,
            demands,
            active,
            updates,
            warmup=warmup,
            rate=rate,
            votes=votes,
            seed=seed,
            cache=cache_folder("bench-ingest") if use_cache else None,
            keep=keep,
            profile=profile,
        ),
    )
    progress(f"took {time.monotonic() - started:.0f} s in all")
    return status
