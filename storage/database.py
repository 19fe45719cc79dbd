"""The SQLite connection: durable settings, migrations, and one transaction at a time.

One aiosqlite connection serves the whole bot. SQLite serialises writers anyway, and a single
connection shared by handlers and the outbox worker would interleave their statements inside
each other's transactions, so every use takes an asyncio lock: `transaction()` for writes
(all of it or none of it, so nothing is half-written) and `read()` for reads.

Three things make this fast enough for a thousand updates a second on one core
(docs/benchmarks.md, "Ingest"):

- Statements run at once on the event loop's thread. An indexed statement takes microseconds;
  handing it to aiosqlite's worker thread and back costs about a hundred (two thread switches
  and a wake-up of the loop). COMMIT too: it only writes the log (`synchronous = NORMAL`), and
  the fsync that makes it durable runs on a worker thread while the connection serves the next
  writers (storage/durability.py); nobody waits for the disk but the writers whose COMMIT it is.
- Group commit. A writer's block runs inside a SAVEPOINT of an open transaction; when the block
  ends, the transaction stays open for the writers that come meanwhile, and it is committed a
  turn of the loop later, or, if a sync is under way, as soon as that sync ends (in the callback
  that reports it, so that the next sync starts without waiting for a turn of the loop). Each
  writer's `async with transaction()` still returns only once a COMMIT that holds its writes is
  on disk, so "committed before the handler goes on" holds; a writer that fails rolls back its
  own savepoint only; a failed COMMIT fails every writer of the batch. A reader between two
  writers of a batch sees the first one's writes a moment before they are durable (only a
  failing disk tells the difference, and then their writers fail); nothing that leaves the bot
  depends on that, since the outbox sends a row only after its own `inflight` write, which
  commits with or after the row itself.
- The lock is free to whoever comes when it is free (storage/lock.py): asyncio's fair lock
  would hand it from waiter to waiter one turn of the loop at a time.

Checkpoints (copying the write-ahead log into the database file) run in the background on a
second connection, so that no COMMIT, and no handler waiting behind it, pays for one; under a steady
load the database copies the last few frames itself now and then, between two writers, so that the
log starts again instead of growing for as long as the load lasts (storage/checkpoints.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Generator
from contextlib import asynccontextmanager
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from storage.checkpoints import Checkpointer
from storage.crypto import Crypto
from storage.durability import Commit, DiskFailed, WalSync
from storage.inbox import HANDLING, Handling, mark_handled
from storage.lock import ConnectionLock

log = logging.getLogger(__name__)

PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    # NORMAL: a COMMIT writes the log without waiting for the disk; WalSync (storage/durability.py)
    # syncs it before any writer is told its transaction committed, so that a committed call or
    # outbox row survives a power cut, not only a process crash, as with FULL.
    "PRAGMA synchronous = NORMAL",
    # No checkpoint inside a COMMIT: the Checkpointer does them on a connection of its own.
    "PRAGMA wal_autocheckpoint = 0",
    "PRAGMA busy_timeout = 5000",
    "PRAGMA foreign_keys = ON",
    # Deleted rows are overwritten with zeros, so purged data does not linger in free pages.
    "PRAGMA secure_delete = ON",
)


CHECKPOINT_TRIES = 20  # truncating checkpoints, each waiting up to a second for writers


class WrongSecretKey(Exception):
    """ASAMBLEA_SECRET_KEY is not the key this database was created with."""


class DatabaseShredded(WrongSecretKey):
    """The database's key was destroyed (`asamblea wipe`, a council's /panic): no secret key opens
    it any more, and the bot starts a new one in its place (bot/wipe.py, storage/wipe.py)."""

    def __init__(self, wiped_at: int) -> None:
        super().__init__("this database was wiped: its key was destroyed, and nothing in it can be read")
        self.wiped_at = wiped_at


def migration_scripts() -> list[tuple[int, str]]:
    """The numbered SQL files shipped in storage/migrations, in order."""
    folder = resources.files("storage") / "migrations"
    scripts = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            scripts.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(scripts)


class Cursor:
    """The part of aiosqlite's cursor the repositories use, over sqlite3's, without its wrappers."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size) if size is not None else self._cursor.fetchmany()

    def __aiter__(self) -> Cursor:
        return self

    async def __anext__(self) -> Any:
        row = self._cursor.fetchone()
        if row is None:
            raise StopAsyncIteration
        return row

    async def close(self) -> None:
        self._cursor.close()

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def description(self) -> Any:
        return self._cursor.description


