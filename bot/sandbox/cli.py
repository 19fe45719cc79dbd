"""Running the sandbox on its own: ``python -m bot.sandbox`` or ``asamblea sandbox``.

Benchmarks and the offline demo run the sandbox in a separate process; a
developer can also start it and point a bot at it by hand. :func:`run` blocks
until Ctrl-C (or SIGTERM) and then stops cleanly. The first line printed is
the base URL, so a parent process can read it when ``--port 0`` picked one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence

from .limits import Limits
from .server import DEFAULT_TOKEN, DEFAULT_USERNAME, SandboxServer

_HOW_TO = """\
Bot API:      {base}/bot{token}/getMe
Token:        {token}
Control API:  {base}/sandbox/   (see bot/sandbox/control.py)
Rate limits:  {limits}

python-telegram-bot:  Bot("{token}", base_url="{base}/bot")
                      Application.builder().token("{token}").base_url("{base}/bot")
Control client:       SandboxClient("{base}")   (bot/sandbox/client.py)
Press Ctrl-C to stop.
"""


async def serve(
    host: str = "127.0.0.1",
    port: int = 8081,
    token: str = DEFAULT_TOKEN,
    limits_enabled: bool = True,
    *,
    username: str = DEFAULT_USERNAME,
    ready: asyncio.Event | None = None,
) -> None:
    """Run a sandbox server until cancelled or SIGTERM/SIGINT."""
    server = SandboxServer(token, username, Limits(enabled=limits_enabled))
    await server.start(host, port)
    print(server.base_url, flush=True)
    print(
        _HOW_TO.format(base=server.base_url, token=token, limits="on" if limits_enabled else "off"),
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    if ready is not None:
        ready.set()
    try:
        await stop.wait()
    finally:
        await server.stop()
        print("Sandbox stopped.", flush=True)


def run(
    host: str = "127.0.0.1",
    port: int = 8081,
    token: str = DEFAULT_TOKEN,
    limits_enabled: bool = True,
) -> None:
    """Serve the sandbox in the foreground until Ctrl-C; for the project's command line."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(host, port, token, limits_enabled))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bot.sandbox [--host H] [--port P] [--token T] [--no-limits]``."""
    parser = argparse.ArgumentParser(
        prog="python -m bot.sandbox",
        description="A local Telegram Bot API sandbox server (no token, no internet).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8081, help="port (0 picks a free one)")
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="the bot token to accept")
    parser.add_argument("--no-limits", action="store_true", help="do not enforce Telegram's rate limits")
    args = parser.parse_args(argv)
    if ":" not in args.token:
        parser.error("a bot token looks like 123456:ABC...")
    run(args.host, args.port, args.token, not args.no_limits)
    return 0


if __name__ == "__main__":
    sys.exit(main())
