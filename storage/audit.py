"""The audit log in SQL: privileged actions with pseudonyms, read back only as counts.

`record` is called inside the transaction of the action it records (a handler's
`store.db.transaction()`), so that a crash or a failed check leaves both or neither: an audit row
for an action that did not happen, or an action without its row, would make the log a liar. It
takes the Telegram id of whoever acted and keeps only their pseudonym (the same HMAC the rest of
the database keeps for them: `Crypto.user`), so the row can be counted per person without naming
anyone. Decisions of an assembly are recorded with the pseudonym of who put them to it, read from
the decision's row in SQL (it never leaves the database).

Reading is `summary`: counts per kind, role and place over a period, within a council's area, with
the number of different people behind them; never a row, never a pseudonym. What the table holds
and who sees what: docs/security.md, "The audit log"; the purge: storage/retention.py; a
committee's wipe: storage/wipe.py.
"""

from __future__ import annotations

from collections.abc import Iterable

import aiosqlite

from domain.audit import Kind, Role, Summary, check_code_word, summarise
from storage.crypto import Crypto


class AuditRepository:
    def __init__(self, crypto: Crypto) -> None:
        self.crypto = crypto

    async def record(
        self,
        tx: aiosqlite.Connection,
        *,
        kind: Kind,
        role: Role,
        region: str,
        at: int,
        by: int | None = None,
        by_decision: int | None = None,
        committee_id: int | None = None,
        council_id: int | None = None,
        detail: str | None = None,
    ) -> None:
        """One privileged action, in the caller's transaction.

        `by`: the Telegram user id of who acted (None: no person, e.g. the operator's command line);
        only its pseudonym is written. `by_decision`: for the assembly's decisions, the decision
        whose opener is recorded as the actor instead. `region`: the federation node of the committee
        or council concerned (what a council's area is matched against). `detail`: a code word the
        bot chose (a call's kind), never a person's text."""
        actor = self.crypto.user(by) if by is not None else None
        await tx.execute(
            """INSERT INTO audit (at, kind, role, actor, region, committee_id, council_id, detail)
               VALUES (?, ?, ?, coalesce(?, (SELECT opened_by FROM decisions WHERE id = ?)), ?, ?, ?, ?)""",
            (
                at,
                check_code_word(Kind(kind).value),
                Role(role).value,
                actor,
                by_decision,
                region,
                committee_id,
                council_id,
                check_code_word(detail),
            ),
        )

    async def summary(self, conn: aiosqlite.Connection, *, regions: Iterable[str], since: int, until: int) -> Summary:
        """The counts of a council's view: actions from `since` to `until` (inclusive) whose committee or
        council lies in `regions` (the council's area), by kind (with their code words), by role and by
        place, each with the number of different people behind it."""
        wanted = sorted(set(regions))
        if not wanted:
            return summarise((), (), (), (), total=0, actors=0)
        marks = ",".join("?" * len(wanted))
        where = f"at >= ? AND at <= ? AND region IN ({marks})"
        params = (since, until, *wanted)

        async def rows(sql: str) -> list[tuple]:
            async with conn.execute(sql, params) as cursor:
                return [tuple(row) for row in await cursor.fetchall()]

        [(total, actors)] = await rows(f"SELECT count(*), count(DISTINCT actor) FROM audit WHERE {where}")
        kinds = await rows(f"SELECT kind, count(*), count(DISTINCT actor) FROM audit WHERE {where} GROUP BY kind")
        details = await rows(
            f"""SELECT kind, detail, count(*) FROM audit WHERE {where} AND detail IS NOT NULL
                GROUP BY kind, detail"""
        )
        roles = await rows(f"SELECT role, count(*), count(DISTINCT actor) FROM audit WHERE {where} GROUP BY role")
        # A place is the committee an action concerns, or else the council seat of its region.
        places = await rows(
            f"""SELECT committee_id, CASE WHEN committee_id IS NULL THEN region END AS seat, count(*)
                FROM audit WHERE {where} GROUP BY committee_id, seat"""
        )
        return summarise(kinds, details, roles, places, total=total, actors=actors)
