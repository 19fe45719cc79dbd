"""Demands in SQL: texts sealed, whoever put a demand forward only a pseudonym, links as HMACs.

The repeat check (`repeat_of`: is this the same demand as one the committee already has, by
domain.demands.is_same) must not open and normalise a committee's hundred sealed texts for every
submission. So each committee's texts are kept in memory in the form a fuzzy comparison needs
(normalised words, sorted), for the most recently active committees, read once and then kept up
to date by `add`. A C-speed prefilter picks the few texts that can be the same demand at all;
only those are read again from the table (still the committee's, not merged away), opened and
compared with `is_same` itself, so the answer is exactly is_same's, and a kept text whose demand
has since gone (merged, purged, rolled back) costs a read, never a wrong answer. So a merge or a
council's status leaves the kept texts alone; they are emptied (`forget`) only when rows go for
good, so that no copy outlives them in memory (the purge and a committee's wipe, through
`Database.clear_caches`), and at a rollback (`Database.keep_cache`). Why the prefilter never
drops a repeat: `is_same` needs a score of 95, and the score is the better of the texts' blend
and 0.94 times their stems' blend (at most 94), so the blend of the words must reach 94.95; the
blend is the mean of `token_sort_ratio` and `token_set_ratio` (at most 100), so
`token_sort_ratio` must reach 89.9, and `token_sort_ratio` is `ratio` on the sorted words.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

import aiosqlite
from rapidfuzz import fuzz, process

from domain.demands import is_same, normalise
from storage.crypto import Crypto

# token_sort_ratio below this means not the same demand (the bound above is 89.9; a margin for
# floating point).
SAME_PREFILTER = 89.0
# Texts kept for the repeat check, over all committees: at about 260 bytes each, some 40 MB for a
# thousand committees in session with 150 demands each.
CACHED_TEXTS = 150_000


@lru_cache(maxsize=1024)  # a submission's own text is keyed twice: to check it, and to cache it
def comparison_key(text: str) -> str:
    """The normalised words of a text, sorted: what token_sort_ratio compares."""
    return " ".join(sorted(normalise(text).split()))


@dataclass
class _CommitteeTexts:
    """A committee's demands (not merged away) as the repeat check needs them, oldest first."""

    ids: list[int]
    keys: list[str]


@dataclass(frozen=True)
class Demand:
    id: int
    committee_id: int
    text: str
    status: str
    via: str
    created_at: int
    support: int = 0


