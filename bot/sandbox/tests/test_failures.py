"""Rate limits and injected faults, as python-telegram-bot's exceptions see them."""

from __future__ import annotations

import pytest
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from bot.sandbox import SandboxClient, SandboxServer

# PTB itself warns about RetryAfter.retry_after becoming a timedelta when it builds one.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def retry_after(error: RetryAfter) -> float:
    """Seconds to wait, read without PTB's int-or-timedelta deprecation warning."""
    return error._retry_after.total_seconds()


@pytest.fixture
async def chats(sandbox: SandboxClient) -> dict[str, int]:
    alice = await sandbox.create_user("Alice")
    await sandbox.send(alice["id"], alice, "/start")
    group = await sandbox.create_group("Workers", alice, announce=False)
    return {"private": alice["id"], "group": group["id"]}


async def test_per_chat_limit_gives_retry_after(
    server: SandboxServer, bot, sandbox: SandboxClient, chats: dict
) -> None:
    server.limiter.clock = lambda: 1000.0  # time stands still: exact retry_after values
    await sandbox.set_limits(enabled=True, per_chat_burst=2, per_chat_per_second=0.2)
    await bot.send_message(chats["private"], "1")
    await bot.send_message(chats["private"], "2")
    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(chats["private"], "3")
    assert retry_after(raised.value) == 5
    await bot.send_message(chats["group"], "other chats are fine")
    stats = await sandbox.stats()
    assert (stats["too_many_requests"], stats["rate_limited"]) == (1, 1)
    calls = await sandbox.calls("sendMessage")
    assert calls[2]["description"] == "Too Many Requests: retry after 5"


async def test_group_minute_limit(server: SandboxServer, bot, sandbox: SandboxClient, chats: dict) -> None:
    server.limiter.clock = lambda: 1000.0
    await sandbox.set_limits(enabled=True, per_chat_burst=100, per_chat_per_second=100, group_per_minute=3)
    for n in range(3):
        await bot.send_message(chats["group"], str(n))
    with pytest.raises(RetryAfter) as raised:
        await bot.edit_message_text("edited", chats["group"], 1)
    assert retry_after(raised.value) == 60


async def test_faults(bot, sandbox: SandboxClient, chats: dict) -> None:
    chat = chats["private"]
    await sandbox.add_fault("429", method="sendMessage", retry_after=7)
    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(chat, "x")
    assert retry_after(raised.value) == 7

    await sandbox.add_fault("500", method="sendMessage", chat_id=chat)
    with pytest.raises(NetworkError, match=r"Internal Server Error"):
        await bot.send_message(chat, "x")

    await sandbox.add_fault("502")
    with pytest.raises(NetworkError, match=r"Bad Gateway"):
        await bot.get_me()

    await sandbox.add_fault("drop", method="sendMessage")
    with pytest.raises(NetworkError):
        await bot.send_message(chat, "x")

    await sandbox.add_fault("timeout", method="sendMessage", delay_s=30)
    with pytest.raises(TimedOut):
        await bot.send_message(chat, "x", read_timeout=0.5)

    await sandbox.add_fault("delay", method="sendMessage", delay_s=0.01)
    assert (await bot.send_message(chat, "late but fine")).text == "late but fine"

    await sandbox.add_fault("500", method="sendPhoto", count=3)
    assert len(await sandbox.faults()) == 1
    await sandbox.clear_faults()
    assert await sandbox.faults() == []
    with pytest.raises(BadRequest):  # no fault left: the real error
        await bot.send_photo(chat, "nothing")
    assert (await sandbox.stats())["faults_injected"] == 6


async def test_kicking_the_bot_fails_the_next_sends(bot, sandbox: SandboxClient) -> None:
    alice = await sandbox.create_user("Alice")
    group = await sandbox.create_group("Workers", alice, supergroup=True, announce=False)
    await bot.send_message(group["id"], "ok")
    await sandbox.remove_bot(group["id"], alice)
    for _ in range(2):
        with pytest.raises(Exception, match=r"kicked from the supergroup chat"):
            await bot.send_message(group["id"], "x")
    await sandbox.add_bot(group["id"], alice)
    await bot.send_message(group["id"], "back")
