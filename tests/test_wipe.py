"""Wiping: a committee's delegate wipes its data with `/wipe` (after confirming), touching no other
committee; `asamblea wipe` destroys the database's key, after which the database cannot be read
and the bot starts afresh; the coordinating council's `/panic` does the same from Telegram. Anyone
else, and any forged or stale button, is refused and nothing changes."""

from __future__ import annotations

import asyncio
import io
import sqlite3
from pathlib import Path

import pytest

from bot.app import build_application, start_polling_application, stop_polling_application
from bot.cli import main
from bot.credentials import Credentials
from storage import DatabaseShredded, Store
from tests.movement import SECRET_KEY, TABLES, Movement
from tests.test_calls import approved_region
from tests.test_cli_run import write_config
from tests.test_privacy import raw_files, text_forms

Z_DEMAND = "Canary wiped demand 91ab: free the drivers"
A_DEMAND = "Aktau demand 5c0d: a day off after each shift"
Z_CALL = "Zhanaozen call canary 3f7e"
A_CALL = "Aktau call 77d1: the port stops"
COMMITTEE_TABLES = (
    "demands",
    "demand_support",
    "demand_links",
    "decisions",
    "delegates",
    "committee_rules",
    "strike_status",
    "outbox",
    "call_answers",
    "call_deliveries",
)


async def count(movement: Movement, table: str, where: str = "1", *params: object) -> int:
    return (await movement.query(f"SELECT count(*) FROM {table} WHERE {where}", *params))[0][0]


async def committee_id(movement: Movement, chat: int) -> int:
    async with movement.store.db.read() as conn:
        return (await movement.store.committees.by_chat(conn, chat)).id


async def two_busy_committees(movement: Movement) -> tuple[int, dict, int, dict]:
    """Zhanaozen and Aktau, each with a demand, a call the other joined, a strike and a proposal."""
    _council, _admin, [(zhanaozen, z_admin), (aktau, a_admin)] = await approved_region(
        movement, "mangystau", ["Zhanaozen oil workers", "Aktau port workers"]
    )
    # Each answer awaited: a reply still waiting for its turn in the chat (bot/pacing.py) would
    # otherwise be taken for the answer to a later command.
    await movement.say(zhanaozen, z_admin, f"/demand {Z_DEMAND}")
    await movement.say(aktau, a_admin, f"/demand {A_DEMAND}")
    await movement.say(zhanaozen, z_admin, "/demand link")
    await movement.say(zhanaozen, z_admin, "/propose Canary proposal: a strike fund")
    await movement.drained()
    for chat, admin, other, other_admin, text in (
        (zhanaozen, z_admin, aktau, a_admin, Z_CALL),
        (aktau, a_admin, zhanaozen, z_admin, A_CALL),
    ):
        since = await movement.client.seq()
        await movement.call(chat, admin, f"/strike now | at the gates | {text} | region")
        copy = await movement.client.wait_for_text(other, text, since=since)
        await movement.press(other, other_admin, copy, "✅ We join")
        await movement.drained()
    # What assemblies would decide over days, written straight to the store (setup, not what is tested).
    store = movement.store
    now = int(movement.app.bot_data["clock"].time())
    async with store.db.transaction() as tx:
        for chat, admin in ((zhanaozen, z_admin), (aktau, a_admin)):
            committee = await store.committees.by_chat(tx, chat)
            [demand] = await store.demands.of_committee(tx, committee.id)
            await store.demands.endorse(tx, demand.id, committee.id, now=now)
            await store.decisions.set_rule(tx, committee.id, "majority", now=now)
            await store.delegates.elect(
                tx,
                committee_id=committee.id,
                holder=store.db.crypto.user(admin["id"]),
                mandate="Canary mandate: negotiate nothing alone",
                starts_at=now,
                ends_at=now + 30 * 86400,
                decision_id=None,
            )
    return zhanaozen, z_admin, aktau, a_admin


