"""Storage: one SQLite database, opened at start, with a repository per aggregate.

`Store.open()` applies migrations and unlocks the keys; handlers reach it through
`context.bot_data["store"]` and run their writes inside `store.db.transaction()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from storage.chat_settings import ChatSettingsRepository
from storage.committees import CommitteeRepository
from storage.councils import CouncilRepository
from storage.database import Database, WrongSecretKey
from storage.outbox import OutboxRepository

__all__ = ["Database", "Store", "WrongSecretKey"]


@dataclass
class Store:
    db: Database
    committees: CommitteeRepository
    councils: CouncilRepository
    chat_settings: ChatSettingsRepository
    outbox: OutboxRepository

    @classmethod
    async def open(cls, path: str | Path, secret_key: bytes) -> Store:
        db = await Database.open(path, secret_key)
        crypto = db.crypto
        return cls(
            db=db,
            committees=CommitteeRepository(crypto),
            councils=CouncilRepository(crypto),
            chat_settings=ChatSettingsRepository(crypto),
            outbox=OutboxRepository(crypto),
        )

    async def close(self) -> None:
        await self.db.close()
