"""The durable inbox: an update is kept before Telegram hears it arrived, handled once, and a copy
delivered again has no second effect (bot/inbox.py, bot/polling.py, storage/inbox.py)."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from telegram import Update

import handlers.demands
from bot.inbox import Inbox
from storage import Store
from storage.inbox import HANDLING, Handling
from tests.movement import SECRET_KEY, Movement
from tests.test_calls import approved_region


async def demand_rows(movement: Movement, text: str) -> int:
    """How many demands of the committee carry `text` (texts are sealed: read through the store)."""
    rows = await movement.query("SELECT id FROM demands")
    async with movement.store.db.read() as conn:
        found = 0
        for (demand_id,) in rows:
            demand = await movement.store.demands.get(conn, demand_id)
            found += demand is not None and demand.text == text
    return found


async def held_back(movement: Movement, chat: int, user: dict[str, Any], text: str) -> dict[str, Any]:
    """`text` sent while the bot does not poll, and fetched by hand: the raw update as Telegram
    sends it, not yet seen by the bot (and confirmed, so that the sandbox forgets it)."""
    poller = movement.app.bot_data["poller"]
    await poller.stop()
    await movement.client.send(chat, user["id"], text)
    bot = movement.app.bot
    [update] = await bot.get_updates(timeout=0)
    await bot.get_updates(offset=update.update_id + 1, timeout=0)
    return update.to_dict()


async def test_updates_are_kept_sealed_and_marked_handled(movement: Movement):
    _council, _, [(chat, admin)] = await approved_region(movement, "mangystau", ["Zhanaozen oil workers"])
    await movement.say(chat, admin, "/demand Canary inbox demand: free the detained")
    await movement.settle()
    rows = await movement.query("SELECT update_id, update_ct, handled_at FROM inbox")
    assert rows, "every update from the sandbox went through the inbox"
    assert all(ct is None and handled_at is not None for _id, ct, handled_at in rows), rows
    assert b"Canary inbox" not in movement.store.db.path.read_bytes()


async def test_a_copy_delivered_again_has_no_second_effect(movement: Movement):
    _council, _, [(chat, admin)] = await approved_region(movement, "mangystau", ["Zhanaozen oil workers"])
    text = "A copy must not count twice"
    raw = await held_back(movement, chat, admin, f"/demand {text}")
    await movement.app.bot_data["poller"].start()

    since = await movement.client.seq()
    await movement.client.inject(raw)  # the first delivery
    answer = await movement.next_message(chat, since)
    assert "is recorded" in answer["text"]
    await movement.settle()

    since = await movement.client.seq()
    await movement.client.inject(raw)  # Telegram sends it again: the bot was killed before confirming
    await movement.client.inject(raw)
    await movement.settle()  # the copies were fetched (and confirmed) and whatever they set off is done
    assert await movement.client.pending_updates() == 0
    said = [m["text"] for m in await movement.client.messages(chat, since=since)]
    assert not any("already has this demand" in t or "is recorded" in t for t in said), said
    assert await demand_rows(movement, text) == 1


async def test_updates_kept_but_not_handled_are_handled_after_a_restart(movement: Movement):
    _council, _, [(chat, admin)] = await approved_region(movement, "mangystau", ["Zhanaozen oil workers"])
    text = "Kept before a kill, handled after it"
    raw = await held_back(movement, chat, admin, f"/demand {text}")
    # What a kill right after keeping the update leaves: the row, and Telegram told it arrived.
    store = movement.store
    async with store.db.transaction() as tx:
        assert await store.inbox.keep(tx, [(raw["update_id"], raw)], now=0) == [raw["update_id"]]

    since = await movement.client.seq()
    await movement.restart(None)
    answer = await movement.next_message(chat, since)
    assert "is recorded" in answer["text"]
    await movement.settle()
    assert await demand_rows(movement, text) == 1
    assert await movement.query("SELECT update_ct FROM inbox WHERE update_id = ?", raw["update_id"]) == [(None,)]


async def test_an_update_is_confirmed_only_once_kept(movement: Movement, monkeypatch: pytest.MonkeyPatch):
    _council, _, [(chat, admin)] = await approved_region(movement, "mangystau", ["Zhanaozen oil workers"])
    inbox: Inbox = movement.app.update_queue  # type: ignore[assignment]
    failures = []
    receive = inbox.receive

    async def failing_once(updates: Any, sent: Any = None) -> Any:
        if not failures:
            failures.append(len(updates))
            raise OSError("disk full")
        return await receive(updates, sent)

    monkeypatch.setattr(inbox, "receive", failing_once)
    text = "Not lost to a full disk"
    answer = await movement.say(chat, admin, f"/demand {text}")
    assert "is recorded" in answer["text"]
    assert failures == [1]  # it failed once, was not confirmed, came again and was kept
    assert await demand_rows(movement, text) == 1


async def test_an_update_whose_keeping_failed_to_commit_is_handled_once(
    movement: Movement, monkeypatch: pytest.MonkeyPatch
):
    """The handlers start before the update's row is on disk (bot/inbox.py). When that COMMIT fails,
    Telegram is not told the update arrived and sends it again, while its handler, already queued,
    records the demand in a later COMMIT: the copy finds it handled, and nothing happens twice."""
    _council, _, [(chat, admin)] = await approved_region(movement, "mangystau", ["Zhanaozen oil workers"])
    conn = movement.store.db.conn
    healthy, failed = conn.now, []
    [(seen,)] = await movement.query("SELECT coalesce(max(update_id), 0) FROM inbox")

    def failing_once(sql: str) -> None:
        """The COMMIT of the batch that keeps the demand's update fails."""
        if sql == "COMMIT" and not failed:
            [(kept,)] = conn._conn.execute("SELECT count(*) FROM inbox WHERE update_id > ?", (seen,)).fetchall()
            if kept:
                failed.append(sql)
                raise sqlite3.OperationalError("disk I/O error")
        healthy(sql)

    monkeypatch.setattr(conn, "now", failing_once)
    put_forward, handled = handlers.demands.put_forward, []

    async def counted(*args: Any, **kwargs: Any) -> Any:
        handled.append(await put_forward(*args, **kwargs))
        return handled[-1]

    monkeypatch.setattr(handlers.demands, "put_forward", counted)
    text = "Kept on the second try, recorded once"
    since = await movement.client.seq()
    answer = await movement.say(chat, admin, f"/demand {text}")
    assert "is recorded" in answer["text"]
    await movement.settle()
    assert failed == ["COMMIT"]
    assert await movement.client.pending_updates() == 0  # sent again, then confirmed
    said = [m["text"] for m in await movement.client.messages(chat, since=since)]
    assert sum("is recorded" in t for t in said) == 1, said
    assert len(handled) == 1, handled  # the copy was not handled again (it would be a "duplicate")
    assert await demand_rows(movement, text) == 1


