"""The offline demo: the real bot against the built-in Bot API sandbox, no token, no internet.

It replays the Mangistau spread of January 2022 (bot/replay.py): about fifty committees in the
real regions register and are approved, Zhanaozen strikes, the general strike of Mangystau
spreads region by region with solidarity appeals, rallies are called, the Zhanaozen demands rise
into the programme, and the coordinators' digests are printed as they arrive. People are played
through the sandbox's control API exactly as tests play them; the spread chart is written to a file.
"""

from __future__ import annotations

import secrets
import tempfile
import time
import tomllib
from pathlib import Path

from bot import replay
from bot.app import build_application, start_polling_application, stop_polling_application
from bot.clock import ReplayClock
from bot.config import Config, parse_config
from bot.credentials import Credentials
from bot.sandbox.client import SandboxClient
from bot.sandbox.server import SandboxServer

EXAMPLE_CONFIG = Path(__file__).resolve().parent.parent / "config.example.toml"
# Between the jumps over quiet hours, the demo clock runs a minute a second.
DEMO_SPEED = 60.0


def demo_config(base_url: str, database: Path) -> Config:
    raw = tomllib.loads(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    raw["telegram"]["base_url"] = base_url
    raw["storage"]["path"] = str(database)
    raw["i18n"]["default_language"] = "en"
    # The demo's assemblies are quick (a decision is open an hour), two committees of a region
    # bring a demand to its council, digests come daily at 08:00, and rallies need no reminders.
    raw["decisions"]["deadline_hours"] = 1.0
    raw["demands"]["council_committees"] = 2
    raw["digests"] = {"every_hours": 0, "daily_at": ["08:00"]}
    raw["calls"]["reminder_hours"] = []
    replay.demo_councils(raw)
    return parse_config(raw)


async def run_demo(output: Path) -> int:
    """Replay January 2022 through the bot; exit 0 once the spread chart is written."""
    with tempfile.TemporaryDirectory() as workdir:
        async with SandboxServer() as server, SandboxClient(server.base_url) as client:
            config = demo_config(server.base_url, Path(workdir) / "demo.sqlite3")
            credentials = Credentials(bot_token=server.token, secret_key=secrets.token_bytes(32))
            clock = ReplayClock(replay.START, DEMO_SPEED)
            application = build_application(config, credentials, clock=clock)
            started = time.monotonic()
            await start_polling_application(application, poll_timeout=1)
            try:
                chart = await replay.play(client, application, config, clock, output)
            finally:
                await stop_polling_application(application)
    print(f"\nThe spread chart: {chart.resolve()}")
    took = time.monotonic() - started
    print(f"The demo ran against the built-in sandbox in {took:.0f} s; nothing left this machine.")
    return 0
