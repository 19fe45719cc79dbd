"""Assembly decisions in SQL: texts and payloads sealed, voices keyed by pseudonym, one per member and round."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiosqlite

from storage import json_bytes
from storage.crypto import Crypto

_COLUMNS = (
    "id, committee_id, text_ct, rule, deadline_hours, round, status, opened_at, closes_at, demand_id, "
    "kind, payload_ct, subject, fallback_after_rounds"
)
# A decision still before the assembly: open, or blocked and waiting for a new round.
_PENDING = "status IN ('open', 'blocked')"
_UNREAD = object()  # `vote`'s previous voice, when its caller has not read it


@dataclass(frozen=True)
class Decision:
    id: int
    committee_id: int
    text: str
    rule: str
    deadline_hours: float
    round: int
    status: str
    opened_at: int
    closes_at: int
    demand_id: int | None = None
    kind: str = "proposal"
    payload: Mapping[str, Any] = field(default_factory=dict)
    subject: str | None = None
    fallback_after_rounds: int | None = None


class DecisionRepository:
    def __init__(self, crypto: Crypto) -> None:
        self.crypto = crypto

    def _from_row(self, row: aiosqlite.Row | tuple) -> Decision:
        return Decision(
            id=row[0],
            committee_id=row[1],
            text=self.crypto.open_text(row[2], table="decisions", column="text_ct", row=row[0]),
            rule=row[3],
            deadline_hours=row[4],
            round=row[5],
            status=row[6],
            opened_at=row[7],
            closes_at=row[8],
            demand_id=row[9],
            kind=row[10],
            payload=json_bytes.loads_own(self.crypto.open(row[11], table="decisions", column="payload_ct", row=row[0]))
            if row[11] is not None
            else {},
            subject=row[12],
            fallback_after_rounds=row[13],
        )

    async def rule_of(self, conn: aiosqlite.Connection, committee_id: int) -> str | None:
        async with conn.execute("SELECT rule FROM committee_rules WHERE committee_id = ?", (committee_id,)) as cursor:
            row = await cursor.fetchone()
        return row[0] if row else None

    async def fallback_of(self, conn: aiosqlite.Connection, committee_id: int) -> int | None:
        """After how many blocked rounds the committee's consensus falls back to a supermajority (None: never)."""
        async with conn.execute(
            "SELECT fallback_after_rounds FROM committee_rules WHERE committee_id = ?", (committee_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return row[0] if row else None

    async def set_rule(self, conn: aiosqlite.Connection, committee_id: int, rule: str, *, now: int) -> None:
        await conn.execute(
            """INSERT INTO committee_rules (committee_id, rule, updated_at) VALUES (?, ?, ?)
               ON CONFLICT (committee_id) DO UPDATE SET rule = excluded.rule, updated_at = excluded.updated_at""",
            (committee_id, rule, now),
        )

    async def set_fallback(
        self, conn: aiosqlite.Connection, committee_id: int, after_rounds: int | None, *, now: int
    ) -> None:
        """Set the fallback; a committee without a stored rule keeps deciding by consensus."""
        await conn.execute(
            """INSERT INTO committee_rules (committee_id, rule, fallback_after_rounds, updated_at)
               VALUES (?, 'consensus', ?, ?)
               ON CONFLICT (committee_id) DO UPDATE SET
                   fallback_after_rounds = excluded.fallback_after_rounds, updated_at = excluded.updated_at""",
            (committee_id, after_rounds, now),
        )

    async def open(
        self,
        conn: aiosqlite.Connection,
        *,
        committee_id: int,
        text: str,
        rule: str,
        deadline_hours: float,
        opened_by: int,
        now: int,
        demand_id: int | None = None,
        kind: str | None = None,
        payload: Mapping[str, Any] | None = None,
        subject: str | None = None,
    ) -> Decision:
        """Open a decision under `rule`; under consensus it keeps the committee's fallback as it is now.

        `kind` defaults to an endorsement when a demand is named, else a plain proposal."""
        closes_at = now + int(deadline_hours * 3600)
        kind = kind or ("endorse" if demand_id is not None else "proposal")
        fallback = await self.fallback_of(conn, committee_id) if rule == "consensus" else None
        async with conn.execute(
            """INSERT INTO decisions (committee_id, rule, deadline_hours, opened_by, opened_at, closes_at, demand_id,
                                      kind, subject, fallback_after_rounds)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
            (
                committee_id,
                rule,
                deadline_hours,
                self.crypto.user(opened_by),
                now,
                closes_at,
                demand_id,
                kind,
                subject,
                fallback,
            ),
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        sealed_payload = (
            self.crypto.seal(json_bytes.dumps(dict(payload)), table="decisions", column="payload_ct", row=row[0])
            if payload
            else None
        )
        await conn.execute(
            "UPDATE decisions SET text_ct = ?, payload_ct = ? WHERE id = ?",
            (self.crypto.seal_text(text, table="decisions", column="text_ct", row=row[0]), sealed_payload, row[0]),
        )
        found = await self.get(conn, row[0])
        assert found is not None
        return found

    async def get(self, conn: aiosqlite.Connection, decision_id: int) -> Decision | None:
        async with conn.execute(f"SELECT {_COLUMNS} FROM decisions WHERE id = ?", (decision_id,)) as cursor:
            row = await cursor.fetchone()
        return self._from_row(row) if row else None

    async def open_ones(self, conn: aiosqlite.Connection) -> list[Decision]:
        async with conn.execute(f"SELECT {_COLUMNS} FROM decisions WHERE status = 'open' ORDER BY closes_at") as cursor:
            return [self._from_row(row) async for row in cursor]

    async def pending_for_demand(self, conn: aiosqlite.Connection, demand_id: int) -> Decision | None:
        """An endorsement of this demand still before the assembly (open, or blocked and negotiable)."""
        async with conn.execute(
            f"SELECT {_COLUMNS} FROM decisions WHERE demand_id = ? AND {_PENDING}", (demand_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return self._from_row(row) if row else None

    async def pending_on(self, conn: aiosqlite.Connection, committee_id: int, subject: str) -> Decision | None:
        """A decision on this subject still before the committee's assembly (open, or blocked and negotiable)."""
        async with conn.execute(
            f"SELECT {_COLUMNS} FROM decisions WHERE committee_id = ? AND subject = ? AND {_PENDING}",
            (committee_id, subject),
        ) as cursor:
            row = await cursor.fetchone()
        return self._from_row(row) if row else None

    async def voice_of(self, conn: aiosqlite.Connection, decision: Decision, voter: int) -> str | None:
        """A member's voice in the decision's current round, if they gave one."""
        async with conn.execute(
            "SELECT choice FROM decision_voices WHERE decision_id = ? AND round = ? AND voter = ?",
            (decision.id, decision.round, self.crypto.user(voter)),
        ) as cursor:
            row = await cursor.fetchone()
        return row[0] if row else None

    async def vote(
        self,
        conn: aiosqlite.Connection,
        decision: Decision,
        *,
        voter: int,
        choice: str,
        now: int,
        previous: str | object | None = _UNREAD,
    ) -> str | None:
        """Record (or change) a member's voice in the current round; returns the previous choice.
        `previous`: the voice as `voice_of` read it in this same transaction, not read again."""
        ref = self.crypto.user(voter)
        if previous is _UNREAD:
            async with conn.execute(
                "SELECT choice FROM decision_voices WHERE decision_id = ? AND round = ? AND voter = ?",
                (decision.id, decision.round, ref),
            ) as cursor:
                row = await cursor.fetchone()
            previous = row[0] if row else None
        await conn.execute(
            """INSERT INTO decision_voices (decision_id, round, voter, choice, at) VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (decision_id, round, voter) DO UPDATE SET choice = excluded.choice, at = excluded.at""",
            (decision.id, decision.round, ref, choice, now),
        )
        return previous  # type: ignore[return-value]

    async def voices(self, conn: aiosqlite.Connection, decision: Decision) -> dict[bytes, str]:
        async with conn.execute(
            "SELECT voter, choice FROM decision_voices WHERE decision_id = ? AND round = ?",
            (decision.id, decision.round),
        ) as cursor:
            return {bytes(voter): choice async for voter, choice in cursor}

    async def close(self, conn: aiosqlite.Connection, decision_id: int, status: str, *, now: int) -> bool:
        """Open → its result, once (a second alarm for the same deadline finds it closed)."""
        cursor = await conn.execute(
            "UPDATE decisions SET status = ?, closed_at = ? WHERE id = ? AND status = 'open'",
            (status, now, decision_id),
        )
        return bool(cursor.rowcount)

    async def new_round(self, conn: aiosqlite.Connection, decision: Decision, *, now: int) -> bool:
        """A blocked decision goes back to the assembly for another round."""
        cursor = await conn.execute(
            """UPDATE decisions SET status = 'open', round = round + 1, closes_at = ?, closed_at = NULL
               WHERE id = ? AND status = 'blocked'""",
            (now + int(decision.deadline_hours * 3600), decision.id),
        )
        return bool(cursor.rowcount)