async def test_an_update_nobody_can_read_is_skipped_and_those_after_it_handled(
    movement: Movement, caplog: pytest.LogCaptureFixture
):
    """An answer of getUpdates with an update PTB cannot read (here: no date, a chat that is a
    string) must not be asked for again and again: that would stop every update after it."""
    _council, _, [(chat, admin)] = await approved_region(movement, "mangystau", ["Zhanaozen oil workers"])
    poller = movement.app.bot_data["poller"]
    await poller.stop()
    broken = [
        await movement.client.inject({"message": {"message_id": 900, "chat": {"id": chat}, "text": "Canary unread"}}),
        await movement.client.inject({"message": {"message_id": 901, "date": 0, "chat": "Canary unread"}}),
    ]
    text = "Handled after two updates nobody could read"
    await movement.client.send(chat, admin["id"], f"/demand {text}")
    since = await movement.client.seq()
    await poller.start()
    answer = await movement.next_message(chat, since)
    assert "is recorded" in answer["text"]
    await movement.settle()
    assert await movement.client.pending_updates() == 0  # the unreadable ones were confirmed too
    assert await demand_rows(movement, text) == 1
    skipped = [r.getMessage() for r in caplog.records if "could not be read" in r.getMessage()]
    assert [str(update["update_id"]) in line for update, line in zip(broken, skipped, strict=True)] == [True, True]
    assert not any("Canary" in r.getMessage() for r in caplog.records)  # ids only, never the content
    rows = await movement.query(
        "SELECT update_id FROM inbox WHERE update_id IN (?, ?)", *[u["update_id"] for u in broken]
    )
    assert rows == []  # nothing of them kept


