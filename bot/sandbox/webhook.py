"""Webhook delivery: POST each update to the bot's URL, as Telegram does, until it says 2xx.

While a webhook is set, updates are sent one at a time, in order, as a JSON
body with the ``X-Telegram-Bot-Api-Secret-Token`` header when a secret was
given. A failed delivery (connection refused, timeout, non-2xx) is recorded
for getWebhookInfo and retried with a short backoff; the update stays pending
until the bot's server accepts it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import httpx

from .changes import ChangeSignal
from .world import World

_MAX_BACKOFF_S = 2.0


class WebhookSender:
    """The background task that pushes updates to the webhook URL."""

    def __init__(
        self,
        world: World,
        signal: ChangeSignal,
        on_activity: Callable[[], None],
        *,
        timeout_s: float = 30.0,
    ) -> None:
        self._world = world
        self._signal = signal
        self._on_activity = on_activity
        self._timeout_s = timeout_s
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.delivered = 0
        self.failed = 0

    def ensure_running(self) -> None:
        """Start the sender if a webhook is set and it is not running yet."""
        if self._world.webhook is not None and (self._task is None or self._task.done()):
            self._stopping = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop delivering (the server is stopping)."""
        self._stopping.set()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        failures = 0
        async with httpx.AsyncClient(timeout=self._timeout_s) as client:
            while not self._stopping.is_set() and not self._signal.closed:
                hook = self._world.webhook
                if hook is None:
                    return
                updates = self._world.take_updates(1)
                if not updates:
                    await self._signal.wait(None, self._stopping)
                    continue
                update = updates[0]
                error = await self._deliver(client, hook, update)
                self._on_activity()
                if self._world.webhook is not hook:
                    continue  # the webhook changed while we were sending
                if error is None:
                    failures = 0
                    self.delivered += 1
                    if self._world.updates and self._world.updates[0] is update:
                        self._world.updates.pop(0)
                        self._world.on_change()
                    continue
                failures += 1
                self.failed += 1
                hook["last_error_date"] = self._world.now()
                hook["last_error_message"] = error
                backoff = min(0.05 * 2 ** (failures - 1), _MAX_BACKOFF_S)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), backoff)

    async def _deliver(self, client: httpx.AsyncClient, hook: dict[str, Any], update: dict[str, Any]) -> str | None:
        """POST one update; None on success, else the error getWebhookInfo reports."""
        headers = {}
        if hook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook["secret_token"]
        try:
            response = await client.post(hook["url"], json=update, headers=headers)
        except httpx.TimeoutException:
            return "Read timeout expired"
        except httpx.HTTPError as error:
            return f"Connection failed: {type(error).__name__}"
        if 200 <= response.status_code < 300:
            return None
        return f"Wrong response from the webhook: {response.status_code} {response.reason_phrase}"
