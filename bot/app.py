"""Assembling the Application: services in post_init, handlers in one visible list.

`build_application()` is used the same way by `asamblea run`, the demo, the tests and the
benchmarks, so what is tested is what runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import Any

import aiosqlite
from telegram import Update
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, Defaults

from bot import digest_schedule, purge_schedule, reminders
from bot.call_messages import refresh_tallies
from bot.clock import Clock, ReplayClock, SystemClock
from bot.commands import publish_commands
from bot.config import Config
from bot.context import AsambleaContext
from bot.credentials import Credentials
from bot.errors import on_error
from bot.fast_updates import UpdateReader
from bot.flood import FloodControl
from bot.i18n import preload
from bot.inbox import Inbox, InboxUpdates
from bot.jobs import replan
from bot.notices import committee_unreachable
from bot.outbox import OutboxSender, SettledHook
from bot.pacing import FROM_OUTBOX, Pacing
from bot.polling import Poller, UpdatesRequest
from bot.press_answers import PressAnswers
from bot.transport import AiohttpRequest
from bot.wipe import Services, open_store
from domain.committees import Status
from handlers import (
    audit,
    call_answers,
    calls,
    councils,
    decisions,
    delegates,
    demands,
    guards,
    membership,
    programme,
    registration,
    settings,
    spread,
    start,
    status,
    verify,
    wipe,
)
from storage import Store
from storage.outbox import OutboxItem

# Requests the bot makes (and the long poll) give up after this; the outbox retries later.
REQUEST_TIMEOUT_S = 15.0


class SendingLimiter(AIORateLimiter):
    """PTB's limiter for what Telegram limits: posting and changing messages. Asking about a chat
    (is this person a member, an admin; how many are there) sends nothing, and must not wait behind
    a group's 20 messages a minute: a vote checks its voter's membership."""

    def __init__(self, pacing: Pacing, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pacing = pacing

    async def process_request(
        self,
        callback: Any,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        if not endpoint.lower().startswith(("send", "edit", "copy", "forward")):
            return await callback(*args, **kwargs)
        chat_id = data.get("chat_id")
        if isinstance(chat_id, int | str) and not FROM_OUTBOX.get():
            # A handler's reply takes its turn with the outbox's messages (bot/pacing.Pacing).
            with contextlib.suppress(ValueError):
                await self.pacing.direct_turn(int(chat_id))
        return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)


def register_handlers(application: Application) -> None:
    """Every capability registers itself here, in one readable list.

    All share PTB's group 0, where only the first matching handler runs, so the fallbacks come
    last and answer only what no capability took (an unknown command in a private chat), and
    demands come before start, whose plain /start would otherwise take a demand link's /start."""
    capabilities = (
        guards,
        demands,
        start,
        membership,
        registration,
        councils,
        calls,
        call_answers,
        decisions,
        delegates,
        programme,
        status,
        spread,
        verify,
        settings,
        wipe,
        audit,
    )
    for capability in capabilities:
        capability.register(application)
    start.register_fallbacks(application)
    application.add_error_handler(on_error)


