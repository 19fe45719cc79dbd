"""The sandbox as its own process: ``python -m bot.sandbox``, stopped by Ctrl-C."""

from __future__ import annotations

import asyncio
import signal
import sys

import httpx

from bot.sandbox import SandboxClient


async def test_standalone_process_serves_and_stops_cleanly() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.sandbox", "--port", "0", "--no-limits", "--token", "42:TEST",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        base_url = (await asyncio.wait_for(process.stdout.readline(), 20)).decode().strip()
        assert base_url.startswith("http://127.0.0.1:")
        async with httpx.AsyncClient() as http:
            me = (await http.get(f"{base_url}/bot42:TEST/getMe")).json()
        assert me["ok"] and me["result"]["id"] == 42
        async with SandboxClient(base_url) as sandbox:
            assert (await sandbox.limits())["enabled"] is False
        process.send_signal(signal.SIGINT)
        output, _ = await asyncio.wait_for(process.communicate(), 20)
        assert process.returncode == 0
        assert b"Sandbox stopped." in output
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
