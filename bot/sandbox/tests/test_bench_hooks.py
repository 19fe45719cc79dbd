"""What the benchmarks read from the sandbox: when each message was sent, and that a bot polls."""

from __future__ import annotations

import time

from telegram import Bot

from bot.sandbox import SandboxClient, SandboxServer
from bot.sandbox.world import World


def test_sent_records_carry_the_time_of_sending() -> None:
    world = World("777:TOKEN", "asamblea_bot", clock=lambda: 1_700_000_000.25)
    alice = world.create_user("Alice")
    world.user_message(alice.id, alice.id, "/start")
    world.bot_message(world.chats[alice.id], {"text": "hi"}, "sendMessage")
    [record] = world.sent_since(0)
    assert record["sent_at"] == 1_700_000_000.25
    assert record["date"] == 1_700_000_000


async def test_sent_at_is_wall_clock_and_empty_polls_are_counted(
    server: SandboxServer, sandbox: SandboxClient, bot: Bot
) -> None:
    alice = await sandbox.create_user("Alice")
    await sandbox.send(alice["id"], alice, "/start")
    before = time.time()
    await bot.get_updates(timeout=0)
    await bot.get_updates(offset=10**6, timeout=0)  # confirms everything; the next poll is empty
    await bot.get_updates(offset=10**6, timeout=0)
    await bot.send_message(alice["id"], "hi")
    after = time.time()
    [record] = await sandbox.messages(alice["id"])
    assert before <= record["sent_at"] <= after
    stats = await sandbox.stats()
    assert stats["polls"] == 3
    assert stats["requests"]["getUpdates"] == 1  # the call log keeps only polls that returned updates
    await sandbox.reset()
    assert (await sandbox.stats())["polls"] == 0
