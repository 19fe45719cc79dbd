"""A busy committee: demands that come fast are acknowledged together, repeats are still refused,
and writes that share a COMMIT are still each all-or-nothing (storage/database.py)."""

from __future__ import annotations

import asyncio
import re

import pytest

from storage import Store
from tests.movement import Movement
from tests.test_calls import approved_region

SECRET = b"s" * 40


async def test_demands_that_come_fast_are_acknowledged_together(movement: Movement):
    _council, _, [(chat, _admin)] = await approved_region(movement, "mangystau", ["Zhanaozen oil workers"])
    member = await movement.member(chat, "Oil worker")
    first = await movement.say(chat, member, "/demand A 100% wage rise for all oil workers")
    assert "Demand #1 is recorded" in first["text"]
    assert first.get("reply_to_message_id"), first  # alone, it quotes the member's message

    # Three more at once: the group's next message may leave only seconds later (Telegram's limit
    # per group), and the acknowledgement waiting until then takes all three.
    since = await movement.client.seq()
    texts = ["Free the detained strikers", "Lower fuel prices by half", "Recognise the independent union"]
    await asyncio.gather(*(movement.client.send(chat, member["id"], f"/demand {text}") for text in texts))
    together = await movement.client.wait_for_text(chat, "#4", since=since, timeout=30)
    assert "Demands #2, #3, #4 are recorded" in together["text"], together["text"]
    await movement.settle()
    said = [m["text"] for m in await movement.client.messages(chat, since)]
    assert len([text for text in said if "recorded" in text]) == 1, said


async def test_a_repeat_is_refused_and_a_merged_demand_no_longer_counts(movement: Movement):
    _council, _, [(chat, admin)] = await approved_region(movement, "mangystau", ["Zhanaozen oil workers"])
    await movement.say(chat, admin, "/demand Release the detained strikers")
    again = await movement.say(chat, admin, "/demand release the DETAINED strikers!")
    assert "already has this demand: #1" in again["text"]
    # Merged away elsewhere (a council's merge): the committee may put it forward anew.
    async with movement.store.db.transaction() as tx:
        await tx.execute("UPDATE demands SET status = 'merged' WHERE id = 1")
    anew = await movement.say(chat, admin, "/demand Release the detained strikers")
    assert re.search(r"Demand #2 is recorded", anew["text"]), anew["text"]


async def test_writers_that_share_a_commit_each_write_all_or_nothing(tmp_path):
    store = await Store.open(tmp_path / "batch.sqlite3", SECRET)

    async def register(number: int) -> None:
        async with store.db.transaction() as tx:
            await store.committees.register(
                tx, chat_id=-number, name=f"c{number}", region="mangystau", kind="workplace", registered_by=1, now=1
            )
            if number % 5 == 0:
                raise RuntimeError("this writer fails after its write")

    outcomes = await asyncio.gather(*(register(n) for n in range(1, 41)), return_exceptions=True)
    assert [n for n, outcome in enumerate(outcomes, start=1) if isinstance(outcome, RuntimeError)] == list(
        range(5, 41, 5)
    )
    async with store.db.read() as conn:
        async with conn.execute("SELECT count(*) FROM committees") as cursor:
            assert (await cursor.fetchone())[0] == 32
        assert await store.committees.by_chat(conn, -5) is None
        assert await store.committees.by_chat(conn, -6) is not None
    await store.close()
    # Committed for good: a new connection sees the same.
    reopened = await Store.open(tmp_path / "batch.sqlite3", SECRET)
    async with reopened.db.read() as conn, conn.execute("SELECT count(*) FROM committees") as cursor:
        assert (await cursor.fetchone())[0] == 32
    await reopened.close()


@pytest.mark.parametrize("cached", [False, True])
async def test_the_repeat_check_matches_is_same(tmp_path, cached):
    """The prefilter never hides a repeat is_same would find (the bound in storage/demands.py)."""
    from domain.demands import is_same

    store = await Store.open(tmp_path / "same.sqlite3", SECRET)
    stored = [
        "Повысить зарплату на 100% всем нефтяникам",
        "A 100% wage rise for all oil workers",
        "Free all detained strikers now",
        "Жалақыны 100% көтеру",
    ]
    tries = [
        "повысить зарплату на 100 % всем нефтяникам!",
        "all oil workers: a 100% wage rise",
        "Free all detainned strikers now",
        "A 10% wage rise for all oil workers",
        "Free all detained strikers",
        "жалақыны 100% көтеру",
    ]
    async with store.db.transaction() as tx:
        committee = await store.committees.register(
            tx, chat_id=-1, name="c", region="mangystau", kind="workplace", registered_by=1, now=1
        )
        for text in stored:
            await store.demands.add(tx, committee_id=committee.id, text=text, via="group", submitted_by=1, now=1)
    async with store.db.read() as conn:
        if cached:
            await store.demands.repeat_of(conn, committee.id, "anything")
        for text in tries:
            expected = next((n for n, old in enumerate(stored, start=1) if is_same(old, text)), None)
            assert await store.demands.repeat_of(conn, committee.id, text) == expected, text
    await store.close()
