"""Getting updates: offsets, long polling, conflicts, allowed_updates, webhooks, membership."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
import tornado.httpserver
import tornado.netutil
import tornado.web
from telegram import Bot
from telegram.error import BadRequest, Conflict

from bot.sandbox import SandboxClient, SandboxError, SandboxServer

from .conftest import make_bot, until


async def test_offset_confirms_updates(bot: Bot, sandbox: SandboxClient) -> None:
    alice = await sandbox.create_user("Alice")
    for text in ("/start", "one", "two"):
        await sandbox.send(alice["id"], alice, text)
    first = await bot.get_updates(limit=2)
    assert [u.message.text for u in first] == ["/start", "one"]
    assert [u.message.message_id for u in first] == [1, 2]
    assert first[1].update_id == first[0].update_id + 1
    assert await sandbox.pending_updates() == 3
    rest = await bot.get_updates(offset=first[-1].update_id + 1)
    assert [u.message.text for u in rest] == ["two"]
    assert await sandbox.pending_updates() == 1
    assert await bot.get_updates(offset=rest[-1].update_id + 1) == ()
    assert await sandbox.pending_updates() == 0


async def test_a_chosen_user_id_is_who_the_bot_hears(bot: Bot, sandbox: SandboxClient) -> None:
    ardak = await sandbox.create_user("Ardak", user_id=70_368_744_177_663)
    assert ardak["id"] == 70_368_744_177_663
    await sandbox.send(ardak["id"], ardak, "/start")
    [update] = await bot.get_updates()
    assert update.effective_user.id == update.effective_chat.id == 70_368_744_177_663
    with pytest.raises(SandboxError, match="taken"):
        await sandbox.create_user("Again", user_id=70_368_744_177_663)


async def test_long_poll_returns_when_an_update_arrives(
    server: SandboxServer, bot: Bot, sandbox: SandboxClient
) -> None:
    alice = await sandbox.create_user("Alice")
    poll = asyncio.create_task(bot.get_updates(timeout=30, read_timeout=40))
    await until(server, lambda: server.api.polling)
    await sandbox.send(alice["id"], alice, "/start")
    [update] = await asyncio.wait_for(poll, 10)
    assert update.message.text == "/start"
    assert update.message.entities[0].type == "bot_command"


async def test_a_second_poll_terminates_the_first(server: SandboxServer, bot: Bot) -> None:
    other = make_bot(server, read_timeout=40)
    await other.initialize()
    try:
        first = asyncio.create_task(bot.get_updates(timeout=30, read_timeout=40))
        await until(server, lambda: server.api.polling)
        second = asyncio.create_task(other.get_updates(timeout=30, read_timeout=40))
        with pytest.raises(Conflict, match=r"terminated by other getUpdates request"):
            await asyncio.wait_for(first, 10)
        second.cancel()
        with pytest.raises(asyncio.CancelledError):
            await second
    finally:
        await other.shutdown()


async def test_allowed_updates_are_honoured(bot: Bot, sandbox: SandboxClient) -> None:
    alice = await sandbox.create_user("Alice")
    await sandbox.send(alice["id"], alice, "/start")
    keyboard = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    sent = await bot.send_message(alice["id"], "Tap", reply_markup=keyboard)
    await sandbox.press(alice["id"], alice, sent.message_id, "a")
    updates = await bot.get_updates(allowed_updates=["callback_query"])
    assert [u.callback_query.data for u in updates] == ["a"]
    await sandbox.send(alice["id"], alice, "ignored")  # not wanted, dropped on delivery
    assert await bot.get_updates(offset=updates[-1].update_id + 1) == ()
    assert await sandbox.pending_updates() == 0
    await bot.get_updates(allowed_updates=[])  # back to the default set
    await sandbox.send(alice["id"], alice, "heard")
    assert [u.message.text for u in await bot.get_updates()] == ["heard"]


async def test_raw_updates_are_delivered_verbatim(server: SandboxServer, sandbox: SandboxClient) -> None:
    hostile = {"message": {"text": "no chat, no date", "entities": "not a list"}}
    queued = await sandbox.inject(hostile)
    assert queued == {"update_id": 1, **hostile}
    await sandbox.inject({"update_id": 50, "edited_message": {"x": 1}})
    await sandbox.inject({"update_id": "fifty-one", "surprise": [1, 2]})
    async with httpx.AsyncClient() as http:
        answer = (await http.post(f"{server.bot_api_url}{server.token}/getUpdates", data={})).json()
    assert answer == {
        "ok": True,
        "result": [
            queued,
            {"update_id": 50, "edited_message": {"x": 1}},
            {"update_id": "fifty-one", "surprise": [1, 2]},
        ],
    }
    assert (await sandbox.inject({"message": {}}))["update_id"] == 51


async def test_an_injected_message_can_be_posted_and_an_injected_press_answered(
    bot: Bot, sandbox: SandboxClient
) -> None:
    """A hostile update is still one Telegram delivered: the bot can reply to its message and answer
    its press; without `post`, the message is not in the chat and a reply to it fails as on Telegram."""
    alice = await sandbox.create_user("Alice")
    group = await sandbox.create_group("Workers", alice, announce=False)
    shape = {"chat": {"id": group["id"], "type": "group", "title": "Workers"}, "date": 1, "text": "\u202e/x"}
    posted = await sandbox.inject({"message": shape}, post=True)  # no from, no message_id
    unposted = await sandbox.inject({"message": {**shape, "message_id": 999}})
    updates = await bot.get_updates()
    assert [u.message.message_id for u in updates] == [posted["message"]["message_id"], 999]
    reply = await bot.send_message(group["id"], "Seen", reply_to_message_id=posted["message"]["message_id"])
    assert reply.reply_to_message.text == "\u202e/x"
    assert [m["text"] for m in await sandbox.history(group["id"])][-2:] == ["\u202e/x", "Seen"]
    with pytest.raises(BadRequest, match="replied not found"):
        await bot.send_message(group["id"], "Lost", reply_to_message_id=unposted["message"]["message_id"])
    first = await sandbox.inject({"message": {**shape, "chat": {"id": alice["id"], "type": "private"}}}, post=True)
    assert first["message"]["message_id"] == 1 and (await sandbox.user(alice))["started"]
    with pytest.raises(SandboxError, match="carries a message"):
        await sandbox.inject({"callback_query": {"id": "x"}}, post=True)

    forged = {"id": "forged-1", "from": alice, "chat_instance": "1", "message": reply.to_dict(), "data": "v1:x"}
    await sandbox.inject({"callback_query": forged})
    private, update = await bot.get_updates(offset=updates[-1].update_id + 1)
    assert private.effective_chat.id == alice["id"] and update.callback_query.data == "v1:x"
    assert await sandbox.callback_answer("forged-1") is None
    await bot.answer_callback_query("forged-1", text="No such button")
    assert await sandbox.callback_answer("forged-1") == {"text": "No such button", "show_alert": False}
    await sandbox.inject({"callback_query": {"id": "bare"}})  # names no chat, message or person
    await bot.answer_callback_query("bare")
    assert await sandbox.callback_answer("bare") == {"text": None, "show_alert": False}


async def test_bot_added_and_removed(bot: Bot, sandbox: SandboxClient) -> None:
    alice = await sandbox.create_user("Alice")
    group = await sandbox.create_group("Workers", alice, with_bot=False)
    await sandbox.add_bot(group["id"], alice)
    updates = await bot.get_updates()
    added = updates[0].my_chat_member
    assert added.from_user.id == alice["id"]
    assert (added.old_chat_member.status, added.new_chat_member.status) == ("left", "member")
    assert updates[1].message.new_chat_members[0].id == bot.id
    await sandbox.promote_bot(group["id"], alice)
    await sandbox.remove_bot(group["id"], alice)
    updates = await bot.get_updates(offset=updates[-1].update_id + 1)
    promoted, removed = updates[0].my_chat_member, updates[1].my_chat_member
    assert promoted.new_chat_member.status == "administrator"
    assert promoted.new_chat_member.can_delete_messages
    assert (removed.old_chat_member.status, removed.new_chat_member.status) == ("administrator", "left")
    assert updates[2].message.left_chat_member.id == bot.id


async def test_people_joining_and_leaving(bot: Bot, sandbox: SandboxClient) -> None:
    alice = await sandbox.create_user("Alice")
    bob = await sandbox.create_user("Bob", language_code="es")
    group = await sandbox.create_group("Workers", alice, announce=False)
    await sandbox.set_member(group["id"], bob, "member")
    await sandbox.send(group["id"], bob, "/register@asamblea_bot")
    await sandbox.set_member(group["id"], bob, "left")
    updates = await bot.get_updates()
    assert [u.message.new_chat_members[0].id for u in updates[:1]] == [bob["id"]]
    command = updates[1].message
    assert command.entities[0].length == len("/register@asamblea_bot")
    assert command.from_user.language_code == "es"
    assert updates[2].message.left_chat_member.id == bob["id"]
    assert all(u.chat_member is None for u in updates)  # only admins get chat_member
    with pytest.raises(Exception, match=r"not a member"):
        await sandbox.send(group["id"], bob, "let me in")


class Receiver(tornado.web.RequestHandler):
    """A stand-in for the bot's webhook server."""

    def post(self) -> None:
        state = self.settings["state"]
        state["secrets"].append(self.request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        if state["fail"] > 0:
            state["fail"] -= 1
            self.set_status(500)
            return
        state["queue"].put_nowait(json.loads(self.request.body))


@pytest.fixture
async def receiver() -> AsyncIterator[dict]:
    state: dict = {"queue": asyncio.Queue(), "secrets": [], "fail": 1}
    app = tornado.web.Application([(r"/hook", Receiver)], state=state)
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    http = tornado.httpserver.HTTPServer(app)
    http.add_sockets(sockets)
    state["url"] = f"http://127.0.0.1:{sockets[0].getsockname()[1]}/hook"
    yield state
    http.stop()
    await http.close_all_connections()


async def test_webhook_delivery(bot: Bot, sandbox: SandboxClient, receiver: dict) -> None:
    alice = await sandbox.create_user("Alice")
    assert await bot.set_webhook(receiver["url"], secret_token="s3cret")
    with pytest.raises(Conflict, match=r"can't use getUpdates method while webhook is active"):
        await bot.get_updates()
    await sandbox.send(alice["id"], alice, "/start")
    update = await asyncio.wait_for(receiver["queue"].get(), 10)  # after one failed try
    assert update["message"]["text"] == "/start"
    assert receiver["secrets"] == ["s3cret", "s3cret"]
    await sandbox.wait_idle(timeout=10)
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == (receiver["url"], 0)
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    assert await bot.delete_webhook(drop_pending_updates=True)
    await sandbox.send(alice["id"], alice, "polling again")
    assert [u.message.text for u in await bot.get_updates()] == ["polling again"]
