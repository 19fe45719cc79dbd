"""Command lists per scope and language; photo uploads that can be read back."""

from __future__ import annotations

import pytest
from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeChatAdministrators,
    BotCommandScopeChatMember,
    InputFile,
)
from telegram.error import BadRequest

from bot.sandbox import SandboxClient

from .conftest import png


async def test_commands_per_scope_and_language(bot, sandbox: SandboxClient) -> None:
    alice = await sandbox.create_user("Alice")
    group = await sandbox.create_group("Workers", alice)
    group_commands = [BotCommand("register", "Register the committee"), BotCommand("strike", "Call a strike")]
    assert await bot.set_my_commands(group_commands, scope=BotCommandScopeAllGroupChats())
    assert await bot.set_my_commands(
        [BotCommand("strike", "Convocar huelga")], scope=BotCommandScopeAllGroupChats(), language_code="es"
    )
    assert await bot.set_my_commands([BotCommand("start", "Start")], scope=BotCommandScopeAllPrivateChats())
    admins = BotCommandScopeChatAdministrators(group["id"])
    assert await bot.set_my_commands([BotCommand("wipe", "Wipe data")], scope=admins)
    assert await bot.set_my_commands([BotCommand("help", "Help")], scope=BotCommandScopeChat(group["id"]))
    assert await bot.set_my_commands(
        [BotCommand("verify", "Verify")], scope=BotCommandScopeChatMember(group["id"], alice["id"])
    )
    assert await bot.set_my_commands([BotCommand("help", "Help")])

    assert await bot.get_my_commands(scope=BotCommandScopeAllGroupChats()) == tuple(group_commands)
    spanish = await bot.get_my_commands(scope=BotCommandScopeAllGroupChats(), language_code="es")
    assert [c.description for c in spanish] == ["Convocar huelga"]
    assert await bot.get_my_commands(scope=BotCommandScopeAllGroupChats(), language_code="fr") == ()
    assert [c.command for c in await bot.get_my_commands()] == ["help"]

    registered = await sandbox.commands()
    scopes = {(entry["scope"]["type"], entry["language_code"]) for entry in registered}
    assert scopes == {
        ("all_group_chats", ""), ("all_group_chats", "es"), ("all_private_chats", ""),
        ("chat_administrators", ""), ("chat", ""), ("chat_member", ""), ("default", ""),
    }  # fmt: skip
    chat_member = next(e for e in registered if e["scope"]["type"] == "chat_member")
    assert chat_member["scope"] == {"type": "chat_member", "chat_id": group["id"], "user_id": alice["id"]}

    assert await bot.delete_my_commands(scope=BotCommandScopeAllGroupChats(), language_code="es")
    assert len(await sandbox.commands()) == 6
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.set_my_commands([BotCommand("x", "y")], scope=BotCommandScopeChat(-1))


async def test_photo_upload_round_trip(bot, sandbox: SandboxClient) -> None:
    alice = await sandbox.create_user("Alice")
    await sandbox.send(alice["id"], alice, "/start")
    chart = png(1200, 600)
    sent = await bot.send_photo(
        alice["id"], InputFile(chart, filename="spread.png"), caption="<b>Spread</b>", parse_mode="HTML"
    )
    assert sent.caption == "Spread" and sent.caption_entities[0].type == "bold"
    largest = sent.photo[-1]
    assert (largest.width, largest.height, largest.file_size) == (1200, 600, len(chart))
    assert [(p.width, p.height) for p in sent.photo[:-1]] == [(90, 45), (320, 160), (800, 400)]
    assert all(p.file_id and p.file_unique_id for p in sent.photo)

    assert await sandbox.photo(largest.file_id) == chart
    record = (await sandbox.messages(alice["id"]))[-1]
    assert record["photo"][-1]["file_id"] == largest.file_id and record["caption"] == "Spread"

    again = await bot.send_photo(alice["id"], largest.file_id)
    assert again.photo[-1].file_id == largest.file_id
    downloaded = await (await bot.get_file(largest.file_id)).download_as_bytearray()
    assert bytes(downloaded) == chart

    edited = await bot.edit_message_caption(alice["id"], sent.message_id, caption="Spread, day 2")
    assert edited.caption == "Spread, day 2"
    with pytest.raises(BadRequest, match=r"(?i)there is no text in the message to edit"):
        await bot.edit_message_text("x", alice["id"], sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)image_process_failed"):
        await bot.send_photo(alice["id"], InputFile(b"not an image", filename="x.png"))
    with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
        await bot.send_photo(alice["id"], largest.file_id, caption="x" * 1025)
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_photo(alice["id"], "no-such-file-id")
    linked = await bot.send_photo(alice["id"], "https://example.org/chart.png")
    assert linked.photo[-1].width == 800