class DemandRepository:
    def __init__(self, crypto: Crypto) -> None:
        self.crypto = crypto
        self._texts: OrderedDict[int, _CommitteeTexts] = OrderedDict()  # by committee, least recent first
        self._cached_texts = 0
        self._next_id: int | None = None  # after the largest id, once read

    def _from_row(self, row: aiosqlite.Row | tuple) -> Demand:
        return Demand(
            id=row[0],
            committee_id=row[1],
            text=self.crypto.open_text(row[2], table="demands", column="text_ct", row=row[0]),
            status=row[3],
            via=row[4],
            created_at=row[5],
            support=row[6],
        )

    _SELECT = """SELECT d.id, d.committee_id, d.text_ct, d.status, d.via, d.created_at,
                        (SELECT count(*) FROM demand_support s WHERE s.demand_id = d.id)
                 FROM demands d"""

    async def add(
        self, conn: aiosqlite.Connection, *, committee_id: int, text: str, via: str, submitted_by: int, now: int
    ) -> Demand:
        """Insert a demand. Its id is taken after the largest (writes run one transaction at a time),
        so that the text is sealed to its row in the same statement; the largest is read once and then
        kept (a rollback forgets it), a statement less per demand."""
        demand_id = self._next_id
        if demand_id is None:
            async with conn.execute("SELECT coalesce(max(id), 0) + 1 FROM demands") as cursor:
                (demand_id,) = await cursor.fetchone()
        await conn.execute(
            """INSERT INTO demands (id, committee_id, text_ct, via, submitted_by, created_at)
               VALUES (?, ?, ?, ?, ?, ?)""",
            (
                demand_id,
                committee_id,
                self.crypto.seal_text(text, table="demands", column="text_ct", row=demand_id),
                via,
                self.crypto.user(submitted_by),
                now,
            ),
        )
        self._next_id = demand_id + 1
        cached = self._texts.get(committee_id)
        if cached is not None:  # a rollback empties the cache (`forget`)
            cached.ids.append(demand_id)
            cached.keys.append(comparison_key(text))
            self._cached_texts += 1
        return Demand(id=demand_id, committee_id=committee_id, text=text, status="proposed", via=via, created_at=now)

    async def repeat_of(self, conn: aiosqlite.Connection, committee_id: int, text: str) -> int | None:
        """The committee's demand (not merged away) that `text` is the same demand as, if any."""
        texts = await self._committee_texts(conn, committee_id)
        key = comparison_key(text)
        # Not extract_iter: its generator leaves a reference cycle per call for the collector (a
        # collection every few seconds at a thousand updates, 15-25 ms each; see bot/collector.py).
        candidates = process.extract(key, texts.keys, scorer=fuzz.ratio, score_cutoff=SAME_PREFILTER, limit=None)
        for _key, _score, index in sorted(candidates, key=lambda found: found[2]):  # the oldest first
            demand_id = texts.ids[index]
            async with conn.execute(
                "SELECT text_ct FROM demands WHERE id = ? AND committee_id = ? AND status != 'merged'",
                (demand_id, committee_id),
            ) as cursor:
                row = await cursor.fetchone()
            if row is not None and is_same(
                self.crypto.open_text(row[0], table="demands", column="text_ct", row=demand_id), text
            ):
                return demand_id
        return None

    async def _committee_texts(self, conn: aiosqlite.Connection, committee_id: int) -> _CommitteeTexts:
        cached = self._texts.get(committee_id)
        if cached is not None:
            self._texts.move_to_end(committee_id)
            return cached
        rows = await conn.execute_fetchall(
            "SELECT id, text_ct FROM demands WHERE committee_id = ? AND status != 'merged' ORDER BY id",
            (committee_id,),
        )
        ids = [row[0] for row in rows]
        keys = [
            comparison_key(self.crypto.open_text(row[1], table="demands", column="text_ct", row=row[0])) for row in rows
        ]
        cached = _CommitteeTexts(ids=ids, keys=keys)
        self._texts[committee_id] = cached
        self._cached_texts += len(ids)
        while self._cached_texts > CACHED_TEXTS and len(self._texts) > 1:
            self._forget(next(iter(self._texts)))
        return cached

    def forget(self) -> None:
        """Empty the texts kept for the repeat check and the next id: rows were deleted, or a
        transaction was rolled back (storage/database.py)."""
        self._texts.clear()
        self._cached_texts = 0
        self._next_id = None

    def _forget(self, committee_id: int) -> None:
        gone = self._texts.pop(committee_id, None)
        if gone is not None:
            self._cached_texts -= len(gone.ids)

    async def get(self, conn: aiosqlite.Connection, demand_id: int) -> Demand | None:
        async with conn.execute(f"{self._SELECT} WHERE d.id = ?", (demand_id,)) as cursor:
            row = await cursor.fetchone()
        return self._from_row(row) if row else None

    async def of_committee(self, conn: aiosqlite.Connection, committee_id: int) -> list[Demand]:
        """A committee's demands (merged ones live on in the demand they joined), newest last."""
        async with conn.execute(
            f"{self._SELECT} WHERE d.committee_id = ? AND d.status != 'merged' ORDER BY d.id", (committee_id,)
        ) as cursor:
            return [self._from_row(row) async for row in cursor]

    async def endorse(self, conn: aiosqlite.Connection, demand_id: int, committee_id: int, *, now: int) -> None:
        """The committee's assembly endorsed the demand: it counts as the committee's support."""
        await conn.execute(
            "UPDATE demands SET status = 'endorsed', updated_at = ? WHERE id = ? AND status = 'proposed'",
            (now, demand_id),
        )
        await conn.execute(
            "INSERT OR IGNORE INTO demand_support (demand_id, committee_id, endorsed_at) VALUES (?, ?, ?)",
            (demand_id, committee_id, now),
        )

    async def set_link(self, conn: aiosqlite.Connection, committee_id: int, token: str, *, by: int, now: int) -> None:
        """The committee's one private link; a new one replaces (and so revokes) the old."""
        await conn.execute(
            """INSERT INTO demand_links (committee_id, token_ref, created_at, created_by) VALUES (?, ?, ?, ?)
               ON CONFLICT (committee_id) DO UPDATE SET token_ref = excluded.token_ref,
                   created_at = excluded.created_at, created_by = excluded.created_by""",
            (committee_id, self.crypto.secret_code(token), now, self.crypto.user(by)),
        )

    async def committee_of_link(self, conn: aiosqlite.Connection, token: str) -> int | None:
        async with conn.execute(
            "SELECT committee_id FROM demand_links WHERE token_ref = ?", (self.crypto.secret_code(token),)
        ) as cursor:
            row = await cursor.fetchone()
        return row[0] if row else None