def build_application(
    config: Config,
    credentials: Credentials,
    *,
    clock: Clock | None = None,
    publish_menus: bool = True,
) -> Application:
    """The whole bot, ready for run_polling / run_webhook or for manual start in tests."""
    preload()
    clock = clock or SystemClock()
    pacing = Pacing()
    inbox = Inbox(clock)

    async def start_services(application: Application) -> None:
        """The store and what runs on it: at start, and again after a /panic wipe (bot/wipe.py)."""
        store = await open_store(application, config.storage_path, credentials.secret_key)
        outbox = OutboxSender(
            store,
            application.bot,
            clock,
            settled={"call": delivery_counted(store, config, clock)},
            unreachable=council_told(store, config, clock),
            pacing=pacing,
        )
        application.bot_data.update(store=store, outbox=outbox)
        await inbox.replay()  # before any new update: what a kill left unhandled
        await outbox.start()
        await reminders.restore(application)
        await decisions.restore(application)
        await delegates.restore(application)
        await digest_schedule.restore(application)
        await purge_schedule.restore(application)

    async def stop_services(application: Application) -> None:
        outbox: OutboxSender | None = application.bot_data.pop("outbox", None)
        if outbox is not None:
            await outbox.stop()
        store: Store | None = application.bot_data.pop("store", None)
        if store is not None:
            await store.close()

    async def post_init(application: Application) -> None:
        # Button presses answered without a task each (bot/press_answers.py).
        application.bot_data["answers"] = PressAnswers(application.bot)
        await start_services(application)
        if isinstance(clock, ReplayClock):
            application.bot_data["on_jump"] = clock.on_jump(lambda: replan(application))
        if publish_menus:
            await publish_commands(application.bot, config.default_language)

    async def post_shutdown(application: Application) -> None:
        if isinstance(clock, ReplayClock) and "on_jump" in application.bot_data:
            clock.off_jump(application.bot_data.pop("on_jump"))
        await stop_services(application)
        answers: PressAnswers | None = application.bot_data.pop("answers", None)
        if answers is not None:
            await answers.close()

    base = config.telegram.base_url
    timeout = REQUEST_TIMEOUT_S
    # getUpdates' own connection: it also hands the poller each update as Telegram sent it (bot/polling.py).
    updates_request = UpdatesRequest(
        connection_pool_size=1,
        connect_timeout=timeout,
        read_timeout=config.telegram.poll_timeout + timeout,
        write_timeout=timeout,
    )
    application = (
        ApplicationBuilder()
        .token(credentials.bot_token)
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .context_types(ContextTypes(context=AsambleaContext))
        .defaults(Defaults(block=True))
        # Updates kept in the database before Telegram hears they arrived (bot/inbox.py).
        .update_queue(inbox)
        # Chats side by side, each chat's updates in order: a handler's waits (Telegram, the disk)
        # do not hold up other chats, and their writes share commits (bot/updates.py).
        .concurrent_updates(InboxUpdates(inbox))
        .rate_limiter(SendingLimiter(pacing, max_retries=2))
        # aiohttp, not PTB's httpx: a quarter of the CPU per request (bot/transport.py).
        .request(AiohttpRequest(connect_timeout=timeout, read_timeout=timeout, write_timeout=timeout))
        .get_updates_request(updates_request)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    application.bot_data.update(
        config=config,
        clock=clock,
        operator_chat_id=credentials.operator_chat_id,
        services=Services(start=start_services, stop=stop_services),
        updates_request=updates_request,
    )
    # The updates a busy movement sends most skip PTB's objects (bot/fast_updates.py).
    reader = UpdateReader(application.bot, commands=demands.FAST_COMMANDS, buttons=decisions.FAST_BUTTONS)
    inbox.serve(application, reader)
    if config.flood is not None:  # a flood is dropped before it queues behind its chat (bot/flood.py)
        application.update_processor.flood = FloodControl(config.flood, clock.time, application)
    register_handlers(application)
    return application


def delivery_counted(store: Store, config: Config, clock: Clock) -> SettledHook:
    """A call's copy was delivered or failed: its live tallies count it."""

    async def hook(tx: aiosqlite.Connection, item: OutboxItem) -> None:
        call_id = await store.calls.call_of_delivery(tx, item.id)
        if call_id is not None:
            await refresh_tallies(tx, store, config, call_id, now=clock.time(), speed=clock.speed)

    return hook


def council_told(store: Store, config: Config, clock: Clock) -> SettledHook:
    """A committee turned out unreachable when sending: its council hears of it."""

    async def hook(tx: aiosqlite.Connection, item: OutboxItem) -> None:
        committee = await store.committees.get(tx, item.committee_id) if item.committee_id else None
        if committee is not None and committee.status is Status.ACTIVE:
            await committee_unreachable(tx, store, config, committee, now=int(clock.time()))

    return hook


ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.CHANNEL_POST,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
]


async def start_polling_application(application: Application, *, poll_timeout: int = 10) -> Poller:
    """Start an Application and its long polling (bot/polling.py), as `asamblea run` does, inside
    a running loop (the demo, the tests and the benchmarks run the bot next to the sandbox).
    The poller is also `bot_data["poller"]`."""
    await application.initialize()
    if application.post_init:
        await application.post_init(application)
    await application.start()
    poller = Poller(
        application.bot,
        application.update_queue,
        application.bot_data["updates_request"],
        timeout=poll_timeout,
        allowed_updates=ALLOWED_UPDATES,
    )
    application.bot_data["poller"] = poller
    await poller.start()
    return poller


async def run_polling(application: Application, *, poll_timeout: int) -> None:
    """`asamblea run` in polling mode, until SIGINT or SIGTERM; raises InvalidToken if the Bot API
    server refuses the token. (PTB's run_polling would confirm updates before they are kept.)"""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        poller = await start_polling_application(application, poll_timeout=poll_timeout)
    except BaseException:
        if application.running:
            await application.stop()
        await application.shutdown()
        raise
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({stopping, poller.task}, return_when=asyncio.FIRST_COMPLETED)  # type: ignore[arg-type]
    finally:
        stopping.cancel()
        ended = poller.task if poller.task is not None and poller.task.done() else None
        await stop_polling_application(application)
    if ended is not None and not ended.cancelled() and ended.exception() is not None:
        raise ended.exception()  # type: ignore[misc]


async def stop_polling_application(application: Application) -> None:
    """The reverse of start_polling_application, including post_shutdown."""
    poller: Poller | None = application.bot_data.pop("poller", None)
    if poller is not None:
        await poller.stop()
    if application.running:
        await application.stop()
    if application.post_shutdown:
        await application.post_shutdown(application)
    await application.shutdown()