async def test_the_mark_commits_with_the_first_write_or_not_at_all(tmp_path):
    store = await Store.open(tmp_path / "inbox.sqlite3", SECRET_KEY)
    try:
        async with store.db.transaction() as tx:
            await store.inbox.keep(tx, [(7, {"update_id": 7})], now=1)
        handling = Handling(update_id=7, now=2)
        token = HANDLING.set(handling)
        try:
            with pytest.raises(RuntimeError):
                async with store.db.transaction() as tx:
                    await tx.execute("INSERT INTO retention_runs (id, ran_at, cutoff, purged) VALUES (1, 0, 0, 0)")
                    raise RuntimeError("the handler failed halfway")
            assert not handling.marked
            async with store.db.read() as conn:
                assert [u for u, _ in await store.inbox.pending(conn)] == [7]
            async with store.db.transaction() as tx:
                await tx.execute("INSERT INTO retention_runs (id, ran_at, cutoff, purged) VALUES (1, 0, 0, 0)")
        finally:
            HANDLING.reset(token)
        assert handling.marked
        async with store.db.read() as conn:
            assert await store.inbox.pending(conn) == []
            async with conn.execute("SELECT count(*) FROM retention_runs") as cursor:
                assert (await cursor.fetchone())[0] == 1
    finally:
        await store.close()


async def test_a_handled_update_whose_kept_row_was_lost_is_still_known_as_handled(tmp_path):
    """Its row's COMMIT failed, its handler's later one did not: the mark writes the row, handled."""
    store = await Store.open(tmp_path / "inbox.sqlite3", SECRET_KEY)
    try:
        handling = Handling(update_id=8, now=3)
        token = HANDLING.set(handling)
        try:
            async with store.db.transaction() as tx:
                await tx.execute("INSERT INTO retention_runs (id, ran_at, cutoff, purged) VALUES (1, 0, 0, 0)")
        finally:
            HANDLING.reset(token)
        assert handling.marked
        assert await rows_of(store, "SELECT update_id, update_ct, handled_at FROM inbox") == [(8, None, 3)]
        async with store.db.transaction() as tx:  # Telegram sends it again: a copy, not kept
            assert await store.inbox.keep(tx, [(8, {"update_id": 8})], now=4) == []
        async with store.db.read() as conn:
            assert await store.inbox.pending(conn) == []
    finally:
        await store.close()


async def rows_of(store: Store, sql: str) -> list[tuple]:
    async with store.db.read() as conn, conn.execute(sql) as cursor:
        return [tuple(row) for row in await cursor.fetchall()]


def test_an_update_round_trips_through_its_sealed_payload():
    raw = {
        "update_id": 5,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": -100, "type": "group", "title": "Қазақ"},
            "from": {"id": 42, "is_bot": False, "first_name": "Айгүл"},
            "text": "/demand ✊",
        },
    }
    update = Update.de_json(raw, None)
    assert Update.de_json(update.to_dict(), None).to_dict() == update.to_dict()


async def test_a_kept_update_that_can_no_longer_be_read_does_not_stop_the_bot(movement: Movement):
    """Kept by a version that could read it (a newer python-telegram-bot may read less): at start it
    is marked handled and skipped, logged by its id, and the bot starts and handles what comes next."""
    _council, _, [(chat, admin)] = await approved_region(movement, "mangystau", ["Zhanaozen oil workers"])
    unreadable = {"update_id": 987654, "message": {"message_id": 1, "date": 0, "chat": "Canary kept"}}
    store = movement.store
    async with store.db.transaction() as tx:
        await store.inbox.keep(tx, [(unreadable["update_id"], unreadable)], now=0)

    await movement.restart(None)
    assert await movement.query("SELECT update_ct FROM inbox WHERE update_id = ?", 987654) == [(None,)]
    recorded = await movement.say(chat, admin, "/demand Handled after the one that could not be read")
    assert "is recorded" in recorded["text"]
    assert not movement.errors
