"""A real python-telegram-bot Application, polling the sandbox in the same event loop.

This is how the project's own tests use the sandbox: people act through the
control API, ``wait_for`` returns the bot's answer as soon as it is sent, and
``wait_idle`` returns once the bot has processed everything. No sleeps.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import AIORateLimiter, Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.sandbox import SandboxClient, SandboxServer

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet, with a button."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        "Welcome to the assembly",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Join", callback_data="JOIN")]]),
    )


async def join(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the tap and edit the message."""
    query = update.callback_query
    assert query is not None
    await query.answer("You joined")
    await query.edit_message_text("Alice joined")


async def broadcast(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send several messages in a row, so the rate limiter has work to do."""
    assert update.effective_chat is not None
    for n in range(5):
        await context.bot.send_message(update.effective_chat.id, f"Notice {n}")


@pytest.fixture
async def application(server: SandboxServer) -> AsyncIterator[Application]:
    errors: list[object] = []

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        errors.append(context.error)

    app = (
        Application.builder()
        .token(server.token)
        .base_url(server.bot_api_url)
        .rate_limiter(AIORateLimiter(max_retries=3))
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("broadcast", broadcast))
    app.add_handler(CallbackQueryHandler(join, pattern="^JOIN$"))
    app.add_error_handler(on_error)
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0.0, timeout=5)
        yield app
        await app.updater.stop()
        await app.stop()
    assert errors == []


async def test_conversation_without_sleeping(application: Application, sandbox: SandboxClient) -> None:
    alice = await sandbox.create_user("Alice")
    await sandbox.send(alice["id"], alice, "/start")
    [welcome] = await sandbox.wait_for(alice["id"])
    assert welcome["text"] == "Welcome to the assembly"

    query_id = await sandbox.press_button(alice["id"], alice, welcome, "Join")
    edited = await sandbox.wait_for_text(alice["id"], "joined")
    assert edited["message_id"] == welcome["message_id"]
    await sandbox.wait_idle()
    assert await sandbox.callback_answer(query_id) == {"text": "You joined", "show_alert": False}
    assert await sandbox.pending_updates() == 0


async def test_group_commands_and_idle(application: Application, sandbox: SandboxClient) -> None:
    alice = await sandbox.create_user("Alice")
    group = await sandbox.create_group("Workers", alice, announce=False)
    await sandbox.send(group["id"], alice, "/start@asamblea_bot")
    await sandbox.wait_idle()
    [welcome] = await sandbox.messages(group["id"])
    assert welcome["reply_to_message_id"] is not None


async def test_ptb_rate_limiter_rides_out_429s(application: Application, sandbox: SandboxClient) -> None:
    alice = await sandbox.create_user("Alice")
    await sandbox.add_fault("429", method="sendMessage", retry_after=1)  # hits the first notice
    await sandbox.send(alice["id"], alice, "/broadcast")
    notices = await sandbox.wait_for(alice["id"], count=5)
    assert [n["text"] for n in notices] == [f"Notice {n}" for n in range(5)]
    assert (await sandbox.stats())["too_many_requests"] == 1
