"""Storage: migrations, keys, sealed fields bound to their row, and all-or-nothing transactions."""

from __future__ import annotations

import pytest

from storage import Store, WrongSecretKey
from storage.crypto import Crypto, DecryptionError

SECRET = b"s" * 40


async def test_migrations_pragmas_and_keyring(tmp_path):
    store = await Store.open(tmp_path / "a.sqlite3", SECRET)
    async with store.db.read() as conn:
        assert (await (await conn.execute("PRAGMA journal_mode")).fetchone())[0] == "wal"
        assert (await (await conn.execute("PRAGMA synchronous")).fetchone())[0] == 2  # FULL
        assert (await (await conn.execute("PRAGMA foreign_keys")).fetchone())[0] == 1
        assert (await (await conn.execute("PRAGMA user_version")).fetchone())[0] >= 1
    await store.close()
    # Reopening with the same key works; another key is refused instead of reading garbage.
    await (await Store.open(tmp_path / "a.sqlite3", SECRET)).close()
    with pytest.raises(WrongSecretKey):
        await Store.open(tmp_path / "a.sqlite3", b"t" * 40)


def test_ciphertexts_are_bound_to_table_column_and_row():
    crypto = Crypto.derive(SECRET, b"salt")
    sealed = crypto.seal_chat_id(-1001234567890, table="committees", row=7)
    assert crypto.open_chat_id(sealed, table="committees", row=7) == -1001234567890
    for wrong in ({"table": "councils", "row": 7}, {"table": "committees", "row": 8}):
        with pytest.raises(DecryptionError):
            crypto.open_chat_id(sealed, **wrong)
    with pytest.raises(DecryptionError):
        Crypto.derive(SECRET, b"other salt").open_chat_id(sealed, table="committees", row=7)


def test_pseudonyms_are_keyed_and_separate_per_kind():
    a, b = Crypto.derive(SECRET, b"salt"), Crypto.derive(SECRET, b"salt2")
    assert a.user(42) == a.user(42) != b.user(42)
    assert a.user(42) != a.chat(42)
    assert a.pseudonym_key != a.field_key


async def test_a_failed_transaction_writes_nothing(tmp_path):
    store = await Store.open(tmp_path / "b.sqlite3", SECRET)
    with pytest.raises(RuntimeError):
        async with store.db.transaction() as tx:
            await store.committees.register(
                tx, chat_id=-1, name="n", region="mangystau", kind="workplace", registered_by=5, now=1
            )
            raise RuntimeError("crash between two writes")
    async with store.db.read() as conn:
        assert await store.committees.by_chat(conn, -1) is None
    await store.close()


async def test_council_codes_work_once_and_expire(tmp_path):
    store = await Store.open(tmp_path / "c.sqlite3", SECRET)
    async with store.db.transaction() as tx:
        await store.councils.add_code(tx, "AAAA-BBBB-CCCC", region="kz", now=100, expires_at=200)
        await store.councils.add_code(tx, "DDDD-EEEE-FFFF", region="kz", now=100, expires_at=150)
    async with store.db.transaction() as tx:
        assert await store.councils.redeem_code(tx, "DDDD-EEEE-FFFF", now=160) is None  # expired
        assert await store.councils.redeem_code(tx, "AAAA-BBBB-CCCC", now=160) == "kz"
        assert await store.councils.redeem_code(tx, "AAAA-BBBB-CCCC", now=161) is None  # used
    await store.close()
