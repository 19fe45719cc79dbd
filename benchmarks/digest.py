"""`asamblea bench digest`: the coordinating council's digest and the spread chart, at scale.

SPEC §5 asks that the digest and its chart for 10,000 committees, 100,000 demands and 1,000
calls be built within 1 s together, in at most 200 MB of resident memory.

Setup is not measured. A database is written straight with SQLite in a child process (so that
the writing does not count in this process's peak memory), with the schema, keys and sealed
columns as the bot makes them, and kept in a cache (~/.cache/asamblea/bench-digest, keyed by
every parameter and the schema) so that a rerun only copies it. It holds, over four days up to a
fixed moment (`UNTIL`, 6 January 2022, 08:00 in Almaty):

- `committees` committees spread unevenly over the example config's 17 committee regions: most
  active (some approved during those days), some pending, a few rejected or suspended, and a few
  active ones the bot can no longer reach;
- a strike that starts in Mangystau and spreads region by region along the borders: most
  regions go out, one only in the last hours, one is put down on the third day (its committees
  suppressed or back at work), two never join; each taking part committee has one to six
  status reports (joined, confirmed under a call, back at work, out again, suppressed), a few
  announced for the coming day;
- `calls` calls, mostly from committees to their region, some to their region and its
  neighbours, a few from the councils to several regions or everyone, a few cancelled or left as
  drafts; each delivered to the active committees it reaches (an outbox row per copy, sent, or
  failed for an unreachable committee), about half of the copies answered, with headcounts;
- `demands` demands of the active committees, most endorsed by their assembly (one backer),
  some proposed or rejected, and some merged into a few hundred popular ones (escalated,
  adopted, won), whose support then spans many committees and regions;
- the coordinating council and the Mangystau regional council linked, and their past digests.

Measured, in this process, for the coordinating council, in the config's default language: a
warm-up run (matplotlib is imported before, with `bot.digest`), then `runs` runs of
`digest_s` (`bot.digest.gather` in one read, as `bot.digest.send` does, plus `render`: the
database work and the words) and `chart_s` (`bot.digest.draw_chart`: the series, the regions'
states and the drawing in a worker thread); each figure is the median over the runs, and
`total_s` the median of each run's sum. `rss_mb` is the process's peak resident memory
(getrusage's ru_maxrss) after everything; `rss_now_mb` the resident memory after the imports,
the first digest and the first chart. The digest covers the last `every_hours` of the config
(6 h), as a scheduled digest does. Each run also builds the Mangystau regional council's digest
(`regional_digest_s`, not part of the target). The database has no ANALYZE statistics, as the
bot's has none: the query planner works as it does in production.

Result (last line of stdout): committees, demands, calls, reports, digest_s, chart_s, total_s,
rss_mb, targets, met, the details (what the database holds, the digest's size, the runs) and
machine. With `keep`, the temporary folder stays, with the digests' texts and the chart.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import multiprocessing
import os
import random
import resource
import shutil
import sqlite3
import statistics
import tempfile
import time
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from datetime import datetime
from operator import itemgetter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from benchmarks.harness import EXAMPLE_CONFIG, BenchError, machine, progress, run
from benchmarks.ingest import demand_text
from benchmarks.seed_cache import SeedCache, cache_folder

DEFAULT_COMMITTEES = 10_000
DEFAULT_DEMANDS = 100_000
DEFAULT_CALLS = 1_000
DEFAULT_SEED = 1
DEFAULT_RUNS = 5
CACHE_VERSION = 3  # bump when the seeded data changes shape

TARGETS = {"total_s": 1.0, "rss_mb": 200}

HOUR = 3600
DAY = 24 * HOUR
UNTIL = int(datetime(2022, 1, 6, 8, 0, tzinfo=ZoneInfo("Asia/Almaty")).timestamp())
HISTORY_S = 4 * DAY
START = UNTIL - HISTORY_S
FIRST_REGION = "mangystau"  # where the strike begins (and the regional council sits)
COORDINATING_COUNCIL = 1  # councils' ids as seeded
REGIONAL_COUNCIL = 2
PEOPLE = 997  # pseudonyms of who registered, reported, answered, submitted

_TRADES = (
    "Oil workers", "Drilling crew", "Bus drivers", "Miners", "Hospital nurses", "Teachers",
    "Railway workers", "Steel workers", "Power station", "Port workers", "Gas field", "Refinery",
    "Нефтяники", "Водители", "Шахтёры", "Медсёстры", "Учителя", "Мұнайшылар", "Теміржолшылар",
)  # fmt: skip
_CALL_TEXTS = (
    "Everyone out at the start of the shift, assemble at the gates",
    "Gas at 50 tenge: we stop until the price comes back down",
    "Solidarity with Zhanaozen: stop work and gather in the square",
    "Block the road to the field, no trucks in or out",
    "Rally at the akimat, bring your committee's banner",
    "Все на площадь у акимата в 11:00",
    "Бастуем до освобождения задержанных",
)  # fmt: skip


# --- the database ----------------------------------------------------------------------------


def seed_database(
    path: Path,
    *,
    committees: int,
    demands: int,
    calls: int,
    seed: int,
    cache: Path | None,
) -> dict[str, Any]:
    """The database at `path`, from the cache if it has these parameters, else written anew in a
    child process (and cached). Returns what it holds (`meta`), with the secret key.

    Blocking: the writing takes a while at full scale."""
    from bot.config import load_config

    started = time.monotonic()
    regions = [region.id for region in load_config(EXAMPLE_CONFIG).federation.committee_regions()]
    stored = SeedCache(cache, CACHE_VERSION, committees, demands, calls, regions, UNTIL, seed)
    meta = stored.load(path)
    if meta is not None:
        return {**meta, "cached": True, "seed_s": round(time.monotonic() - started, 1)}
    secret_key = os.urandom(24).hex()
    meta_path = path.with_suffix(".meta.json")
    # A child process of its own: this one's peak memory is what the benchmark reports.
    child = multiprocessing.get_context("spawn").Process(
        target=_write_in_child,
        args=(str(path), secret_key, committees, demands, calls, seed, str(meta_path)),
        name="bench-digest-seed",
    )
    child.start()
    child.join()
    if child.exitcode != 0 or not meta_path.is_file():
        raise BenchError(f"writing the database failed (exit code {child.exitcode})")
    meta = {**json.loads(meta_path.read_text(encoding="utf-8")), "secret_key": secret_key}
    meta_path.unlink()
    seconds = time.monotonic() - started
    progress(f"database written in {seconds:.1f} s: {_summary(meta)}")
    stored.save(path, meta)
    return {**meta, "cached": False, "seed_s": round(seconds, 1)}


def _summary(meta: dict[str, Any]) -> str:
    rows = meta["rows"]
    return ", ".join(f"{rows[name]} {name.replace('_', ' ')}" for name in rows)


def _write_in_child(
    path: str, secret_key: str, committees: int, demands: int, calls: int, seed: int, meta_path: str
) -> None:
    meta = write_database(Path(path), secret_key, committees=committees, demands=demands, calls=calls, seed=seed)
    Path(meta_path).write_text(json.dumps(meta), encoding="utf-8")


def write_database(path: Path, secret_key: str, *, committees: int, demands: int, calls: int, seed: int) -> dict:
    """Schema and keys as the bot makes them, then every row in one transaction with executemany."""
    from bot.config import load_config
    from storage import Store
    from storage.crypto import Crypto

    async def schema() -> None:
        store = await Store.open(path, secret_key.encode())
        await store.close()

    asyncio.run(schema())
    federation = load_config(EXAMPLE_CONFIG).federation
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        salt = conn.execute("SELECT salt FROM keyring WHERE id = 1").fetchone()[0]
        crypto = Crypto.derive(secret_key.encode(), bytes(salt))
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN IMMEDIATE")
        movement = _Movement(conn, crypto, federation, random.Random(seed))
        movement.councils()
        movement.committees(committees)
        movement.plan_regions()
        movement.calls(calls)
        movement.strike()
        movement.demands(demands)
        conn.execute("COMMIT")  # no ANALYZE: the bot never runs one, so its planner has no statistics either
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return {"rows": movement.rows, "regions": movement.roles}


class _Movement:
    """The seeded movement, written table by table; later tables follow what earlier ones hold."""

    def __init__(self, conn: sqlite3.Connection, crypto: Any, federation: Any, rng: random.Random) -> None:
        self.conn, self.crypto, self.federation, self.rng = conn, crypto, federation, rng
        self.people = [crypto.user(2_000_000 + n) for n in range(PEOPLE)]
        self.regions = [region.id for region in federation.committee_regions()]
        self.rows: dict[str, int] = {}
        self.roles: dict[str, Any] = {}
        # Filled by committees(): the active ones, by region, in the order they were approved.
        self.region_of: dict[int, str] = {}
        self.active: list[int] = []
        self.approved: dict[str, list[tuple[int, int]]] = {}  # region -> [(decided_at, id)]
        self.unreachable_since: dict[int, int] = {}
        # Filled by calls(): the strike calls reaching each region, by start.
        self.strike_calls: dict[str, list[tuple[int, int]]] = {}

    def person(self) -> bytes:
        return self.people[self.rng.randrange(PEOPLE)]

    def count(self, table: str) -> int:
        (n,) = self.conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        self.rows[table] = n
        return n

    # -- councils -------------------------------------------------------------------------------
    def councils(self) -> None:
        crypto = self.crypto
        rows = []
        for council_id, region in ((COORDINATING_COUNCIL, self.federation.root.id), (REGIONAL_COUNCIL, FIRST_REGION)):
            chat_id = -1_009_900_000_000 - council_id
            rows.append(
                (
                    council_id,
                    region,
                    crypto.chat(chat_id),
                    crypto.seal_chat_id(chat_id, table="councils", row=council_id),
                    START - 20 * DAY,
                    self.person(),
                )
            )
        self.conn.executemany(
            """INSERT INTO councils (id, region, chat_ref, chat_id_ct, chat_type, linked_at, linked_by)
               VALUES (?, ?, ?, ?, 'supergroup', ?, ?)""",
            rows,
        )
        # The digests they got: every 6 hours and at 08:00, the last one 6 hours before UNTIL.
        digests = [
            (council_id, slot, slot - 6 * HOUR, slot + 5)
            for council_id in (COORDINATING_COUNCIL, REGIONAL_COUNCIL)
            for slot in range(START - 6 * HOUR, UNTIL, 6 * HOUR)
        ]
        self.conn.executemany(
            "INSERT INTO digests (council_id, slot, covers_from, built_at) VALUES (?, ?, ?, ?)", digests
        )
        self.count("councils")
        self.count("digests")

    # -- committees -----------------------------------------------------------------------------
    def committees(self, count: int) -> None:
        rng, crypto = self.rng, self.crypto
        weights = [2.5 if region == FIRST_REGION else rng.uniform(0.4, 1.6) for region in self.regions]
        rows = []
        for number in range(1, count + 1):
            region = rng.choices(self.regions, weights)[0]
            chat_id = -1_001_000_000_000 - number
            roll = rng.random()
            status = (
                "active" if roll < 0.88 else "pending" if roll < 0.96 else "rejected" if roll < 0.98 else "suspended"
            )
            if status == "pending":
                registered = UNTIL - int(rng.uniform(10 * 60, 2 * DAY))
            elif rng.random() < 0.7:
                registered = START - int(rng.uniform(DAY, 40 * DAY))
            else:  # the wave of committees the strike brings
                registered = START + int(rng.uniform(0, HISTORY_S - HOUR))
            decided = (
                None if status == "pending" else min(registered + int(rng.expovariate(1 / (4 * HOUR))) + 60, UNTIL - 60)
            )
            reachable = 1
            if status == "active" and rng.random() < 0.005:
                reachable = 0
                self.unreachable_since[number] = UNTIL - int(rng.uniform(0, 36 * HOUR))
            if status == "active":
                self.active.append(number)
                self.region_of[number] = region
                self.approved.setdefault(region, []).append((decided, number))
            name = f"{rng.choice(_TRADES)} {number:05d}"
            rows.append(
                (
                    number,
                    crypto.chat(chat_id),
                    crypto.seal_chat_id(chat_id, table="committees", row=number),
                    crypto.seal_text(name, table="committees", column="name_ct", row=number),
                    region,
                    rng.choice(("workplace", "workplace", "workplace", "neighbourhood", "campus")),
                    status,
                    reachable,
                    self.person(),
                    registered,
                    None if decided is None else self.person(),
                    decided,
                )
            )
        self.conn.executemany(
            """INSERT INTO committees (id, chat_ref, chat_id_ct, name_ct, region, kind, status, reachable,
                                       registered_by, registered_at, decided_by, decided_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            rows,
        )
        for approved in self.approved.values():
            approved.sort()
        self.count("committees")
        self.rows["active_committees"] = len(self.active)

    def reached(self, regions: Sequence[str], at: int) -> list[int]:
        """The active committees of `regions` approved by `at`."""
        found = []
        for region in regions:
            approved = self.approved.get(region, [])
            found += [committee for _decided, committee in approved[: bisect_right(approved, (at, math.inf))]]
        return found

    # -- calls ----------------------------------------------------------------------------------
    def calls(self, count: int) -> None:
        rng, crypto, federation = self.rng, self.crypto, self.federation
        kinds = ("strike", "general_strike", "solidarity_strike", "rally", "blockade")
        strike_kinds = {"strike", "general_strike", "solidarity_strike"}
        # The first call: a strike in Mangystau an hour after its first committees went out.
        moments = sorted(
            [START + HOUR] + [START + HOUR + int(rng.uniform(0, HISTORY_S - 2 * HOUR)) for _ in range(count - 1)]
        )[:count]
        call_rows, delivery_rows, answer_rows = [], [], []
        outbox_id = 0

        def outbox_rows():
            nonlocal outbox_id
            for call_id, kind, issued, committees, payload in pending_copies:
                for k, committee in enumerate(committees):
                    outbox_id += 1
                    delivery_rows.append((call_id, committee, outbox_id))
                    failed = self.unreachable_since.get(committee, UNTIL + 1) <= issued
                    sent_at = issued + 1 + k * 2 // 59  # paced at 29.5 a second
                    yield (
                        outbox_id,
                        committee,
                        "call",
                        crypto.seal_text(payload, table="outbox", column="payload_ct", row=outbox_id),
                        "failed" if failed else "sent",
                        1,
                        issued,
                        None if failed else sent_at,
                        None if failed else 100_000 + outbox_id,
                        "Forbidden: bot was kicked from the supergroup chat" if failed else None,
                    )
                    answered = self.answer(call_id, kind, committee, issued, failed)
                    if answered:
                        answer_rows.append(answered)

        pending_copies = []
        for call_id, issued in enumerate(moments, start=1):
            roll = rng.random()
            kind = "strike" if call_id == 1 else rng.choices(kinds, (40, 5, 15, 25, 15))[0]
            if call_id == 1 or roll < 0.93:  # a committee's call
                joined = [r for r in self.regions if self.roles.get("joins", {}).get(r, UNTIL) <= issued]
                region = FIRST_REGION if call_id == 1 else rng.choice(joined or [FIRST_REGION])
                candidates = self.reached([region], issued)
                issuer = rng.choice(candidates) if candidates else None
                if issuer is None:
                    continue
                scope = "region" if call_id == 1 or rng.random() < 0.88 else "neighbours"
                targets = [region] if scope == "region" else [region, *federation.regions[region].neighbours]
                issuer_committee, issuer_council, issuer_region = issuer, None, region
            elif roll < 0.96:  # the regional council, to its region
                scope, targets = "region", [FIRST_REGION]
                issuer_committee, issuer_council, issuer_region = None, REGIONAL_COUNCIL, FIRST_REGION
            else:  # the coordinating council, to several regions or everyone
                if rng.random() < 0.5:
                    scope, targets = "everyone", list(self.regions)
                else:
                    targets = sorted(rng.sample(self.regions, 4))
                    scope = "regions:" + ",".join(targets)
                issuer_committee, issuer_council, issuer_region = None, COORDINATING_COUNCIL, federation.root.id
            starts = issued + rng.choice((0, 0, HOUR, 3 * HOUR, 12 * HOUR, DAY))
            status_roll = rng.random()
            status = "active" if status_roll < 0.94 else "cancelled" if status_roll < 0.98 else "discarded"
            text = rng.choice(_CALL_TEXTS)
            code = f"{rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}{call_id:04d}-{rng.randrange(10_000):04d}"
            call_rows.append(
                (
                    call_id,
                    crypto.secret_code(code),
                    crypto.seal_text(code, table="calls", column="code_ct", row=call_id),
                    kind,
                    scope,
                    issuer_committee,
                    issuer_council,
                    issuer_region,
                    starts,
                    crypto.seal_text("at the gates of the field", table="calls", column="place_ct", row=call_id),
                    crypto.seal_text(text, table="calls", column="text_ct", row=call_id),
                    status,
                    issued - 120,
                    self.person(),
                    None if status == "discarded" else issued,
                    issued + 2 * HOUR if status == "cancelled" else None,
                )
            )
            if status == "discarded":
                continue
            reached = [c for c in self.reached(targets, issued) if c != issuer_committee]
            markup = {
                "inline_keyboard": [
                    [{"text": "✅ We join", "callback_data": f"v1:ca:{call_id}:join"}],
                    [{"text": "❌ We can't", "callback_data": f"v1:ca:{call_id}:decline"}],
                    [{"text": "🤔 Undecided", "callback_data": f"v1:ca:{call_id}:undecided"}],
                ]
            }
            payload = json.dumps(
                {"text": f"📢 Strike call {code}\n\n{text}", "reply_markup": markup}, ensure_ascii=False
            )
            pending_copies.append((call_id, kind, issued, reached, payload))
            if kind in strike_kinds and status == "active":
                for region in targets:
                    self.strike_calls.setdefault(region, []).append((starts, call_id))
        for region_calls in self.strike_calls.values():
            region_calls.sort()
        self.conn.executemany(
            """INSERT INTO calls (id, code_ref, code_ct, kind, scope, issuer_committee_id, issuer_council_id,
                                  issuer_region, starts_at, place_ct, text_ct, status, created_at, created_by,
                                  issued_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            call_rows,
        )
        self.conn.executemany(
            """INSERT INTO outbox (id, committee_id, purpose, payload_ct, state, attempts, created_at, sent_at,
                                   message_id, error, bulk)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)""",
            outbox_rows(),
        )
        self.conn.executemany(
            "INSERT INTO call_deliveries (call_id, committee_id, outbox_id) VALUES (?, ?, ?)", delivery_rows
        )
        self.conn.executemany(
            """INSERT INTO call_answers (call_id, committee_id, answer, headcount, answered_by, answered_at)
               VALUES (?, ?, ?, ?, ?, ?)""",
            answer_rows,
        )
        self.count("calls")
        self.count("call_deliveries")
        self.count("call_answers")
        self.count("outbox")
        (failed,) = self.conn.execute("SELECT count(*) FROM outbox WHERE state = 'failed'").fetchone()
        self.rows["failed_copies"] = failed

    def answer(self, call_id: int, kind: str, committee: int, issued: int, failed: bool) -> tuple | None:
        """About half of the copies are answered within hours; joins often with a headcount."""
        rng = self.rng
        if failed or rng.random() >= 0.5 * min(1.0, (UNTIL - issued) / (3 * HOUR)):
            return None
        answered = issued + 30 + int(rng.expovariate(1 / (2 * HOUR)))
        if answered > UNTIL:
            return None
        answer = rng.choices(("join", "decline", "undecided"), (60, 25, 15))[0]
        headcount = rng.randint(5, 400) if answer == "join" and rng.random() < 0.5 else None
        return (call_id, committee, answer, headcount, self.person(), answered)

    # -- the strike -----------------------------------------------------------------------------
    def plan_regions(self) -> dict[str, int]:
        """When each region's committees start going out: along the borders from Mangystau, one
        region only in the digest's last hours, two never."""
        rng, federation = self.rng, self.federation
        hops = {FIRST_REGION: 0}
        queue = [FIRST_REGION]
        for region in queue:
            for neighbour in federation.regions[region].neighbours:
                if neighbour not in hops:
                    hops[neighbour] = hops[region] + 1
                    queue.append(neighbour)
        others = [r for r in self.regions if r != FIRST_REGION]
        late, crushed, *quiet = rng.sample(others, 4)
        joins = {}
        for region in self.regions:
            if region in quiet:
                continue
            if region == late:
                joins[region] = UNTIL - int(rng.uniform(2 * HOUR, 5 * HOUR))
            elif region == FIRST_REGION:
                joins[region] = START
            else:
                joins[region] = START + hops.get(region, 4) * 8 * HOUR + int(rng.uniform(0, 5 * HOUR))
        self.roles = {"late": late, "crushed": crushed, "quiet": quiet, "joins": joins}
        return joins

    def strike(self) -> None:
        """Status reports: each taking part committee joins after its region opens, and may confirm,
        go back, come out again or be suppressed; the crushed region ends on the third day."""
        rng = self.rng
        joins = self.roles["joins"]
        crushed, late = self.roles["crushed"], self.roles["late"]
        crackdown = START + 3 * DAY + int(rng.uniform(0, 4 * HOUR))
        participation = {
            r: 0.15 if r == late else 0.85 if r == FIRST_REGION else rng.uniform(0.35, 0.75) for r in joins
        }
        reports: list[tuple[int, int, str, int, int | None]] = []  # (reported_at, committee, status, since, call)

        def call_for(region: str, at: int) -> int | None:
            region_calls = self.strike_calls.get(region, [])
            k = bisect_left(region_calls, (at + 1, 0))
            return region_calls[k - 1][1] if k and rng.random() < 0.6 else None

        for committee in self.active:
            region = self.region_of[committee]
            if region not in joins or rng.random() >= participation[region]:
                continue
            mean_delay = HOUR if region == late else 8 * HOUR
            joined = joins[region] + int(rng.expovariate(1 / mean_delay))
            if joined > UNTIL:
                if joined < UNTIL + DAY and rng.random() < 0.2:  # "we go out tomorrow at six"
                    reports.append((UNTIL - int(rng.uniform(0, 3 * HOUR)), committee, "on_strike", joined, None))
                continue
            history = [("on_strike", joined, call_for(region, joined))]
            moment, status = joined, "on_strike"
            while len(history) < 6:  # every half day or so: confirmed under a call, back, out again
                moment += int(rng.expovariate(1 / (12 * HOUR))) + 600
                if moment > UNTIL or (status == "suppressed" and rng.random() < 0.8):
                    break
                roll = rng.random()
                if status != "on_strike" or roll < 0.55:
                    status = "on_strike"
                else:
                    status = "back_at_work" if roll < 0.95 else "suppressed"
                history.append((status, moment, call_for(region, moment) if status == "on_strike" else None))
            if region == crushed:
                history = [h for h in history if h[1] < crackdown]
                end = crackdown + int(rng.uniform(0, 3 * HOUR))
                history.append(("suppressed" if rng.random() < 0.7 else "back_at_work", end, None))
            for status, since, call_id in history:
                if since > UNTIL:
                    break
                # Mostly said at once; now and then a day's news in the evening ("since this morning").
                said = since + (int(rng.uniform(0, 10 * HOUR)) if rng.random() < 0.2 else int(rng.uniform(0, 600)))
                reports.append((min(said, UNTIL), committee, status, since, call_id))
        reports.sort(key=itemgetter(0, 1, 3))
        self.conn.executemany(
            """INSERT INTO strike_status (id, committee_id, status, since, call_id, reported_by, reported_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            (
                (number, committee, status, since, call_id, self.person(), said)
                for number, (said, committee, status, since, call_id) in enumerate(reports, start=1)
            ),
        )
        self.count("strike_status")

    # -- demands --------------------------------------------------------------------------------
    def demands(self, count: int) -> None:
        """Most endorsed by their assembly (their committee backs them), some merged into a few
        hundred popular ones; those rose to the councils."""
        rng, crypto = self.rng, self.crypto
        if not self.active or not count:
            self.rows.update(demands=0, demand_support=0)
            return
        moments = sorted(
            START - int(rng.uniform(0, 16 * DAY)) if rng.random() < 0.3 else START + int(rng.uniform(0, HISTORY_S))
            for _ in range(count)
        )
        committee_of = [rng.choice(self.active) for _ in range(count)]
        text_of = [demand_text(rng) for _ in range(count)]
        status = ["proposed"] * count
        for i in range(count):
            roll = rng.random()
            if moments[i] < UNTIL - 2 * HOUR:  # an assembly takes a while
                status[i] = (
                    "endorsed" if roll < 0.55 else "rejected" if roll < 0.6 else "merged" if roll < 0.68 else "proposed"
                )
        endorsed = [i for i in range(count) if status[i] == "endorsed"]
        popular = rng.sample(endorsed, min(len(endorsed), max(1, count // 500)))
        popular.sort()
        rank_weights = [1 / (rank + 1) ** 1.1 for rank in range(len(popular))]
        for rank, i in enumerate(popular):
            status[i] = (
                rng.choices(("escalated", "adopted", "won", "conceded"), (60, 30, 6, 4))[0]
                if rank < 150
                else "endorsed"
            )
        endorsed_at = [min(m + int(rng.uniform(HOUR, DAY)), UNTIL - 60) for m in moments]
        merged_into: dict[int, int] = {}
        support: dict[tuple[int, int], int] = {}
        for i in range(count):
            if status[i] in ("proposed", "rejected"):
                continue
            support[(i + 1, committee_of[i])] = endorsed_at[i]
            if status[i] == "merged":
                # Into an older popular demand, the better known ones more often.
                older = bisect_left(popular, i)
                if not older:
                    status[i] = "endorsed"
                    continue
                target = popular[rng.choices(range(older), rank_weights[:older])[0]]
                merged_into[i] = target
                text_of[i] = text_of[target].lower()
                support.setdefault((target + 1, committee_of[i]), endorsed_at[i])
        adopted = {"adopted", "won", "conceded"}

        def rows():
            for i in range(count):
                demand_id = i + 1
                yield (
                    demand_id,
                    committee_of[i],
                    crypto.seal_text(text_of[i], table="demands", column="text_ct", row=demand_id),
                    status[i],
                    merged_into[i] + 1 if i in merged_into else None,
                    "group" if rng.random() < 0.8 else "private",
                    self.person(),
                    moments[i],
                    endorsed_at[i] if status[i] != "proposed" else None,
                    endorsed_at[i] + HOUR if status[i] in adopted else None,
                )

        self.conn.executemany(
            """INSERT INTO demands (id, committee_id, text_ct, status, merged_into, via, submitted_by, created_at,
                                    updated_at, adopted_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            rows(),
        )
        self.conn.executemany(
            "INSERT INTO demand_support (demand_id, committee_id, endorsed_at) VALUES (?, ?, ?)",
            ((demand_id, committee, at) for (demand_id, committee), at in sorted(support.items())),
        )
        self.count("demands")
        self.count("demand_support")
        (most,) = self.conn.execute(
            "SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM demand_support GROUP BY demand_id)"
        ).fetchone()
        self.rows["most_backers"] = most


# --- measuring -------------------------------------------------------------------------------


def _rss_now_mb() -> float | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KB on Linux
    return round(peak / 1024, 1)


async def measure(
    committees: int,
    demands: int,
    calls: int,
    *,
    seed: int = DEFAULT_SEED,
    runs: int = DEFAULT_RUNS,
    cache: Path | None = None,
    keep: bool = False,
) -> dict[str, Any]:
    import bot.chart  # noqa: F401  (matplotlib, imported before anything is timed)
    from bot.config import load_config
    from bot.digest import draw_chart, gather, render
    from domain.spread import snapshot
    from storage import Store

    config = load_config(EXAMPLE_CONFIG)
    federation = config.federation
    root = federation.root.id
    language = config.default_language
    every = int((config.digest_every_hours or 6) * HOUR)
    since, until = UNTIL - every, UNTIL
    rss_now = {"after_imports": _rss_now_mb()}  # resident memory at these points (peak: rss_mb)
    workdir = Path(tempfile.mkdtemp(prefix="asamblea-bench-digest-"))
    try:
        database = workdir / "asamblea.sqlite3"
        meta = await asyncio.to_thread(
            seed_database, database, committees=committees, demands=demands, calls=calls, seed=seed, cache=cache
        )
        store = await Store.open(database, meta["secret_key"].encode())
        try:

            async def digest_for(region: str) -> tuple[float, Any, list[str]]:
                seat = federation.councils.get(region)
                name = seat.display_name(language) if seat else region
                started = time.perf_counter()
                async with store.db.read() as conn:
                    facts = await gather(conn, store, config, region, since=since, until=until)
                texts = render(facts, config, language, council_name=name)
                return time.perf_counter() - started, facts, texts

            samples: list[tuple[float, float]] = []
            regional: list[float] = []
            for number in range(runs + 1):
                digest_s, facts, texts = await digest_for(root)
                rss_now.setdefault("after_first_digest", _rss_now_mb())
                started = time.perf_counter()
                png = await draw_chart(facts.reports, config, language, until=until)
                chart_s = time.perf_counter() - started
                rss_now.setdefault("after_first_chart", _rss_now_mb())
                regional_s, _facts, regional_texts = await digest_for(FIRST_REGION)
                label = "warm-up" if number == 0 else f"run {number}/{runs}"
                progress(
                    f"{label}: digest {digest_s:.3f} s, chart {chart_s:.3f} s (regional digest {regional_s:.3f} s)"
                )
                if number:
                    samples.append((digest_s, chart_s))
                    regional.append(regional_s)
        finally:
            await store.close()
        now = snapshot(facts.reports, until)
        (workdir / "digest.txt").write_text("\n\n---\n\n".join(texts) + "\n", encoding="utf-8")
        (workdir / "regional-digest.txt").write_text("\n\n---\n\n".join(regional_texts) + "\n", encoding="utf-8")
        (workdir / "chart.png").write_bytes(png)
        digest_s = statistics.median(d for d, _ in samples)
        chart_s = statistics.median(c for _, c in samples)
        total_s = statistics.median(d + c for d, c in samples)
        rss_mb = _peak_rss_mb()
        rows = meta["rows"]
        result = {
            "committees": committees,
            "demands": demands,
            "calls": calls,
            "reports": rows["strike_status"],
            "digest_s": round(digest_s, 3),
            "chart_s": round(chart_s, 3),
            "total_s": round(total_s, 3),
            "rss_mb": rss_mb,
            "targets": TARGETS,
            "met": total_s <= TARGETS["total_s"] and rss_mb <= TARGETS["rss_mb"],
            "regional_digest_s": round(statistics.median(regional), 3),
            "rss_now_mb": rss_now,
            "runs": [{"digest_s": round(d, 3), "chart_s": round(c, 3)} for d, c in samples],
            "language": language,
            "window": {"since": since, "until": until},
            "on_strike": now.committees_on_strike,
            "regions_on_strike": list(now.regions_on_strike),
            "on_strike_by_region": now.on_strike,
            "digest_messages": len(texts),
            "digest_chars": sum(len(text) for text in texts),
            "chart_bytes": len(png),
            "rows": rows,
            "seeded_from_cache": meta["cached"],
            "seed_s": meta["seed_s"],
            "machine": machine(),
        }
        if keep:
            result["workdir"] = str(workdir)
        progress(
            f"done: digest {result['digest_s']} s + chart {result['chart_s']} s = {result['total_s']} s, "
            f"peak RSS {rss_mb} MB ({'targets met' if result['met'] else 'targets NOT met'})"
        )
        return result
    finally:
        if keep:
            progress(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def main(
    committees: int = DEFAULT_COMMITTEES,
    demands: int = DEFAULT_DEMANDS,
    calls: int = DEFAULT_CALLS,
    *,
    seed: int = DEFAULT_SEED,
    keep: bool = False,
    runs: int = DEFAULT_RUNS,
    use_cache: bool = True,
) -> int:
    started = time.monotonic()
    status = run(
        "digest",
        lambda: measure(
            committees,
            demands,
            calls,
            seed=seed,
            runs=runs,
            cache=cache_folder("bench-digest") if use_cache else None,
            keep=keep,
        ),
    )
    progress(f"took {time.monotonic() - started:.0f} s in all")
    return status
