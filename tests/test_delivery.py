"""The outbox delivers what matters through Telegram's failures: 429, 5xx, dropped
connections, a migrated group, a removed bot, and a restart with messages still pending."""

from __future__ import annotations

from bot.app import build_application, start_polling_application, stop_polling_application
from bot.credentials import Credentials
from tests.movement import SECRET_KEY, Movement


async def outbox_states(movement: Movement) -> dict[str, int]:
    async with movement.store.db.read() as conn:
        return await movement.store.outbox.counts(conn)


async def test_429_storm_is_waited_out(movement: Movement):
    council, _ = await movement.council("kz")
    await movement.client.add_fault("429", method="sendMessage", chat_id=council, count=4, retry_after=1)
    since = await movement.client.seq()
    await movement.committee("Atyrau oil workers", "atyrau")
    request = await movement.client.wait_for_text(council, "Atyrau oil workers", since=since, timeout=30)
    assert request["reply_markup"]
    assert len([m for m in await movement.client.messages(council, since=since) if "Atyrau" in m["text"]]) == 1
    assert await outbox_states(movement) == {"sent": 1}


async def test_server_errors_and_dropped_connections_are_retried(movement: Movement):
    council, _ = await movement.council("kz")
    await movement.client.add_fault("500", method="sendMessage", chat_id=council, count=1)
    await movement.client.add_fault("drop", method="sendMessage", chat_id=council, count=1)
    since = await movement.client.seq()
    await movement.committee("Aktobe oil workers", "aktobe")
    await movement.client.wait_for_text(council, "Aktobe oil workers", since=since, timeout=30)
    assert await outbox_states(movement) == {"sent": 1}


async def test_a_group_migrated_to_a_supergroup_is_followed(movement: Movement):
    council, council_admin = await movement.council("kz")
    admin = await movement.person("Admin")
    old = (await movement.client.create_group("Kyzylorda workers", admin["id"], supergroup=False, announce=False))["id"]
    since = await movement.client.seq()
    await movement.say(old, admin, "/register kyzylorda workplace Kyzylorda workers")
    request = await movement.client.wait_for_text(council, "Kyzylorda workers", since=since, timeout=20)

    # The group migrates while the bot is not polling, so the outbox meets the old id first.
    await movement.app.bot_data["poller"].stop()
    new = await movement.client.migrate(old)
    await movement.app.bot_data["poller"].start()
    await movement.press(council, council_admin, request, "Approve")
    outcome = await movement.client.wait_for_text(new, "approved", since=since, timeout=20)
    assert outcome["chat_id"] == new
    assert "Status: active" in (await movement.say(new, admin, "/committee"))["text"]


async def test_a_removed_bot_marks_the_committee_unreachable(movement: Movement):
    council, council_admin = await movement.council("kz")
    chat, admin = await movement.committee("Shymkent drivers", "shymkent")
    request = await movement.client.wait_for_text(council, "Shymkent drivers", since=0, timeout=20)
    await movement.client.remove_bot(chat, admin["id"])
    await movement.settle()
    async with movement.store.db.read() as conn:
        committee = await movement.store.committees.by_chat(conn, chat)
    assert committee is not None and not committee.reachable

    # The council's decision cannot be delivered: it fails once, without retrying forever.
    await movement.press(council, council_admin, request, "Approve")
    await movement.settle()
    states = await outbox_states(movement)
    assert states.get("failed") == 1 and "pending" not in states

    # Added back, the group is reachable again and its committee is remembered.
    since = await movement.client.seq()
    await movement.client.add_bot(chat, admin["id"])
    greeting = await movement.next_message(chat, since)
    assert "Shymkent drivers" in greeting["text"]


async def test_pending_messages_survive_a_restart(movement: Movement, database):
    council, _ = await movement.council("kz")
    # Telegram is unreachable for the council for a while; the bot stops before it recovers.
    await movement.client.add_fault("502", method="sendMessage", chat_id=council, count=100)
    await movement.committee("Pavlodar workers", "pavlodar")
    await movement.settle()
    assert (await outbox_states(movement)).get("pending") == 1
    await stop_polling_application(movement.app)
    await movement.client.clear_faults()

    since = await movement.client.seq()
    restarted = build_application(
        movement.config, Credentials(bot_token=movement.server.token, secret_key=SECRET_KEY), publish_menus=False
    )
    await start_polling_application(restarted, poll_timeout=1)
    try:
        await movement.client.wait_for_text(council, "Pavlodar workers", since=since, timeout=30)
    finally:
        await stop_polling_application(restarted)
    movement.app = restarted  # the fixture's final checks look at the running bot's store
