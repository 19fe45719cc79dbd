"""Retention: what the daily purge deletes, table by table, and what it never touches.

Everything older than `[privacy] retention_days` goes (bot/purge_schedule.py runs `purge` once a
day). "Older" is the last moment a row mattered, not when it was written: a call is old once it
started and was last changed before the cutoff, a decision once it closed before it. Per table,
what goes and what never does:

- `calls`, with their deliveries, answers, tallies and reminders: a draft or discarded call written
  before the cutoff; an issued or cancelled call that started, and was last changed, before it.
  Never one with a copy or a live tally still waiting in the outbox.
- `decisions`, with their voices: closed before the cutoff. Never an open decision.
- `delegates`: recalled or ended, and gone (or their term over) before the cutoff. Never a
  delegate serving now, however long ago they were elected.
- `demands`, with their support and escalations: written and last changed before the cutoff, with
  no endorsement, escalation or council verdict since, and no decision about them left. Never the
  common programme (a demand once adopted, whatever became of it since), nor a demand other
  demands were merged into while any of those stays.
- `strike_status`: reported, and in force from, before the cutoff, once a later report is in force
  now. Never a committee's current status (however old), nor a report planned ahead.
- `outbox`: sent, failed or dropped rows written and sent before the cutoff, payloads included.
  Never a pending or in-flight row, nor a message the bot may still edit: a kept call's copies and
  tallies, a demand before a council that has not decided, an appeal not decided, a message with
  an edit waiting or written after the cutoff.
- `digests`: built before the cutoff. Never a council's latest (the anchor of "since the last").
- `solidarity_appeals`: suggested and decided before the cutoff.
- `audit`: privileged actions done before the cutoff.
- `inbox`: the ids of updates handled more than two days ago, whatever the retention (they hold
  nothing else; an update not handled yet is never purged).
- `verify_misses`: older than a day (they count for an hour), or than the cutoff if sooner.
- `council_codes`: expired, or used, before the cutoff.
- `chat_settings`: the language of a private chat (or of a group that never registered) last set
  before the cutoff. Never a committee's or a council's.
- `committees`: a registration its council rejected before the cutoff, with nothing left to send
  it. Never any other committee: pending, active, suspended, or wiped (which keeps no name and no
  chat, storage/wipe.py).

Never purged: the keyring, `councils`, `committee_rules`, `demand_links` (a committee's current
link), and everything the rules above keep. The order of the rules keeps the foreign keys whole:
calls before the outbox rows their copies were, decisions before the demands they were about,
demands merged away before the demands they joined.

A row's id may be given again once every newer row of its table is gone too (SQLite takes the
largest id plus one), so a demand number can come back after a quiet retention period.

Rows go in batches, each its own short transaction, so handlers wait for at most one batch;
`secure_delete` (storage/database.py) overwrites them with zeros where they lie. Then
`Database.scrub` rebuilds the file (VACUUM: copies a b-tree balance left in pages' free space
go, those of rows deleted or rewritten during the day too) and empties the write-ahead log,
where earlier copies of the pages would otherwise linger until overwritten.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import aiosqlite

from storage.database import Database
from storage.inbox import REMEMBER_HANDLED_S

log = logging.getLogger(__name__)

DAY_S = 24 * 3600
# /verify misses count for an hour (handlers/verify.py); a day is plenty for any retention.
VERIFY_MISSES_S = DAY_S
BATCH = 500


def cutoff(now: int, retention_days: int) -> int:
    """The moment before which data is old: `retention_days` whole days before `now`."""
    return now - retention_days * DAY_S


@dataclass(frozen=True)
class Rule:
    """One table's purge: its rows whose `key` matches `condition` (SQL over the table's own
    columns, qualified by its name; parameters :cutoff, :now and :misses) are deleted."""

    table: str
    key: str
    condition: str


_WAITING = "('pending', 'inflight')"

RULES = (
    Rule(
        "calls",
        "id",
        f"""(calls.status IN ('draft', 'discarded') AND calls.created_at < :cutoff)
            OR (calls.status IN ('active', 'cancelled') AND calls.starts_at < :cutoff
                AND coalesce(calls.updated_at, calls.issued_at, calls.created_at) < :cutoff
                AND NOT EXISTS (SELECT 1 FROM call_deliveries d JOIN outbox o ON o.id = d.outbox_id
                                WHERE d.call_id = calls.id AND o.state IN {_WAITING})
                AND NOT EXISTS (SELECT 1 FROM call_tallies t JOIN outbox o ON o.id = t.outbox_id
                                WHERE t.call_id = calls.id AND o.state IN {_WAITING}))""",
    ),
    Rule(
        "decisions",
        "id",
        "decisions.status != 'open' AND coalesce(decisions.closed_at, decisions.closes_at) < :cutoff",
    ),
    Rule(
        "delegates",
        "id",
        """delegates.status != 'serving'
           AND coalesce(delegates.left_at, delegates.ends_at, delegates.elected_at) < :cutoff""",
    ),
    # Demands merged away first: a demand others were merged into goes only after them.
    *(
        Rule(
            "demands",
            "id",
            f"""{merged} AND demands.adopted_at IS NULL
                AND demands.created_at < :cutoff AND coalesce(demands.updated_at, demands.created_at) < :cutoff
                AND NOT EXISTS (SELECT 1 FROM demand_support s
                                WHERE s.demand_id = demands.id AND s.endorsed_at >= :cutoff)
                AND NOT EXISTS (SELECT 1 FROM demand_escalations e WHERE e.demand_id = demands.id
                                AND (e.escalated_at >= :cutoff OR coalesce(e.decided_at, 0) >= :cutoff))
                AND NOT EXISTS (SELECT 1 FROM decisions k WHERE k.demand_id = demands.id)
                AND NOT EXISTS (SELECT 1 FROM demands m WHERE m.merged_into = demands.id)""",
        )
        for merged in ("demands.status = 'merged'", "demands.status != 'merged'")
    ),
    Rule(
        "strike_status",
        "id",
        """strike_status.since < :cutoff AND strike_status.reported_at < :cutoff
           AND EXISTS (SELECT 1 FROM strike_status n
                       WHERE n.committee_id = strike_status.committee_id AND n.since <= :now
                       AND (n.since > strike_status.since
                            OR (n.since = strike_status.since AND n.id > strike_status.id)))""",
    ),
    Rule(
        "committees",
        "id",
        f"""committees.status = 'rejected' AND coalesce(committees.decided_at, committees.registered_at) < :cutoff
            AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.committee_id = committees.id AND o.state IN {_WAITING})""",
    ),
    Rule(
        "outbox",
        "id",
        f"""outbox.state IN ('sent', 'failed', 'dropped')
            AND outbox.created_at < :cutoff AND coalesce(outbox.sent_at, 0) < :cutoff
            AND NOT EXISTS (SELECT 1 FROM call_deliveries d WHERE d.outbox_id = outbox.id)
            AND NOT EXISTS (SELECT 1 FROM call_tallies t WHERE t.outbox_id = outbox.id)
            AND NOT EXISTS (SELECT 1 FROM demand_escalations e WHERE e.outbox_id = outbox.id AND e.verdict = 'pending')
            AND NOT EXISTS (SELECT 1 FROM solidarity_appeals a WHERE a.outbox_id = outbox.id AND a.state = 'suggested')
            AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.target_id = outbox.id
                            AND (e.state IN {_WAITING} OR e.created_at >= :cutoff))""",
    ),
    Rule(
        "digests",
        "id",
        """digests.built_at < :cutoff
           AND EXISTS (SELECT 1 FROM digests n WHERE n.council_id = digests.council_id
                       AND (n.built_at > digests.built_at OR (n.built_at = digests.built_at AND n.id > digests.id)))""",
    ),
    Rule(
        "solidarity_appeals",
        "id",
        """solidarity_appeals.created_at < :cutoff
           AND coalesce(solidarity_appeals.decided_at, solidarity_appeals.created_at) < :cutoff""",
    ),
    Rule("verify_misses", "rowid", "verify_misses.at < :misses"),
    # The audit log keeps pseudonyms: no longer than the rest (storage/audit.py).
    Rule("audit", "id", "audit.at < :cutoff"),
    # Handled updates' ids, kept as long as Telegram could send a copy (storage/inbox.py).
    Rule("inbox", "update_id", "inbox.handled_at < :handled"),
    Rule(
        "council_codes",
        "code_ref",
        "council_codes.expires_at < :cutoff OR coalesce(council_codes.used_at, :now) < :cutoff",
    ),
    Rule(
        "chat_settings",
        "chat_ref",
        """chat_settings.updated_at < :cutoff
           AND NOT EXISTS (SELECT 1 FROM committees c WHERE c.chat_ref = chat_settings.chat_ref)
           AND NOT EXISTS (SELECT 1 FROM councils k WHERE k.chat_ref = chat_settings.chat_ref)""",
    ),
)


@dataclass(frozen=True)
class LastRun:
    ran_at: int
    cutoff: int
    purged: int


async def purge(db: Database, *, now: int, retention_days: int) -> dict[str, int]:
    """Delete what is older than the retention period, rule by rule; rows deleted per table.

    Records the run (`last_run`) and scrubs the files afterwards (`Database.scrub`)."""
    old = cutoff(now, retention_days)
    params = {
        "cutoff": old,
        "now": now,
        "misses": max(old, now - VERIFY_MISSES_S),
        "handled": now - REMEMBER_HANDLED_S,
    }
    counts: dict[str, int] = {}
    for rule in RULES:
        gone = await _purge_rule(db, rule, params)
        if gone:
            counts[rule.table] = counts.get(rule.table, 0) + gone
    async with db.transaction() as tx:
        await tx.execute(
            """INSERT INTO retention_runs (id, ran_at, cutoff, purged) VALUES (1, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE SET ran_at = excluded.ran_at, cutoff = excluded.cutoff,
                   purged = excluded.purged""",
            (now, old, sum(counts.values())),
        )
    await db.scrub()
    return counts


async def _purge_rule(db: Database, rule: Rule, params: dict[str, int]) -> int:
    """One rule in batches: keys read in order (so each row is looked at once), then deleted in a
    transaction of their own that checks the condition again (a row may have changed meanwhile)."""
    gone = 0
    last: object = None
    while True:
        after = "" if last is None else f"{rule.table}.{rule.key} > :last AND "
        async with (
            db.read() as conn,
            conn.execute(
                f"""SELECT {rule.key} FROM {rule.table} WHERE {after}({rule.condition})
                ORDER BY {rule.key} LIMIT {BATCH}""",
                {**params, "last": last},
            ) as cursor,
        ):
            keys = [row[0] for row in await cursor.fetchall()]
        if not keys:
            return gone
        named = {f"k{n}": key for n, key in enumerate(keys)}
        marks = ",".join(f":{name}" for name in named)
        async with db.transaction() as tx:
            cursor = await tx.execute(
                f"DELETE FROM {rule.table} WHERE {rule.key} IN ({marks}) AND ({rule.condition})", {**params, **named}
            )
            gone += cursor.rowcount
            if cursor.rowcount:
                db.clear_caches()  # a repository may keep a row just deleted (storage/committees.py)
        last = keys[-1]
        if len(keys) < BATCH:
            return gone


async def last_run(conn: aiosqlite.Connection) -> LastRun | None:
    """When the daily purge last ran, if ever."""
    async with conn.execute("SELECT ran_at, cutoff, purged FROM retention_runs WHERE id = 1") as cursor:
        row = await cursor.fetchone()
    return LastRun(*row) if row else None
