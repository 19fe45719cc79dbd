"""Starting fresh after a wipe, and the coordinating council's panic wipe in the running bot.

`asamblea wipe` (bot/cli.py) and `/panic` (handlers/wipe.py) destroy the database's key
(storage/wipe.shred). The next time the store is opened, `open_store` finds the key gone, says so
in the log and in the operator's chat (when one is configured), deletes the emptied files and
starts a new database with a new salt: the bot runs on, as on its first day, instead of failing.

`/panic` does it without a restart: the services that run on the database (the store, the outbox
worker, every alarm) stop, the key is destroyed, the chats' in-memory state is dropped, and the
services start again on a fresh database (`Services`, from bot/app.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from telegram.error import TelegramError
from telegram.ext import Application

from storage import DatabaseShredded, Store
from storage.wipe import remove_files, shred

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Services:
    """Start and stop what runs on the database (bot/app.py builds them; `/panic` uses them)."""

    start: Callable[[Application], Awaitable[None]]
    stop: Callable[[Application], Awaitable[None]]


async def open_store(application: Application, path: str | Path, secret_key: bytes) -> Store:
    """The store; a new, empty one in place of a database whose key was destroyed."""
    try:
        return await Store.open(path, secret_key)
    except DatabaseShredded as wiped:
        when = datetime.fromtimestamp(wiped.wiped_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
        log.warning("the database was wiped at %s (its key destroyed): starting with a new, empty database", when)
        remove_files(Path(path))
        store = await Store.open(path, secret_key)
        await tell_operator(
            application,
            f"Asamblea: the database was wiped at {when}; its key is destroyed and nothing in it can be read. "
            "The bot has started with a new, empty database: link the councils again (asamblea council-code) "
            "and let the committees register again.",
        )
        return store


async def tell_operator(application: Application, text: str) -> None:
    """A line to the operator's chat, if one is configured; never raises."""
    operator = application.bot_data.get("operator_chat_id")
    if not operator:
        return
    try:
        await application.bot.send_message(operator, text)
    except TelegramError as exc:
        log.warning("could not tell the operator chat: %s", type(exc).__name__)


async def wipe_everything(application: Application) -> None:
    """Destroy the database's key from the running bot and go on with a fresh database."""
    services: Services = application.bot_data["services"]
    clock = application.bot_data["clock"]
    path = Path(application.bot_data["config"].storage_path)
    for job in application.job_queue.jobs():  # every alarm points at data that is about to go
        job.schedule_removal()
    await services.stop(application)
    try:
        await asyncio.to_thread(shred, path, now=int(clock.time()))
        log.warning("the database's key was destroyed by the coordinating council's /panic")
    finally:
        # Also when shredding failed: the bot goes on, on whatever database is there.
        for chat_id in list(application.chat_data):
            application.drop_chat_data(chat_id)
        for user_id in list(application.user_data):
            application.drop_user_data(user_id)
        await services.start(application)