async def test_a_delegate_wipes_the_committee_and_no_other(movement: Movement):
    zhanaozen, z_admin, aktau, a_admin = await two_busy_committees(movement)
    z_id, a_id = await committee_id(movement, zhanaozen), await committee_id(movement, aktau)
    for table in COMMITTEE_TABLES:
        assert await count(movement, table, "committee_id = ?", z_id), table
    member = await movement.member(zhanaozen, "Zhanaozen member")

    before = await movement.rows()
    refused = await movement.say(zhanaozen, member, "/wipe")
    assert refused["text"] == "Only the committee's delegates can wipe its data."
    question = await movement.say(zhanaozen, z_admin, "/wipe")
    assert "Wipe the committee “Zhanaozen oil workers”?" in question["text"]
    assert "the calls it issued (they are withdrawn" in question["text"]
    answer = await movement.press(zhanaozen, member, question, "🗑 Wipe")
    assert answer["text"] == "Only the committee's delegates can wipe its data." and answer["show_alert"]
    # Forged: another committee's id under this group's question, and this committee's from Aktau.
    forged = await movement.press_data(zhanaozen, z_admin, question["message_id"], f"v1:wp:{a_id}:y")
    assert forged["text"] == "This button is no longer valid."
    somewhere = await movement.say(aktau, a_admin, "/committee")
    forged = await movement.press_data(aktau, a_admin, somewhere["message_id"], f"v1:wp:{z_id}:y")
    assert forged["text"] == "This button is no longer valid."
    await movement.settle()
    assert await movement.rows() == before

    since = await movement.client.seq()
    answer = await movement.press(zhanaozen, z_admin, question, "🗑 Wipe")
    assert answer["text"] == "Wiped."
    done = await movement.client.wait_for_text(zhanaozen, "this committee's data is wiped", since=since)
    assert not (done.get("reply_markup") or {}).get("inline_keyboard")
    await movement.drained()

    # Zhanaozen: nothing left but a nameless, chatless row marked wiped.
    assert await movement.query("SELECT status, name_ct, chat_id_ct FROM committees WHERE id = ?", z_id) == [
        ("wiped", None, None)
    ]
    for table in COMMITTEE_TABLES:
        assert await count(movement, table, "committee_id = ?", z_id) == 0, table
    assert await count(movement, "calls", "issuer_committee_id = ?", z_id) == 0
    assert await movement.query("PRAGMA foreign_key_check") == []
    # Aktau keeps everything of its own.
    async with movement.store.db.read() as conn:
        aktau_committee = await movement.store.committees.get(conn, a_id)
        [a_demand] = await movement.store.demands.of_committee(conn, a_id)
    assert aktau_committee.status.value == "active" and a_demand.text == A_DEMAND
    assert await count(movement, "calls", "issuer_committee_id = ?", a_id) == 1
    assert await count(movement, "call_deliveries", "committee_id = ?", a_id) == 1
    assert await movement.query("SELECT status FROM strike_status WHERE committee_id = ?", a_id) == [("on_strike",)]

    # The group is no committee any more; an old button is refused; Aktau's /verify-able call stands.
    again = await movement.say(zhanaozen, z_admin, "/committee")
    assert "not a registered committee" in again["text"]
    stale = await movement.press(zhanaozen, z_admin, question, "🗑 Wipe")
    assert stale["text"] == "This button is no longer valid."


async def test_a_wipe_can_be_called_off(movement: Movement):
    _council, _admin, [(zhanaozen, z_admin)] = await approved_region(movement, "mangystau", ["Zhanaozen oil workers"])
    question = await movement.say(zhanaozen, z_admin, "/wipe")
    before = await movement.rows()
    answer = await movement.press(zhanaozen, z_admin, question, "Cancel")
    assert answer["text"] == "Cancelled."
    await movement.settle()
    assert await movement.rows() == before


@pytest.fixture
def config_file(tmp_path: Path, database: Path) -> Path:
    path = tmp_path / "config.toml"
    write_config(path, "http://127.0.0.1:9", database, None)
    return path


async def cli(argv: list[str]) -> int:
    """The CLI in a worker thread: it runs its own event loop, as it does from a shell."""
    return await asyncio.to_thread(main, argv)


