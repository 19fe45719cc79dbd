"""The bot never dies on an update: hostile updates are survived, and a handler's crash is
answered to the user and reported to the operator without personal data."""

from __future__ import annotations

from telegram.ext import CommandHandler

from bot.app import build_application, start_polling_application, stop_polling_application
from bot.credentials import Credentials
from bot.sandbox import SandboxClient, SandboxServer
from tests.conftest import make_config
from tests.movement import SECRET_KEY, Movement


async def test_malformed_updates_do_not_stop_the_bot(movement: Movement):
    person = await movement.person("Asel")
    hostile = [
        {"message": {"message_id": 1, "date": 0, "chat": {"id": -5, "type": "group"}, "text": "/register"}},
        {"callback_query": {"id": "1", "from": {"id": 9, "is_bot": False, "first_name": "x"},
                            "chat_instance": "c", "data": "v1:ap:1:y"}},
        {"callback_query": {"id": "2", "from": {"id": 9, "is_bot": False, "first_name": "x"},
                            "chat_instance": "c", "data": "v1:rg:r:mangystau"}},
        {"my_chat_member": None},
        {"unknown_kind": {"x": 1}},
    ]  # fmt: skip
    for update in hostile:
        await movement.client.inject(update)
    await movement.settle()
    assert "Asamblea" in (await movement.say(person["id"], person, "/start"))["text"]


async def test_a_crashing_handler_is_answered_and_reported_to_the_operator(tmp_path):
    async with SandboxServer() as server, SandboxClient(server.base_url) as client:
        operator = await client.create_user("Operator")
        await client.send(operator["id"], operator["id"], "/start")  # the operator has started the bot
        person = await client.create_user("Asel")
        config = make_config(server.base_url, tmp_path / "db.sqlite3")
        credentials = Credentials(bot_token=server.token, secret_key=SECRET_KEY, operator_chat_id=operator["id"])
        application = build_application(config, credentials, publish_menus=False)

        async def crash(update, context):
            raise RuntimeError(f"secret detail of user {update.effective_user.id}")

        application.add_handler(CommandHandler("crash", crash), group=-1)
        await start_polling_application(application, poll_timeout=1)
        try:
            await client.wait_for(operator["id"], 0, timeout=20)
            since = await client.seq()
            await client.send(person["id"], person["id"], "/crash")
            answer = (await client.wait_for(person["id"], since, timeout=20))[0]
            assert "nothing was changed" in answer["text"]
            report = (await client.wait_for(operator["id"], since, timeout=20))[0]
        finally:
            await stop_polling_application(application)
        assert "RuntimeError" in report["text"]
        print(report["text"])
        assert str(person["id"]) not in report["text"] and f"of user {person['id']}" not in report["text"]
