"""Fixtures: a sandbox server, its control client, and python-telegram-bot's real Bot on it."""

from __future__ import annotations

import asyncio
import struct
import zlib
from collections.abc import AsyncIterator, Callable

import pytest
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.sandbox import Limits, SandboxClient, SandboxServer


@pytest.fixture
async def server() -> AsyncIterator[SandboxServer]:
    """A sandbox with limits off, so tests about other things never meet a 429."""
    async with SandboxServer(limits=Limits(enabled=False)) as running:
        yield running


@pytest.fixture
async def sandbox(server: SandboxServer) -> AsyncIterator[SandboxClient]:
    """The control-API client."""
    async with SandboxClient(server.base_url) as client:
        yield client


def make_bot(server: SandboxServer, *, read_timeout: float = 5.0, token: str | None = None) -> Bot:
    """PTB's Bot pointed at the sandbox; no retries, so every error reaches the test."""
    return Bot(
        token or server.token,
        base_url=server.bot_api_url,
        base_file_url=f"{server.base_url}/file/bot",
        request=HTTPXRequest(read_timeout=read_timeout, connect_timeout=5.0),
        get_updates_request=HTTPXRequest(read_timeout=read_timeout, connect_timeout=5.0),
    )


@pytest.fixture
async def bot(server: SandboxServer) -> AsyncIterator[Bot]:
    """An initialized PTB Bot (initialize() calls getMe)."""
    instance = make_bot(server)
    await instance.initialize()
    yield instance
    await instance.shutdown()


async def until(server: SandboxServer, predicate: Callable[[], bool], within: float = 5.0) -> None:
    """Wait for a condition on the server's state, woken by its changes (no sleeping)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise AssertionError("condition not reached")
        await server.signal.wait(remaining)


def png(width: int, height: int) -> bytes:
    """A valid grey PNG of the given size, built without an image library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