async def test_asamblea_wipe_destroys_the_key_and_the_bot_starts_afresh(
    movement: Movement,
    database: Path,
    config_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
):
    operator = await movement.person("Operator")
    await movement.say(operator["id"], operator, "/start")  # the operator has started the bot
    zhanaozen, z_admin, _aktau, _a_admin = await two_busy_committees(movement)
    [(demand_ct,)] = await movement.query("SELECT text_ct FROM demands WHERE text_ct IS NOT NULL LIMIT 1")
    [(salt,)] = await movement.query("SELECT salt FROM keyring")
    await stop_polling_application(movement.app)

    # Asked without --yes, and answered with anything but WIPE: nothing changes.
    monkeypatch.setattr("sys.stdin", io.StringIO("yes\n"))
    assert await cli(["wipe", "--config", str(config_file)]) == 1
    assert "not confirmed; nothing was changed" in capsys.readouterr().err
    store = await Store.open(database, SECRET_KEY)
    await store.close()

    assert await cli(["wipe", "--config", str(config_file), "--yes"]) == 0
    assert "wiped" in capsys.readouterr().out
    with pytest.raises(DatabaseShredded):
        await Store.open(database, SECRET_KEY)
    raw = sqlite3.connect(database)
    try:
        assert raw.execute("SELECT salt, check_value FROM keyring").fetchall() == [(b"", b"")]
        for table in TABLES:
            assert raw.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
    finally:
        raw.close()
    for name, content in raw_files(database).items():
        assert bytes(salt) not in content and bytes(demand_ct) not in content, name
        for form in text_forms(Z_DEMAND):
            assert form not in content, name
    assert await cli(["wipe", "--config", str(config_file), "--yes"]) == 0
    assert "already wiped" in capsys.readouterr().out

    # The next start says so (log, operator) and runs on a new database.
    credentials = Credentials(bot_token=movement.server.token, secret_key=SECRET_KEY, operator_chat_id=operator["id"])
    since = await movement.client.seq()
    application = build_application(movement.config, credentials, publish_menus=False)
    await start_polling_application(application, poll_timeout=1)
    try:
        told = await movement.client.wait_for_text(operator["id"], "the database was wiped", since=since)
        assert "new, empty database" in told["text"]
        person = await movement.person("Asel")
        assert "Asamblea" in (await movement.say(person["id"], person, "/start"))["text"]
        answer = await movement.say(zhanaozen, z_admin, "/committee")
        assert "not a registered committee" in answer["text"]
        store = application.bot_data["store"]
        async with store.db.read() as conn, conn.execute("SELECT salt FROM keyring") as cursor:
            [(new_salt,)] = await cursor.fetchall()
        assert len(new_salt) == 32 and bytes(new_salt) != bytes(salt)
    finally:
        await stop_polling_application(application)


async def test_the_coordinating_council_panics_and_the_bot_starts_afresh(movement: Movement, database: Path):
    coordinating, kz_admin = await movement.council("kz")
    zhanaozen, z_admin, _aktau, _a_admin = await two_busy_committees(movement)
    [(demand_ct,)] = await movement.query("SELECT text_ct FROM demands WHERE text_ct IS NOT NULL LIMIT 1")
    [(salt,)] = await movement.query("SELECT salt FROM keyring")
    observer = await movement.member(coordinating, "Observer")
    [(mangystau_council,)] = await movement.query("SELECT id FROM councils WHERE region = 'mangystau'")

    before = await movement.rows()
    refused = await movement.say(coordinating, observer, "/panic")
    assert "Only the coordinating council's delegates" in refused["text"]
    question = await movement.say(coordinating, kz_admin, "/panic")
    assert "Wipe everything?" in question["text"] and "not even the operator" in question["text"]
    answer = await movement.press(coordinating, observer, question, "🧨 Destroy everything")
    assert "Only the coordinating council's delegates" in answer["text"] and answer["show_alert"]
    forged = await movement.press_data(coordinating, kz_admin, question["message_id"], f"v1:pn:{mangystau_council}:y")
    assert forged["text"] == "This button is no longer valid."
    await movement.settle()
    assert await movement.rows() == before

    since = await movement.client.seq()
    answer = await movement.press(coordinating, kz_admin, question, "🧨 Destroy everything")
    assert answer["text"] == "Wiping everything…"
    done = await movement.client.wait_for_text(coordinating, "the database's key is destroyed", since=since)
    assert "empty database" in done["text"]
    await movement.settle()

    # A new, empty database with a new salt; the bot answers as on its first day.
    for table, rows in (await movement.rows()).items():
        assert rows == [], table
    [(new_salt,)] = await movement.query("SELECT salt FROM keyring")
    assert len(new_salt) == 32 and bytes(new_salt) != bytes(salt)
    person = await movement.person("Asel")
    assert "Asamblea" in (await movement.say(person["id"], person, "/start"))["text"]
    assert "council's chat" in (await movement.say(coordinating, kz_admin, "/approve"))["text"]
    assert "not a registered committee" in (await movement.say(zhanaozen, z_admin, "/committee"))["text"]
    for name, content in raw_files(database).items():
        assert bytes(salt) not in content and bytes(demand_ct) not in content, name


async def test_panic_works_only_in_the_coordinating_council(movement: Movement):
    await movement.council("kz")
    mangystau, m_admin, [(zhanaozen, z_admin)] = await approved_region(movement, "mangystau", ["Zhanaozen oil workers"])
    before = await movement.rows()
    for chat, admin in ((mangystau, m_admin), (zhanaozen, z_admin)):
        refused = await movement.say(chat, admin, "/panic")
        assert refused["text"] == "Only the coordinating council can wipe everything, and only in its own chat."
    await movement.settle()
    assert await movement.rows() == before
