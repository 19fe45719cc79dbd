"""Sending, editing and deleting through python-telegram-bot's real Bot, and Telegram's errors."""

from __future__ import annotations

import httpx
import pytest
from telegram import (
    Bot,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReactionTypeEmoji,
    ReplyParameters,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken

from bot.sandbox import SandboxClient, SandboxServer

from .conftest import make_bot

KEYBOARD = InlineKeyboardMarkup(
    [[InlineKeyboardButton("Join", callback_data="JOIN:1"), InlineKeyboardButton("Site", url="https://example.org")]]
)


@pytest.fixture
async def alice(sandbox: SandboxClient) -> dict:
    """A user who has started the bot in private."""
    user = await sandbox.create_user("Alice", username="alice")
    await sandbox.send(user["id"], user, "/start")
    return user


async def test_get_me(bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456, "asamblea_bot", True)
    assert me.can_join_groups


async def test_send_and_edit_round_trip(bot: Bot, sandbox: SandboxClient, alice: dict) -> None:
    sent = await bot.send_message(alice["id"], "<b>Strike</b> at 9", parse_mode=ParseMode.HTML, reply_markup=KEYBOARD)
    assert sent.text == "Strike at 9"
    assert sent.entities[0].type == "bold"
    assert sent.reply_markup == KEYBOARD
    assert sent.chat.id == alice["id"] and sent.from_user.id == bot.id

    edited = await bot.edit_message_text("Strike at 10", alice["id"], sent.message_id)
    assert edited.text == "Strike at 10"
    assert edited.reply_markup is None  # a keyboard not sent again is removed, as on Telegram
    assert edited.edit_date is not None

    with_keyboard = await bot.edit_message_reply_markup(alice["id"], sent.message_id, reply_markup=KEYBOARD)
    assert with_keyboard.reply_markup == KEYBOARD

    [record] = await sandbox.messages(alice["id"])
    assert record["text"] == "Strike at 10"
    assert record["original"]["text"] == "Strike at 9"
    assert [edit["method"] for edit in record["edits"]] == ["editMessageText", "editMessageReplyMarkup"]
    assert record["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "JOIN:1"
    assert record["deleted"] is False

    assert await bot.delete_message(alice["id"], sent.message_id)
    [record] = await sandbox.messages(alice["id"])
    assert record["deleted"] is True


async def test_replies_and_other_markups(bot: Bot, sandbox: SandboxClient, alice: dict) -> None:
    question = await sandbox.send(alice["id"], alice, "What time?")
    legacy = await bot.send_message(alice["id"], "At 9", reply_to_message_id=question["message_id"])
    assert legacy.reply_to_message.message_id == question["message_id"]
    modern = await bot.send_message(
        alice["id"], "Your name?", reply_parameters=ReplyParameters(question["message_id"]),
        reply_markup=ForceReply(), disable_notification=True,
        link_preview_options={"is_disabled": True}, message_thread_id=None,
    )  # fmt: skip
    assert modern.reply_to_message.text == "What time?"
    assert modern.reply_markup is None  # only inline keyboards come back on the message
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(alice["id"], "x", reply_to_message_id=999)
    lenient = await bot.send_message(
        alice["id"], "x", reply_parameters=ReplyParameters(999, allow_sending_without_reply=True)
    )
    assert lenient.reply_to_message is None


async def test_user_reply_reaches_the_bot(bot: Bot, sandbox: SandboxClient, alice: dict) -> None:
    prompt = await bot.send_message(alice["id"], "Name?", reply_markup=ForceReply())
    await sandbox.send(alice["id"], alice, "Alice", reply_to=prompt.message_id)
    updates = await bot.get_updates()
    assert updates[-1].message.reply_to_message.message_id == prompt.message_id


async def test_text_errors(bot: Bot, alice: dict) -> None:
    chat = alice["id"]
    with pytest.raises(BadRequest, match=r"(?i)^Message text is empty$"):
        await bot.send_message(chat, "   ")
    with pytest.raises(BadRequest, match=r"(?i)Can't parse entities: can't find end tag corresponding"):
        await bot.send_message(chat, "<b>oops", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)Character '!' is reserved"):
        await bot.send_message(chat, "Hello!", parse_mode=ParseMode.MARKDOWN_V2)
    # 4096 UTF-16 code units are allowed, counted after the markup is stripped.
    await bot.send_message(chat, "<i>" + "😀" * 2048 + "</i>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)^Message is too long$"):
        await bot.send_message(chat, "😀" * 2048 + "!")
    long_data = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="d" * 65)]])
    with pytest.raises(BadRequest, match=r"(?i)^Button_data_invalid$"):
        await bot.send_message(chat, "x", reply_markup=long_data)