class Statement:
    """What `Connection.execute` returns: like aiosqlite's, awaited for the cursor or used as
    `async with` (closing the cursor after); the statement runs then, not before."""

    __slots__ = ("_conn", "_cursor", "_parameters", "_sql")

    def __init__(self, conn: Connection, sql: str, parameters: Any) -> None:
        self._conn, self._sql, self._parameters = conn, sql, parameters
        self._cursor: sqlite3.Cursor | None = None

    def _run(self) -> Cursor:
        self._cursor = self._conn._conn.execute(self._sql, self._parameters)
        return Cursor(self._cursor)

    def __await__(self) -> Generator[Any, None, Cursor]:
        return self._now().__await__()

    async def _now(self) -> Cursor:
        return self._run()

    async def __aenter__(self) -> Cursor:
        return self._run()

    async def __aexit__(self, *exc_info: object) -> None:
        if self._cursor is not None:
            self._cursor.close()


class Connection(aiosqlite.Connection):
    """aiosqlite's connection, running its statements on the calling (event loop) thread.

    Repositories use it exactly like aiosqlite's (`async with conn.execute(...)`, cursors,
    `executemany`); `in_thread()` sends a statement to the worker thread instead, for what waits
    on the disk. The sqlite3 connection is opened with `check_same_thread=False`; the Database's
    lock keeps the two threads from ever using it at the same time. `execute` skips aiosqlite's
    wrappers (a coroutine, a context manager and a cursor proxy per statement: two thirds of the
    cost of an indexed statement)."""

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    def execute(self, sql: str, parameters: Any = ()) -> Statement:  # type: ignore[override]
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return Statement(self, sql, () if parameters is None else parameters)

    def now(self, sql: str) -> None:
        """Run a statement at once, from a plain callback as well as a coroutine."""
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        self._conn.execute(sql)

    async def in_thread(self, sql: str) -> None:
        await super()._execute(self._conn.execute, sql)

    async def close(self) -> None:
        if self._connection is None:
            return
        try:
            await super()._execute(self._conn.close)
        finally:
            self._connection = None
            stopped = self.stop()
            if stopped:
                await stopped


async def connect(path: Path) -> Connection:
    connector = partial(sqlite3.connect, str(path), isolation_level=None, check_same_thread=False)
    return await Connection(connector, iter_chunk_size=256)


