"""A call's copies get through Telegram's failures: 429 storms, server errors and dropped
connections, a migrated group, a removed bot (its council is told), and a restart mid-broadcast."""

from __future__ import annotations

from collections import Counter

from bot.app import build_application, start_polling_application, stop_polling_application
from bot.credentials import Credentials
from tests.movement import SECRET_KEY, Movement

TEXT = "General strike until our demands are met"


async def copies(movement: Movement, chats: list[int]) -> Counter[int]:
    """How many copies of the call each chat holds."""
    counted: Counter[int] = Counter()
    for chat in chats:
        counted[chat] = len([m for m in await movement.client.messages(chat) if TEXT in m["text"]])
    return counted


async def delivered_everywhere(movement: Movement, chats: list[int]) -> None:
    for chat in chats:
        await movement.client.wait_for_text(chat, TEXT, since=0, timeout=60)
    await movement.settle()


async def test_a_429_storm_and_server_errors_delay_but_lose_and_repeat_nothing(movement: Movement):
    coordinators, admin = await movement.council("kz")
    chats = [chat for chat, _ in await movement.seed_committees("atyrau", 6)]
    for chat in chats[:3]:
        await movement.client.add_fault("429", method="sendMessage", chat_id=chat, count=3, retry_after=1)
    await movement.client.add_fault("500", method="sendMessage", chat_id=chats[3], count=2)
    await movement.client.add_fault("drop", method="sendMessage", chat_id=chats[4], count=1)

    await movement.call(coordinators, admin, f"/call general strike now | everywhere | {TEXT} | atyrau")
    await delivered_everywhere(movement, chats)

    counted = await copies(movement, chats)
    assert set(counted.values()) == {1}, counted
    status = await movement.client.wait_for_text(coordinators, "Delivered: 6 of 6", since=0, timeout=30)
    assert "Not delivered" not in status["text"]


async def test_a_migrated_group_gets_its_copy_at_its_new_id(movement: Movement):
    coordinators, admin = await movement.council("kz")
    [(chat, _)] = await movement.seed_committees("aktobe", 1)
    old_group_admin = await movement.person("Old group admin")
    old = (
        await movement.client.create_group("Aktobe old group", old_group_admin["id"], supergroup=False, announce=False)
    )["id"]
    async with movement.store.db.transaction() as tx:
        await movement.store.committees.move_chat(tx, (await movement.store.committees.by_chat(tx, chat)).id, old)

    await movement.app.bot_data["poller"].stop()  # the bot meets the migration when sending, not as an update
    new = await movement.client.migrate(old)
    await movement.app.bot_data["poller"].start()
    await movement.call(coordinators, admin, f"/call strike now | everywhere | {TEXT} | aktobe")
    copy = await movement.client.wait_for_text(new, TEXT, since=0, timeout=30)
    assert copy["chat_id"] == new
    await movement.client.wait_for_text(coordinators, "Delivered: 1 of 1", since=0, timeout=30)


async def test_a_removed_bot_fails_once_and_the_council_is_told(movement: Movement):
    council, council_admin = await movement.council("karaganda")
    chats = await movement.seed_committees("karaganda", 3)
    (gone, gone_admin) = chats[0]
    since = await movement.client.seq()
    # The bot sees its removal (and tells the council); the call still tries, and fails, once.
    await movement.client.remove_bot(gone, gone_admin["id"])
    notice = await movement.client.wait_for_text(council, "can no longer write", since=since, timeout=30)
    assert "karaganda committee 0" in notice["text"]
    await movement.call(council, council_admin, f"/call strike now | mines | {TEXT} | region")
    status = await movement.client.wait_for_text(council, "Not delivered: 1 (bot removed: 1)", since=since, timeout=30)
    assert "Delivered: 2 of 3" in status["text"]
    await movement.settle()
    notices = [m for m in await movement.client.messages(council, since=since) if "can no longer write" in m["text"]]
    assert len(notices) == 1
    async with movement.store.db.read() as conn:
        committee = await movement.store.committees.by_chat(conn, gone)
    assert not committee.reachable


async def test_a_restart_in_the_middle_of_a_broadcast_loses_and_repeats_nothing(movement: Movement):
    coordinators, admin = await movement.council("kz")
    chats = [chat for chat, _ in await movement.seed_committees("almaty", 12)]
    # Every group takes one message; a long delay on half of them keeps the broadcast going.
    for chat in chats[6:]:
        await movement.client.add_fault("502", method="sendMessage", chat_id=chat, count=50)
    await movement.call(coordinators, admin, f"/call strike now | everywhere | {TEXT} | almaty")
    for chat in chats[:6]:
        await movement.client.wait_for_text(chat, TEXT, since=0, timeout=30)
    waiting = await movement.states()
    await stop_polling_application(movement.app)
    assert waiting.get("pending", 0) + waiting.get("inflight", 0) >= 6, waiting
    await movement.client.clear_faults()

    restarted = build_application(
        movement.config, Credentials(bot_token=movement.server.token, secret_key=SECRET_KEY), publish_menus=False
    )
    movement.app = restarted
    await start_polling_application(restarted, poll_timeout=1)
    await delivered_everywhere(movement, chats)
    counted = await copies(movement, chats)
    assert set(counted.values()) == {1}, counted
