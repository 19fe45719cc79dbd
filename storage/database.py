"""The SQLite connection: durable settings, migrations, and one transaction at a time.

One aiosqlite connection serves the whole bot. SQLite serialises writers anyway, and a single
connection shared by handlers and the outbox worker would interleave their statements inside
each other's transactions, so every use takes an asyncio lock: `transaction()` for writes
(BEGIN IMMEDIATE ... COMMIT, rolled back on any exception, so nothing is half-written) and
`read()` for reads.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

import aiosqlite

from storage.crypto import Crypto

log = logging.getLogger(__name__)

PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    # FULL: a committed call or outbox row survives a power cut, not only a process crash.
    "PRAGMA synchronous = FULL",
    "PRAGMA busy_timeout = 5000",
    "PRAGMA foreign_keys = ON",
    # Deleted rows are overwritten with zeros, so purged data does not linger in free pages.
    "PRAGMA secure_delete = ON",
)


class WrongSecretKey(Exception):
    """ASAMBLEA_SECRET_KEY is not the key this database was created with."""


def migration_scripts() -> list[tuple[int, str]]:
    """The numbered SQL files shipped in storage/migrations, in order."""
    folder = resources.files("storage") / "migrations"
    scripts = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            scripts.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(scripts)


class Database:
    """An open database with its keys; repositories take it and never open their own."""

    def __init__(self, conn: aiosqlite.Connection, crypto: Crypto, path: Path) -> None:
        self.conn = conn
        self.crypto = crypto
        self.path = path
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | Path, secret_key: bytes) -> Database:
        """Open (creating if needed), migrate, and unlock the database with the secret key."""
        path = Path(path)
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(path, isolation_level=None)
        try:
            for pragma in PRAGMAS:
                await conn.execute(pragma)
            await _migrate(conn)
            crypto = await _unlock(conn, secret_key)
        except BaseException:
            await conn.close()
            raise
        _owner_only(path)
        return cls(conn, crypto, path)

    async def close(self) -> None:
        async with self._lock:
            await self.conn.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction: all of it is committed, or none of it."""
        async with self._lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            await self.conn.execute("COMMIT")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[aiosqlite.Connection]:
        """Exclusive use of the connection for reads that must not see a half-done transaction."""
        async with self._lock:
            yield self.conn


def _owner_only(path: Path) -> None:
    """Only the bot's own user may read the database files."""
    if os.name != "posix":
        return
    for suffix in ("", "-wal", "-shm"):
        target = Path(f"{path}{suffix}")
        if target.exists():
            target.chmod(0o600)


async def _migrate(conn: aiosqlite.Connection) -> None:
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    current = row[0] if row else 0
    for version, script in migration_scripts():
        if version <= current:
            continue
        log.info("applying schema migration %d", version)
        # executescript commits on its own; wrap the script so it applies entirely or not at all.
        await conn.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;")


async def _unlock(conn: aiosqlite.Connection, secret_key: bytes) -> Crypto:
    async with conn.execute("SELECT salt, check_value FROM keyring WHERE id = 1") as cursor:
        row = await cursor.fetchone()
    if row is None:
        salt = os.urandom(32)
        crypto = Crypto.derive(secret_key, salt)
        await conn.execute(
            "INSERT INTO keyring (id, salt, check_value, created_at) VALUES (1, ?, ?, ?)",
            (salt, crypto.check_value(), int(time.time())),
        )
        return crypto
    crypto = Crypto.derive(secret_key, bytes(row[0]))
    if crypto.check_value() != bytes(row[1]):
        raise WrongSecretKey("ASAMBLEA_SECRET_KEY does not match the key this database was created with")
    return crypto