class Database:
    """An open database with its keys; repositories take it and never open their own."""

    def __init__(self, conn: Connection, crypto: Crypto, path: Path) -> None:
        self.conn = conn
        self.crypto = crypto
        self.path = path
        self._lock = ConnectionLock()
        self._batch: Commit | None = None  # the open transaction's COMMIT, when one is open
        self._commit_due = False  # a call to `_commit_if_free` is scheduled
        self._committer: asyncio.Task[None] | None = None  # waiting for the lock to COMMIT
        self._checkpointer: Checkpointer | None = None
        self._restarter: asyncio.Task[None] | None = None  # holding the writers while the log restarts
        self._closing = False
        self._sync = WalSync(path, on_idle=self._commit_if_free)
        # How many write transactions, and the COMMITs that made them durable (group commit).
        self.transactions = 0
        self.commits = 0
        # What repositories keep in memory of the tables (`keep_cache`): emptied at every rollback.
        self._caches: list[Callable[[], None]] = []

    @classmethod
    async def open(cls, path: str | Path, secret_key: bytes) -> Database:
        """Open (creating if needed), migrate, and unlock the database with the secret key."""
        path = Path(path)
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = await connect(path)
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
        self._closing = True
        if self._restarter is not None:
            await asyncio.gather(self._restarter, return_exceptions=True)
        if self._checkpointer is not None:
            await asyncio.to_thread(self._checkpointer.stop)
        if self._committer is not None:
            await asyncio.gather(self._committer, return_exceptions=True)
        async with self._lock:
            self._commit_now()
            await self._sync.drain()
            self._sync.stop()
            await self.conn.close()  # the last connection to close checkpoints what is left

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction: all of it is committed, or none of it; committed when this returns."""
        async with self.write() as (tx, durable):
            yield tx
        await durable

    @asynccontextmanager
    async def write(self) -> AsyncIterator[tuple[aiosqlite.Connection, Durable]]:
        """A write transaction whose COMMIT the writer waits for later, or never: awaiting the
        `Durable` waits until the writes are on disk, and raises if they never will be.

        For the inbox (bot/inbox.py): an update's handlers may start while its row is still on its
        way to the disk, since whatever they write commits with that row or after it, never before."""
        async with self._lock:
            self._sync.check()
            if self._batch is None:
                await self.conn.execute("BEGIN IMMEDIATE")
                self._batch = Commit()
                if self._checkpointer is None:
                    loop = asyncio.get_running_loop()
                    self._checkpointer = Checkpointer(
                        self.path, too_long=lambda: loop.call_soon_threadsafe(self._restart_log_soon)
                    )
                    self._checkpointer.start()
            handling = HANDLING.get()
            durable = Durable(self._batch, handling)
            await self.conn.execute("SAVEPOINT writer")
            try:
                if handling is not None and not handling.marked:
                    await mark_handled(self.conn, handling)  # the update's effects and its mark: together
                yield self.conn, durable
            except BaseException as exc:
                await self._undo(exc)
                raise
            finally:
                if not self._commit_due:
                    self._commit_due = True
                    asyncio.get_running_loop().call_soon(self._commit_due_now)
            await self.conn.execute("RELEASE writer")
            self.transactions += 1

    async def rebuild(self) -> None:
        """VACUUM: write the file anew from the rows that are live now.

        `secure_delete` zeroes a deleted row where it lies, but not the copies SQLite left behind:
        when a b-tree page is rebuilt (a row that grew, a split), the free space between its cell
        pointers and its cells keeps whatever was there, rows since moved to another page or
        rewritten included, and deleting them later zeroes only their current place. Only a
        rebuild clears those. Every writer waits meanwhile (a few seconds for a file of hundreds
        of megabytes here), so it runs after the daily purge, in a quiet hour, and after a wipe."""
        async with self._lock:
            self._commit_now()
            await self.conn.in_thread("VACUUM")

    async def scrub(self) -> bool:
        """Leave in the files only what is live: the file rebuilt (`rebuild`), then the write-ahead
        log, which holds the rebuild and the pages before it, copied in and cut to nothing. After the
        daily purge (storage/retention.py) and a committee's wipe. False if either could not be done
        now (the next purge tries again); the log is cut even when the rebuild failed (a full disk:
        it needs room for a copy of the database)."""
        try:
            await self.rebuild()
            rebuilt = True
        except sqlite3.Error as exc:
            log.warning("database: the file could not be rebuilt now (%s); the next purge tries again", exc)
            rebuilt = False
        return await truncate_wal(self.path) and rebuilt

    def keep_cache(self, clear: Callable[[], None]) -> None:
        """A repository's cache of rows, emptied by `clear` whenever a rollback happens.

        A cache may be filled inside a transaction, from rows that writer (or an earlier writer of
        the same batch) changed; if that is rolled back, or the batch's COMMIT fails, the rows it
        holds never existed. Rollbacks are rare (a writer's error, a failing disk), so emptying
        every cache then costs nothing worth counting, and needs no bookkeeping of what was read when."""
        self._caches.append(clear)

    def clear_caches(self) -> None:
        """Empty every repository's cache: after a rollback, or writes made outside the repositories
        (a committee's wipe, the purge)."""
        for clear in self._caches:
            clear()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[aiosqlite.Connection]:
        """Exclusive use of the connection for reads: they see every writer that has finished its
        block (committed, or in the batch being committed), never one halfway through."""
        async with self._lock:
            yield self.conn

    async def _undo(self, error: BaseException) -> None:
        """Roll back one writer's savepoint; if SQLite already rolled back everything (an I/O
        error, a full disk), the batch is lost and all its writers fail."""
        self.clear_caches()
        try:
            if self.conn.in_transaction:
                await self.conn.execute("ROLLBACK TO writer")
                await self.conn.execute("RELEASE writer")
                return
        except Exception:
            log.exception("database: could not roll back a savepoint; rolling back the whole batch")
            with contextlib.suppress(Exception):
                await self.conn.execute("ROLLBACK")
        self._fail(error)

    def _fail(self, error: BaseException) -> None:
        self.clear_caches()
        batch, self._batch = self._batch, None
        if batch is not None:
            if not isinstance(error, DiskFailed):
                error = RuntimeError(f"the transaction was rolled back: {error!r}")
            batch.resolve(error)

    def _commit_due_now(self) -> None:
        """Scheduled by a writer that finished, a turn of the loop later: the writers that finished
        meanwhile are in the batch too."""
        self._commit_due = False
        self._commit_if_free()

    def _commit_if_free(self) -> None:
        """COMMIT the open batch now, unless a sync is under way (its end calls this again:
        COMMITting sooner would not make the batch durable sooner, since the next sync begins only
        then, and every COMMIT costs the core) or someone holds the connection (a task then waits
        for it). Called from plain callbacks, so that a COMMIT waits for no turn of the loop."""
        if self._batch is None or self._sync.busy:
            return
        if self._lock.take():
            try:
                self._commit_now()
            finally:
                self._lock.release()
        elif self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_when_free(), name="database-commit")

    async def _commit_when_free(self) -> None:
        async with self._lock:
            if not self._sync.busy:
                self._commit_now()

    def _restart_log_soon(self) -> None:
        """The checkpointer found the write-ahead log long (storage/checkpoints.py)."""
        if not self._closing and (self._restarter is None or self._restarter.done()):
            self._restarter = asyncio.create_task(self._restart_log(), name="database-log-restart")

    async def _restart_log(self) -> None:
        """Copy what is left of the log with no transaction open, so that the next writer finds it
        all copied and SQLite starts it again from its beginning. On this connection and thread:
        the frames left are the few committed while the checkpointer's pass ran, and the loop
        blocked for their copy and two fsyncs (a few milliseconds, once every second or two under
        the heaviest load) holds up less than the connection held while another thread did it."""
        async with self._lock:
            self._commit_now()
            if self._sync.failed is not None:  # nothing more is written to a disk that failed
                return
            try:
                self.conn.now("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error as exc:  # the log goes on growing until the next try
                log.warning("database: the write-ahead log could not be copied to start it again (%s)", exc)

    def _commit_now(self) -> None:
        """COMMIT the open batch, if any (the lock is held); its writers are told once WalSync has
        synced the log (storage/durability.py)."""
        batch = self._batch
        if batch is None:
            return
        try:
            self._sync.check()
            self.conn.now("COMMIT")  # writes the log; no fsync (synchronous = NORMAL)
        except Exception as exc:
            log.error("database: COMMIT failed (%s); its writers fail", type(exc).__name__)
            if self.conn.in_transaction:
                with contextlib.suppress(Exception):
                    self.conn.now("ROLLBACK")
            self._fail(exc)
            return
        self._batch = None
        self.commits += 1
        self._sync.after(batch)


class Durable:
    """The COMMIT a write joined (`Database.write`); awaiting it waits for that COMMIT."""

    __slots__ = ("_batch", "_handling")

    def __init__(self, batch: Commit, handling: Handling | None) -> None:
        self._batch = batch
        self._handling = handling

    def __await__(self) -> Generator[Any, None, None]:
        return self._wait().__await__()

    async def _wait(self) -> None:
        await self._batch.wait()
        if self._handling is not None:
            self._handling.marked = True


async def truncate_wal(path: Path) -> bool:
    """Copy the write-ahead log into the database and cut it to nothing, so that deleted rows do not
    linger in it; on a connection of its own, waiting (a moment at a time) for writers to finish.
    False if it could not (it tries again at the next purge)."""
    return await asyncio.to_thread(_truncate_wal, path)


def _truncate_wal(path: Path) -> bool:
    conn = sqlite3.connect(str(path), isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout = 1000")
        for _attempt in range(CHECKPOINT_TRIES):
            try:
                busy, _log, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            except sqlite3.OperationalError as exc:  # locked: a writer or the other checkpointer
                log.debug("database: the truncating checkpoint waits (%s)", exc)
                busy = 1
            if not busy:
                return True
        log.warning("database: the write-ahead log could not be truncated now; the next purge tries again")
        return False
    finally:
        conn.close()


def _owner_only(path: Path) -> None:
    """Only the bot's own user may read the database files."""
    if os.name != "posix":
        return
    for suffix in ("", "-wal", "-shm"):
        target = Path(f"{path}{suffix}")
        if target.exists():
            target.chmod(0o600)


async def _migrate(conn: Connection) -> None:
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    current = row[0] if row else 0
    for version, script in migration_scripts():
        if version <= current:
            continue
        log.info("applying schema migration %d", version)
        # executescript commits on its own; wrap the script so it applies entirely or not at all.
        await conn.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;")


async def _unlock(conn: Connection, secret_key: bytes) -> Crypto:
    async with conn.execute("SELECT salt, check_value, created_at FROM keyring WHERE id = 1") as cursor:
        row = await cursor.fetchone()
    if row is not None and not row[0]:
        raise DatabaseShredded(wiped_at=row[2])  # an empty salt marks a destroyed key (storage/wipe.shred)
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
