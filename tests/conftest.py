"""Fixtures: the sandbox, and the real Application running against it over loopback HTTP."""

from __future__ import annotations

import asyncio
import tomllib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pytest_asyncio

from bot.clock import Clock
from bot.config import Config, parse_config
from bot.sandbox import SandboxClient, SandboxServer
from tests.http_server import Server
from tests.movement import Movement

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config.example.toml"


def make_config(base_url: str, database: Path, **changes: dict) -> Config:
    raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    raw["telegram"]["base_url"] = base_url
    raw["storage"]["path"] = str(database)
    raw["i18n"]["default_language"] = "en"
    # Scheduled digests come only where a test asks for them (tests/test_digests.py): on a clock
    # that runs hours in seconds they would otherwise drop into every council chat.
    raw["digests"] = {"every_hours": 0, "daily_at": []}
    # The people in tests act at machine speed, far faster than anyone types or taps: flood control
    # would take them for flooders. tests/test_flood.py turns it on.
    raw["flood"] = {"enabled": False}
    for section, values in changes.items():
        raw.setdefault(section, {}).update(values)
    return parse_config(raw)


@pytest.fixture
async def server() -> AsyncIterator[SandboxServer]:
    """The sandbox with Telegram's limits on, as the bot meets them in production."""
    async with SandboxServer() as running:
        yield running


@pytest.fixture
async def client(server: SandboxServer) -> AsyncIterator[SandboxClient]:
    async with SandboxClient(server.base_url) as control:
        yield control


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "asamblea.sqlite3"


@pytest.fixture
def clock() -> Clock | None:
    """The bot's clock; a test module overrides this fixture to run days in seconds."""
    return None


@pytest.fixture
def config_changes() -> dict[str, dict]:
    """Changes to the example config, by section; a test module overrides this fixture."""
    return {}


@pytest.fixture
async def movement(
    server: SandboxServer, client: SandboxClient, database: Path, clock: Clock | None, config_changes: dict
) -> AsyncIterator[Movement]:
    """The bot running; any exception in a handler fails the test (PTB would only log it)."""
    config = make_config(server.base_url, database, **config_changes)
    async with Movement.running(config, server, client, clock=clock) as played:
        yield played
        await client.wait_idle(timeout=20)
    assert not played.errors, f"a handler raised: {played.errors!r}"


@pytest_asyncio.fixture
async def serve() -> AsyncIterator[Callable[[Callable[[int, bytes], bytes | None]], Server]]:
    """Start HTTP servers on loopback (tests/http_server.py); each answers as `respond` says."""
    servers: list[asyncio.Server] = []

    async def start(respond: Callable[[int, bytes], bytes | None]) -> Server:
        server = Server(respond)
        listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        servers.append(listening)
        port = listening.sockets[0].getsockname()[1]
        server.url = f"http://127.0.0.1:{port}/bot123:abc"
        return server

    yield start  # type: ignore[misc]
    for listening in servers:
        listening.close()
