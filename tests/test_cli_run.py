"""`asamblea run` as an operator runs it: a separate process, a config file, secrets in the
environment, against a Bot API server given by base_url (here the sandbox), polling and webhook."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import tomllib
from pathlib import Path

import pytest

from bot.sandbox import SandboxClient, SandboxServer
from tests.conftest import EXAMPLE
from tests.movement import SECRET_KEY


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_config(path: Path, base_url: str, database: Path, webhook_port: int | None) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace('base_url = "https://api.telegram.org"', f'base_url = "{base_url}"')
    text = text.replace('path = "asamblea.sqlite3"', f'path = "{database}"')
    text = text.replace("poll_timeout = 30", "poll_timeout = 1")
    text = text.replace('default_language = "ru"', 'default_language = "en"')
    if webhook_port is not None:
        text = text.replace('mode = "polling"', 'mode = "webhook"')
        text = text.replace("port = 8443", f"port = {webhook_port}")
        text = text.replace(
            'public_url = "https://bot.example.org/telegram"',
            f'public_url = "http://127.0.0.1:{webhook_port}/telegram"',
        )
    tomllib.loads(text)
    path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_asamblea_run_answers_start_help_and_register(tmp_path: Path, mode: str):
    async with SandboxServer() as server, SandboxClient(server.base_url) as client:
        config = tmp_path / "config.toml"
        write_config(config, server.base_url, tmp_path / "db.sqlite3", free_port() if mode == "webhook" else None)
        env = {**os.environ, "ASAMBLEA_BOT_TOKEN": server.token, "ASAMBLEA_SECRET_KEY": SECRET_KEY.decode()}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "--config", str(config), env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        try:
            person = await client.create_user("Asel")
            since = await client.seq()
            await client.send(person["id"], person["id"], "/start")
            assert "Asamblea" in (await client.wait_for(person["id"], since, timeout=30))[0]["text"]
            since = await client.seq()
            await client.send(person["id"], person["id"], "/help")
            assert "/register" in (await client.wait_for(person["id"], since, timeout=30))[0]["text"]
            group = (await client.create_group("Workers", person["id"], supergroup=True, announce=False))["id"]
            since = await client.seq()
            await client.send(group, person["id"], "/register")
            assert "Which region" in (await client.wait_for(group, since, timeout=30))[0]["text"]
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGINT)
            output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
            print(output.decode())
        log = output.decode()
        assert process.returncode == 0, log
        assert server.token not in log
        assert str(person["id"]) not in log
