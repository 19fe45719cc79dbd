"""Storage: one SQLite database, opened at start, with a repository per aggregate.

`Store.open()` applies migrations and unlocks the keys; handlers reach it through
`context.bot_data["store"]` and run their writes inside `store.db.transaction()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from storage.audit import AuditRepository
from storage.calls import CallRepository
from storage.chat_settings import ChatSettingsRepository
from storage.committees import CommitteeRepository
from storage.councils import CouncilRepository
from storage.database import Database, DatabaseShredded, WrongSecretKey
from storage.decisions import DecisionRepository
from storage.delegates import DelegateRepository
from storage.demands import DemandRepository
from storage.digests import DigestRepository
from storage.inbox import InboxRepository
from storage.outbox import OutboxRepository
from storage.programme import ProgrammeRepository
from storage.spread import SpreadRepository
from storage.wipe import WipedCommittee, wipe_committee

__all__ = ["Database", "DatabaseShredded", "Store", "WrongSecretKey"]


@dataclass
class Store:
    db: Database
    committees: CommitteeRepository
    councils: CouncilRepository
    chat_settings: ChatSettingsRepository
    outbox: OutboxRepository
    calls: CallRepository
    demands: DemandRepository
    decisions: DecisionRepository
    delegates: DelegateRepository
    programme: ProgrammeRepository
    spread: SpreadRepository
    digests: DigestRepository
    inbox: InboxRepository
    audit: AuditRepository

    @classmethod
    async def open(cls, path: str | Path, secret_key: bytes) -> Store:
        db = await Database.open(path, secret_key)
        crypto = db.crypto
        demands = DemandRepository(crypto)
        committees = CommitteeRepository(crypto)
        db.keep_cache(committees.forget)
        db.keep_cache(demands.forget)
        outbox = OutboxRepository(crypto)
        db.keep_cache(outbox.forget)
        return cls(
            db=db,
            committees=committees,
            councils=CouncilRepository(crypto),
            chat_settings=ChatSettingsRepository(crypto),
            outbox=outbox,
            calls=CallRepository(crypto),
            demands=demands,
            programme=ProgrammeRepository(demands),
            decisions=DecisionRepository(crypto),
            delegates=DelegateRepository(crypto),
            spread=SpreadRepository(crypto),
            digests=DigestRepository(crypto),
            inbox=InboxRepository(crypto),
            audit=AuditRepository(crypto),
        )

    async def follow_migration(self, tx: aiosqlite.Connection, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup: whatever was kept for its old chat id moves to the new one.

        Called both when the bot sees the migration update and when a send meets
        `migrate_to_chat_id` first; whichever comes second finds nothing left to move."""
        committee = await self.committees.by_chat(tx, old_chat_id)
        if committee is not None:
            await self.committees.move_chat(tx, committee.id, new_chat_id)
        council = await self.councils.by_chat(tx, old_chat_id)
        if council is not None:
            await self.councils.move_chat(tx, council.id, new_chat_id)
        await self.chat_settings.move_chat(tx, old_chat_id, new_chat_id)

    async def wipe_committee(self, tx: aiosqlite.Connection, committee_id: int, *, now: int) -> WipedCommittee:
        """`storage.wipe.wipe_committee`, and the committee and its demands gone from what the
        repositories keep in memory too."""
        wiped = await wipe_committee(tx, self.db.crypto, committee_id, now=now)
        self.db.clear_caches()
        return wiped

    async def close(self) -> None:
        await self.db.close()
