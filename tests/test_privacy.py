"""A seized disk reveals no one: the raw database and its WAL hold no id or name, in any form.

The flow registers councils and committees (one in Russian, one through buttons and a reply,
one rejected) with the bot running, then reads the database file and its -wal byte by byte.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.logs import apply_levels
from tests.movement import Movement


def forms(value: int) -> list[bytes]:
    """An id as text in decimal and hex, and as the raw integers a careless schema would store."""
    found = [str(value).encode(), str(abs(value)).encode(), f"{abs(value):x}".encode(), f"{abs(value):X}".encode()]
    for size in (4, 8):
        for order in ("big", "little"):
            try:
                found.append(value.to_bytes(size, order, signed=True))
            except OverflowError:
                continue
    return found


def text_forms(text: str) -> list[bytes]:
    return [text.encode("utf-8"), text.encode("utf-16-le"), text.encode("utf-16-be"), text.lower().encode()]


def raw_files(database: Path) -> dict[str, bytes]:
    return {
        path.name: path.read_bytes()
        for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm"))
        if path.exists()
    }


async def play_registrations(movement: Movement) -> tuple[list[int], list[str]]:
    """Councils and committees come and go; returns every id and name the bot saw."""
    ids: list[int] = []
    names: list[str] = []
    council, council_admin = await movement.council("mangystau", title="Mangystau council chat")
    ids += [council, council_admin["id"]]
    names += ["Mangystau council chat", "mangystau council admin"]

    for name, region in (("Zhanaozen oil workers", "mangystau"), ("Aktau builders", "mangystau")):
        chat, admin = await movement.committee(name, region, council=council, council_admin=council_admin)
        ids += [chat, admin["id"]]
        names += [name, f"{name} admin"]

    admin = await movement.person("Гульнара Сарсенова", language="ru")
    chat = await movement.group("Жанаозен нефтяники", admin)
    question = await movement.say(chat, admin, "/settings")
    await movement.press(chat, admin, question, "Русский")
    prompt = await movement.say(chat, admin, "/register mangystau workplace")
    await movement.say(chat, admin, "Нефтяники Жанаозена", reply_to=prompt["message_id"])
    ids += [chat, admin["id"]]
    names += ["Гульнара Сарсенова", "Жанаозен нефтяники", "Нефтяники Жанаозена"]

    # A call: its place, text and verification code are sealed; answers and /verify are pseudonymous.
    issuer, issuer_admin = ids[2], {"id": ids[3]}
    place, text = "у ворот Озенмунайгаза 7", "Canary strike text 9f3a: we stop work"
    await movement.call(issuer, issuer_admin, f"/strike now | {place} | {text} | region")
    copy = await movement.client.wait_for_text(ids[4], "Canary strike text", since=0)
    await movement.press(ids[4], {"id": ids[5]}, copy, "✅ We join")
    code = next(line.split(": ")[-1] for line in copy["text"].splitlines() if line.startswith("Verification code"))
    checker = await movement.person("Checking member")
    await movement.say(checker["id"], checker, f"/verify {code}")
    await movement.say(checker["id"], checker, "/verify ABCDE-FGHJK")
    ids.append(checker["id"])
    names += [place, text, code, code.replace("-", ""), "Checking member"]

    # Demands (in the group and through the private link), a proposal and an election with a mandate.
    demand, secret_demand = "Canary demand 51c2: gas at 50 tenge", "Canary private demand 7d0e"
    proposal, mandate = "Canary proposal 3b8e", "Canary mandate 6a1f: negotiate nothing alone"
    await movement.client.send(issuer, issuer_admin["id"], f"/demand {demand}")
    link = await movement.say(issuer, issuer_admin, "/demand link")
    token = link["text"].split("?start=", 1)[1].split()[0]
    member = await movement.member(issuer, "Quiet member")
    await movement.say(member["id"], member, f"/start {token}")
    await movement.say(member["id"], member, secret_demand)
    await movement.say(issuer, issuer_admin, f"/propose {proposal}")
    offer = await movement.client.send(issuer, member["id"], "I can go to the council")
    await movement.say(issuer, issuer_admin, f"/elect {mandate}", reply_to=offer["message_id"])
    ids.append(member["id"])
    names += [demand, secret_demand, proposal, mandate, token, "Quiet member"]
    await movement.settle()
    return ids, names


async def test_raw_database_holds_no_ids_or_names(movement: Movement, database: Path, caplog: pytest.LogCaptureFixture):
    # The bot's own logging policy at its most verbose; the sandbox's records are the test's side.
    caplog.set_level(logging.DEBUG)
    apply_levels(logging.DEBUG)
    ids, names = await play_registrations(movement)
    await movement.settle()
    files = raw_files(database)
    assert files[database.name] and f"{database.name}-wal" in files
    # The flow did write what it should: the data is there, only unreadable.
    async with movement.store.db.read() as conn:
        committees = (await (await conn.execute("SELECT count(*) FROM committees")).fetchone())[0]
        demands = (await (await conn.execute("SELECT count(*) FROM demands")).fetchone())[0]
        decisions = (await (await conn.execute("SELECT count(*) FROM decisions")).fetchone())[0]
    assert (committees, demands, decisions) == (3, 2, 2)
    # The scan sees what is stored in clear (region ids), so its silence about ids means something.
    assert any(b"mangystau" in content for content in files.values())

    leaks = [
        (name, needle)
        for name, content in files.items()
        for value in ids
        for needle in forms(value)
        if needle in content
    ]
    leaks += [
        (name, text)
        for name, content in files.items()
        for text in names
        for form in text_forms(text)
        if form in content
    ]
    assert not leaks, f"found in the raw database: {leaks[:5]}"

    log_text = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith(("bot.sandbox", "tornado")))
    assert movement.server.token not in log_text
    for value in ids:
        assert str(value) not in log_text and str(abs(value)) not in log_text
    for text in names:
        assert text not in log_text


async def test_database_files_are_private_to_the_bot(movement: Movement, database: Path):
    await movement.person("Anyone")
    for path in (database, Path(f"{database}-wal")):
        assert path.stat().st_mode & 0o077 == 0, path
