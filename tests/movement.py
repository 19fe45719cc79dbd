"""Playing the people of a movement against the real bot, through the sandbox's control API.

Tests read like what happens: a person says something in a chat, presses a button, and the
test looks at what the bot answered. Waiting is always for an event (a message, an answered
button, every update handled), never for a fixed time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from telegram.ext import Application

from bot.app import build_application, start_polling_application, stop_polling_application
from bot.clock import Clock
from bot.config import Config
from bot.council_codes import issue_code
from bot.credentials import Credentials
from bot.sandbox import SandboxClient, SandboxServer
from domain.committees import Status
from storage import Store

WAIT_S = 20.0
# Every table a person's action may write to; the keyring is written once at start.
TABLES = (
    "chat_settings",
    "councils",
    "council_codes",
    "committees",
    "outbox",
    "calls",
    "call_deliveries",
    "call_answers",
    "call_tallies",
    "call_reminders",
    "strike_status",
    "verify_misses",
    "demands",
    "demand_support",
    "demand_links",
    "committee_rules",
    "decisions",
    "decision_voices",
    "demand_escalations",
    "delegates",
    "digests",
    "solidarity_appeals",
    "audit",
)
SECRET_KEY = b"a test secret key of at least 32 characters"


@dataclass
class Movement:
    app: Application
    client: SandboxClient
    server: SandboxServer
    config: Config
    errors: list[BaseException] = field(default_factory=list)

    @classmethod
    @contextlib.asynccontextmanager
    async def running(
        cls,
        config: Config,
        server: SandboxServer,
        client: SandboxClient,
        *,
        clock: Clock | None = None,
        publish_menus: bool = True,
    ) -> AsyncIterator[Movement]:
        """The bot built and polling; at the end the bot then running is stopped (a `restart`
        replaces it)."""
        credentials = Credentials(bot_token=server.token, secret_key=SECRET_KEY)
        application = build_application(config, credentials, clock=clock, publish_menus=publish_menus)
        movement = cls(application, client, server, config)
        movement._record_errors()
        await start_polling_application(movement.app, poll_timeout=1)
        try:
            yield movement
        finally:
            await stop_polling_application(movement.app)

    def _record_errors(self) -> None:
        """Any exception in a handler goes to `errors`, so that a test can fail on it (PTB would only log it)."""

        async def record_error(update: object, context: Any) -> None:
            self.errors.append(context.error)

        self.app.add_error_handler(record_error)

    @property
    def store(self) -> Store:
        return self.app.bot_data["store"]

    # -- people and chats ------------------------------------------------------------------
    async def person(self, name: str, language: str = "en") -> dict[str, Any]:
        return await self.client.create_user(name, language_code=language)

    async def group(self, title: str, admin: dict[str, Any], *, announce: bool = False) -> int:
        """A supergroup with the bot in it; `announce` lets the bot see itself being added."""
        chat = await self.client.create_group(title, admin["id"], supergroup=True, announce=announce)
        if announce:
            await self.client.wait_for(chat["id"], 0, timeout=WAIT_S)
        return chat["id"]

    async def member(self, chat_id: int, name: str, status: str = "member") -> dict[str, Any]:
        user = await self.person(name)
        await self.client.set_member(chat_id, user["id"], status)
        return user

    # -- acting --------------------------------------------------------------------------
    async def say(self, chat_id: int, user: dict[str, Any] | None, text: str, reply_to: int | None = None) -> dict:
        """Send a message and return the bot's first answer in that chat."""
        since = await self.client.seq()
        await self.client.send(chat_id, user["id"] if user else None, text, reply_to=reply_to)
        return (await self.client.wait_for(chat_id, since, timeout=WAIT_S))[0]

    async def press(self, chat_id: int, user: dict[str, Any], message: dict, label: str) -> dict:
        """Press a button; return the bot's answer to the press (text, show_alert)."""
        query = await self.client.press_button(chat_id, user["id"], message, label)
        return await self.answer_to(query)

    async def press_data(self, chat_id: int, user: dict[str, Any], message_id: int, data: str) -> dict:
        """Press a button with any callback data, as a forged or stale button would."""
        query = await self.client.press(chat_id, user["id"], message_id, data)
        return await self.answer_to(query)

    async def answer_to(self, query: str) -> dict:
        answer = await self.client.callback_answer(query)
        while answer is None:  # every button handler answers its query
            await self.client.wait_idle(timeout=WAIT_S, quiet=0.05)
            answer = await self.client.callback_answer(query)
        return answer

    async def next_message(self, chat_id: int, since: int) -> dict:
        """The first message the bot sends or edits in a chat after `since` (e.g. from the outbox)."""
        return (await self.client.wait_for(chat_id, since, timeout=WAIT_S))[0]

    async def settle(self) -> None:
        """Every update handled and nothing more on the wire for a moment."""
        await self.client.wait_idle(timeout=WAIT_S)

    async def answers_settled(self) -> None:
        """Every update handled, and every press answered or given up (bot/press_answers.py)."""
        await self.settle()
        answers = self.app.bot_data["answers"]
        async with asyncio.timeout(WAIT_S):
            while answers.under_way:  # noqa: ASYNC110 (the lane has no event to wait on)
                await asyncio.sleep(0.02)

    async def restart(self, clock: Clock | None, *, before_start: Callable[[], None] | None = None) -> Application:
        """Stop the bot and start it again on the same database, as after a crash or an upgrade.
        `before_start` runs while it is down (a clock jump over the hours it was away)."""
        await stop_polling_application(self.app)
        if before_start is not None:
            before_start()
        self.app = build_application(
            self.config,
            Credentials(bot_token=self.server.token, secret_key=SECRET_KEY),
            clock=clock,
            publish_menus=False,
        )
        self._record_errors()
        await start_polling_application(self.app, poll_timeout=1)
        return self.app

    async def drained(self) -> None:
        """Every update handled and every outbox row delivered (a snapshot taken now stays still)."""
        while True:
            await self.settle()
            states = await self.states()
            if not states.get("pending") and not states.get("inflight"):
                return
            self.app.bot_data["outbox"].wake()
            await asyncio.sleep(0.05)

    # -- the movement's structure ------------------------------------------------------------
    async def code(self, region: str) -> str:
        return await issue_code(self.store, region=region, now=int(self.app.bot_data["clock"].time()), valid_hours=24)

    async def council(self, region: str, title: str | None = None) -> tuple[int, dict[str, Any]]:
        """A linked council chat for a region, and its admin."""
        admin = await self.person(f"{region} council admin")
        chat_id = await self.group(title or f"{region} council", admin)
        answer = await self.say(chat_id, admin, f"/council {await self.code(region)}")
        assert "now the" in answer["text"], answer["text"]
        return chat_id, admin

    async def committee(
        self, name: str, region: str, *, council: int | None = None, council_admin: dict | None = None
    ) -> tuple[int, dict[str, Any]]:
        """A registered committee; approved when its council chat and admin are given."""
        admin = await self.person(f"{name} admin")
        chat_id = await self.group(name, admin)
        since = await self.client.seq()
        answer = await self.say(chat_id, admin, f"/register {region} workplace {name}")
        assert "Your request has gone" in answer["text"] or "No council" in answer["text"], answer["text"]
        if council is not None and council_admin is not None:
            request = await self.message_with_buttons(council, name, since)
            await self.press(council, council_admin, request, "Approve")
            await self.client.wait_for_text(chat_id, "approved", since=since, timeout=WAIT_S)
        return chat_id, admin

    async def message_with_buttons(self, chat_id: int, contains: str, since: int) -> dict:
        """The first message after `since` with `contains` and buttons (not an edit that took them off)."""
        cursor = since
        while True:
            for message in await self.client.wait_for(chat_id, cursor, timeout=WAIT_S):
                cursor = max(cursor, message["seq"])
                if contains in (message.get("text") or "") and (message.get("reply_markup") or {}).get(
                    "inline_keyboard"
                ):
                    return message

    async def seed_committees(self, region: str, count: int) -> list[tuple[int, dict[str, Any]]]:
        """Many active committees at once, written straight to the store (setup, not what is tested)."""
        seeded = []
        clock_now = int(self.app.bot_data["clock"].time())
        for n in range(count):
            admin = await self.person(f"{region} delegate {n}")
            chat = await self.client.create_group(
                f"{region} committee {n}", admin["id"], supergroup=True, announce=False
            )
            seeded.append((chat["id"], admin))
        async with self.store.db.transaction() as tx:
            for n, (chat_id, admin) in enumerate(seeded):
                committee = await self.store.committees.register(
                    tx,
                    chat_id=chat_id,
                    name=f"{region} committee {n}",
                    region=region,
                    kind="workplace",
                    registered_by=admin["id"],
                    now=clock_now,
                )
                await self.store.committees.set_status(tx, committee.id, Status.ACTIVE, decided_by=0, now=clock_now)
        return seeded

    async def call(self, chat_id: int, admin: dict[str, Any], command: str) -> dict:
        """Issue a call and press Send on its preview; returns the preview as it was."""
        preview = await self.say(chat_id, admin, command)
        label = next(
            key["text"] for row in preview["reply_markup"]["inline_keyboard"] for key in row if "Send" in key["text"]
        )
        since = await self.client.seq()
        answer = await self.press(chat_id, admin, preview, label)
        assert answer["text"] == "Sent.", answer
        # The confirmation waits its turn in the chat (bot/pacing.py): let it land before what follows.
        await self.client.wait_for_text(chat_id, "Sent to", since=since, timeout=WAIT_S)
        return preview

    async def states(self) -> dict[str, int]:
        async with self.store.db.read() as conn:
            return await self.store.outbox.counts(conn)

    # -- looking at the database -----------------------------------------------------------
    async def query(self, sql: str, *params: object) -> list[tuple]:
        async with self.store.db.read() as conn, conn.execute(sql, params) as cursor:
            return [tuple(row) for row in await cursor.fetchall()]

    async def rows(self) -> dict[str, list[tuple]]:
        """Every row of every table people write to, to prove that a refusal wrote nothing."""
        state: dict[str, list[tuple]] = {}
        async with self.store.db.read() as conn:
            for table in TABLES:
                async with conn.execute(f"SELECT * FROM {table} ORDER BY 1") as cursor:
                    state[table] = [tuple(row) async for row in cursor]
        return state