async def test_error_texts_are_telegrams(server: SandboxServer, sandbox: SandboxClient, alice: dict) -> None:
    """PTB capitalises descriptions; check the exact wire texts with plain HTTP too."""
    async with httpx.AsyncClient(base_url=f"{server.bot_api_url}{server.token}") as http:
        answer = (await http.post("/sendMessage", json={"chat_id": 42, "text": "x"})).json()
        assert answer == {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
        form = {"chat_id": alice["id"], "text": "<b>", "parse_mode": "HTML"}
        answer = (await http.post("/sendMessage", data=form)).json()
        assert answer["description"] == (
            "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\""
        )
        sent = (await http.get("/sendMessage", params={"chat_id": alice["id"], "text": "hi"})).json()
        assert sent["ok"] is True and sent["result"]["text"] == "hi"
        same = {"chat_id": alice["id"], "message_id": sent["result"]["message_id"], "text": "hi"}
        answer = (await http.post("/editMessageText", json=same)).json()
        assert answer["description"] == (
            "Bad Request: message is not modified: specified new message content and reply "
            "markup are exactly the same as a current content and reply markup of the message"
        )
        answer = (await http.post("/deleteMessage", json={"chat_id": alice["id"], "message_id": 77})).json()
        assert answer["description"] == "Bad Request: message to delete not found"
        answer = (await http.post("/editMessageText", json={**same, "message_id": 77})).json()
        assert answer["description"] == "Bad Request: message to edit not found"
        answer = (await http.post("/answerCallbackQuery", json={"callback_query_id": "1"})).json()
        assert answer["description"] == (
            "Bad Request: query is too old and response timeout expired or query ID is invalid"
        )
        assert (await http.post("/noSuchMethod")).json() == {
            "ok": False, "error_code": 404, "description": "Not Found",
        }  # fmt: skip
        assert (await http.post("/sendDocument")).json()["description"] == (
            "Bad Request: method sendDocument is not implemented by the Asamblea sandbox"
        )
    async with httpx.AsyncClient() as http:
        assert (await http.get(f"{server.bot_api_url}654321:WRONG/getMe")).json() == {
            "ok": False, "error_code": 401, "description": "Unauthorized",
        }  # fmt: skip


async def test_wrong_token(server: SandboxServer) -> None:
    wrong = make_bot(server, token="654321:WRONG")
    with pytest.raises(InvalidToken):
        await wrong.initialize()


async def test_private_chat_rules(bot: Bot, sandbox: SandboxClient) -> None:
    stranger = await sandbox.create_user("Bob")
    with pytest.raises(Forbidden, match=r"bot can't initiate conversation with a user"):
        await bot.send_message(stranger["id"], "hello")
    with pytest.raises(BadRequest, match=r"(?i)Chat not found"):
        await bot.send_message(999, "hello")
    await sandbox.send(stranger["id"], stranger, "/start")
    await bot.send_message(stranger["id"], "welcome")
    await sandbox.block(stranger)
    with pytest.raises(Forbidden, match=r"bot was blocked by the user"):
        await bot.send_message(stranger["id"], "still there?")
    updates = await bot.get_updates()
    blocked = updates[-1].my_chat_member
    assert (blocked.old_chat_member.status, blocked.new_chat_member.status) == ("member", "kicked")


async def test_group_membership_errors(bot: Bot, sandbox: SandboxClient) -> None:
    alice = await sandbox.create_user("Alice")
    group = await sandbox.create_group("Workers", alice)
    supergroup = await sandbox.create_group("Federation", alice, supergroup=True)
    channel = await sandbox.create_channel("News", alice, with_bot=False)
    await bot.send_message(group["id"], "hello group")
    await sandbox.remove_bot(group["id"], alice)
    await sandbox.remove_bot(supergroup["id"], alice)
    with pytest.raises(Forbidden, match=r"^Forbidden: bot was kicked from the group chat$"):
        await bot.send_message(group["id"], "hello?")
    with pytest.raises(Forbidden, match=r"^Forbidden: bot was kicked from the supergroup chat$"):
        await bot.send_message(supergroup["id"], "hello?")
    with pytest.raises(Forbidden, match=r"^Forbidden: bot is not a member of the channel chat$"):
        await bot.send_message(channel["id"], "hello?")


async def test_migrated_group(bot: Bot, sandbox: SandboxClient) -> None:
    alice = await sandbox.create_user("Alice")
    group = await sandbox.create_group("Workers", alice)
    await bot.get_updates()
    new_id = await sandbox.migrate(group["id"])
    assert str(new_id).startswith("-100")
    with pytest.raises(ChatMigrated) as raised:
        await bot.send_message(group["id"], "hello")
    assert raised.value.new_chat_id == new_id
    sent = await bot.send_message(new_id, "hello supergroup")
    assert sent.chat.type == "supergroup"
    updates = await bot.get_updates()
    service = [u.message for u in updates if u.message]
    assert service[-2].migrate_to_chat_id == new_id and service[-2].chat.id == group["id"]
    assert service[-1].migrate_from_chat_id == group["id"] and service[-1].chat.id == new_id
    member = await bot.get_chat_member(new_id, alice["id"])
    assert member.status == "creator"  # members carried over


async def test_chat_queries(bot: Bot, sandbox: SandboxClient) -> None:
    alice = await sandbox.create_user("Alice")
    bob = await sandbox.create_user("Bob")
    group = await sandbox.create_group("Workers", alice, supergroup=True, bot_admin=True)
    await sandbox.set_member(group["id"], bob, "member")
    await sandbox.set_member(group["id"], bob, "administrator")
    chat = await bot.get_chat(group["id"])
    assert (chat.title, chat.type) == ("Workers", "supergroup")
    admins = await bot.get_chat_administrators(group["id"])
    assert {a.user.id for a in admins} == {alice["id"], bob["id"], bot.id}
    assert await bot.get_chat_member_count(group["id"]) == 3
    stranger = await sandbox.create_user("Carol")
    assert (await bot.get_chat_member(group["id"], stranger["id"])).status == "left"
    with pytest.raises(BadRequest, match=r"(?i)User not found"):
        await bot.get_chat_member(group["id"], 424242)
    sent = await bot.send_message(group["id"], "pin me")
    assert await bot.pin_chat_message(group["id"], sent.message_id)
    assert (await bot.get_chat(group["id"])).pinned_message.message_id == sent.message_id
    assert await bot.unpin_chat_message(group["id"])
    assert await bot.set_message_reaction(group["id"], sent.message_id, [ReactionTypeEmoji("👍")])
    assert await bot.send_chat_action(group["id"], "typing")
    assert await bot.leave_chat(group["id"])
    with pytest.raises(Forbidden, match=r"not a member of the supergroup chat"):
        await bot.get_chat(group["id"])


async def test_deleting_others_messages_needs_admin(bot: Bot, sandbox: SandboxClient) -> None:
    alice = await sandbox.create_user("Alice")
    group = await sandbox.create_group("Workers", alice)
    said = await sandbox.send(group["id"], alice, "spam")
    with pytest.raises(BadRequest, match=r"(?i)Message can't be deleted"):
        await bot.delete_message(group["id"], said["message_id"])
    await sandbox.promote_bot(group["id"], alice)
    assert await bot.delete_message(group["id"], said["message_id"])


async def test_callback_answers(bot: Bot, sandbox: SandboxClient, alice: dict) -> None:
    sent = await bot.send_message(alice["id"], "Join?", reply_markup=KEYBOARD)
    record = (await sandbox.messages(alice["id"]))[-1]
    query_id = await sandbox.press_button(alice["id"], alice, record, "Join")
    updates = await bot.get_updates()
    query = updates[-1].callback_query
    assert (query.id, query.data, query.message.message_id) == (query_id, "JOIN:1", sent.message_id)
    assert await sandbox.callback_answer(query_id) is None
    assert await query.answer("Joined!", show_alert=True)
    assert await sandbox.callback_answer(query_id) == {"text": "Joined!", "show_alert": True}
    with pytest.raises(BadRequest, match=r"(?i)Query is too old"):
        await query.answer("again")
    with pytest.raises(LookupError):
        await sandbox.press_button(alice["id"], alice, record, "Leave")


async def test_channel_posts_and_callbacks(bot: Bot, sandbox: SandboxClient) -> None:
    alice = await sandbox.create_user("Alice")
    reader = await sandbox.create_user("Reader")
    outsider = await sandbox.create_user("Outsider")
    channel = await sandbox.create_channel("Strike news", alice, announce=False)
    await sandbox.set_member(channel["id"], reader, "member")
    await sandbox.post(channel["id"], "Day 3")
    [update] = await bot.get_updates()
    post = update.channel_post
    assert post.text == "Day 3" and post.sender_chat.id == channel["id"] and post.from_user is None
    sent = await bot.send_message(channel["id"], "Vote", reply_markup=KEYBOARD)
    assert sent.sender_chat.id == channel["id"]
    await sandbox.press(channel["id"], reader, sent.message_id, "JOIN:1")
    with pytest.raises(Exception, match=r"not a member"):
        await sandbox.press(channel["id"], outsider, sent.message_id, "JOIN:1")
    updates = await bot.get_updates(offset=update.update_id + 1)
    assert updates[-1].callback_query.from_user.id == reader["id"]


async def test_bot_profile_texts(bot: Bot) -> None:
    assert await bot.set_my_description("Organise from below", language_code="en")
    assert (await bot.get_my_description("en")).description == "Organise from below"
    assert await bot.set_my_short_description("Asamblea")
    assert await bot.set_my_name("Asamblea", language_code="es")
    assert (await bot.get_my_name("es")).name == "Asamblea"
    assert await bot.close()
    assert await bot.log_out()


async def test_call_log_and_stats(bot: Bot, sandbox: SandboxClient, alice: dict) -> None:
    await bot.send_message(alice["id"], "one")
    with pytest.raises(BadRequest):
        await bot.send_message(alice["id"], "")
    calls = await sandbox.calls("sendMessage")
    assert [(c["ok"], c.get("description")) for c in calls] == [
        (True, None), (False, "Bad Request: message text is empty"),
    ]  # fmt: skip
    assert calls[0]["params"] == {"chat_id": str(alice["id"]), "text": "one"}
    stats = await sandbox.stats()
    assert stats["requests"]["sendMessage"] == 2
    assert stats["messages_per_chat"] == {str(alice["id"]): 1}
