"""The sandbox HTTP server: Bot API at ``/bot<token>/<method>``, control API at ``/sandbox/``.

Point python-telegram-bot at it with ``Bot(token, base_url=f"{server.base_url}/bot")``
and the bot's real request stack, rate limiter and retry logic run against it.
The server is a tornado application on the current asyncio loop, so a test can
run it in the same loop as the bot under test; ``python -m bot.sandbox`` runs it
in its own process for benchmarks and the demo.

Usage::

    async with SandboxServer() as server, SandboxClient(server.base_url) as sandbox:
        alice = await sandbox.create_user("Alice")
        ...
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any
from urllib.parse import unquote

import tornado.httpserver
import tornado.netutil
import tornado.web

from . import errors as e
from .botapi import BotApi, Described
from .changes import ChangeSignal
from .control import control_routes
from .errors import ApiError
from .faults import FaultQueue, FaultRule
from .limits import Limits, RateLimiter
from .params import Params, Upload
from .webhook import WebhookSender
from .world import World

log = logging.getLogger(__name__)

DEFAULT_TOKEN = "123456:SANDBOX-TOKEN"
DEFAULT_USERNAME = "asamblea_bot"
_BAD_GATEWAY_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


class Activity:
    """When the bot last talked to the sandbox, and how many requests are in flight.

    ``wait_idle`` needs both: the bot is idle when nothing is in flight and
    nothing arrived for a short quiet period.
    """

    def __init__(self, signal: ChangeSignal) -> None:
        self._signal = signal
        self.inflight = 0
        self.last = time.monotonic()

    def begin(self) -> None:
        """A request arrived."""
        self.inflight += 1
        self.last = time.monotonic()

    def end(self) -> None:
        """A request was answered."""
        self.inflight -= 1
        self.touch()

    def touch(self) -> None:
        """Something happened (an answered request, a delivered webhook update)."""
        self.last = time.monotonic()
        self._signal.notify()


class SandboxServer:
    """A local Telegram Bot API server with a scriptable world behind it."""

    def __init__(
        self,
        bot_token: str = DEFAULT_TOKEN,
        bot_username: str = DEFAULT_USERNAME,
        limits: Limits | None = None,
        *,
        privacy_mode: bool = False,
    ) -> None:
        self.token = bot_token
        self.signal = ChangeSignal()
        self.world = World(bot_token, bot_username, privacy_mode=privacy_mode)
        self.world.on_change = self.signal.notify
        self.limiter = RateLimiter(limits if limits is not None else Limits())
        self.faults = FaultQueue()
        self.activity = Activity(self.signal)
        self.api = BotApi(self.world, self.limiter, self.signal)
        self.webhook = WebhookSender(self.world, self.signal, self.activity.touch)
        self.api.on_webhook_change = self._webhook_changed
        self.api.on_confirm = self.activity.touch
        # getUpdates requests received, empty long polls included (the call log skips those):
        # a benchmark reads it to know that a bot process it started is polling.
        self.polls = 0
        self._http: tornado.httpserver.HTTPServer | None = None
        self._host = "127.0.0.1"
        self._port = 0

    @property
    def limits(self) -> Limits:
        """The limits currently enforced."""
        return self.limiter.limits

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT``; the Bot API is under ``/bot``, the control API under ``/sandbox``."""
        if self._http is None:
            raise RuntimeError("the sandbox server is not started")
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._port}"

    @property
    def bot_api_url(self) -> str:
        """What to pass as python-telegram-bot's ``base_url``."""
        return f"{self.base_url}/bot"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on ``host:port`` (port 0 picks a free one) in the running event loop."""
        if self._http is not None:
            raise RuntimeError("the sandbox server is already started")
        self.signal.reopen()
        app = tornado.web.Application(
            [
                (r"/bot([^/]+)/([A-Za-z0-9_]+)/?", BotApiHandler),
                (r"/file/bot([^/]+)/(.+)", FileHandler),
                *control_routes(),
            ],
            sandbox=self,
            log_function=_log_request,
            default_handler_class=NotFoundHandler,
        )
        sockets = tornado.netutil.bind_sockets(port, address=host)
        self._http = tornado.httpserver.HTTPServer(app, max_body_size=64 * 1024 * 1024)
        self._http.add_sockets(sockets)
        self._host = host
        self._port = sockets[0].getsockname()[1]
        log.info("Bot API sandbox listening on %s", self.base_url)

    async def stop(self) -> None:
        """Stop listening, end long polls and waits, close connections."""
        http, self._http = self._http, None
        if http is None:
            return
        self.signal.close()
        await self.webhook.stop()
        http.stop()
        # Give woken handlers a moment to answer before connections are cut.
        await asyncio.sleep(0)
        await http.close_all_connections()

    async def __aenter__(self) -> SandboxServer:
        if self._http is None:
            await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def reset(self) -> None:
        """Forget the world, faults and counted sends; keep the token and limits."""
        self.world.reset()
        self.faults.clear()
        self.limiter.reset()
        self.limiter.rejected = 0
        self.polls = 0

    def _webhook_changed(self) -> None:
        self.webhook.ensure_running()

    def stats(self) -> dict[str, Any]:
        """The world's counts plus the server's own."""
        return {
            **self.world.stats(),
            "rate_limited": self.limiter.rejected,
            "faults_injected": self.faults.injected,
            "webhook_delivered": self.webhook.delivered,
            "webhook_failed": self.webhook.failed,
            "polls": self.polls,
        }

    async def wait_idle(self, within: float, quiet: float = 0.2) -> bool:
        """True once every update is confirmed and the bot has been quiet for ``quiet`` s.

        False if that did not happen ``within`` seconds.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            now = loop.time()
            if now >= deadline or self.signal.closed:
                return False
            pending = bool(self.world.updates) or self.activity.inflight > 0
            if pending:
                await self.signal.wait(deadline - now)
                continue
            quiet_for = time.monotonic() - self.activity.last
            if quiet_for >= quiet:
                return True
            await self.signal.wait(min(quiet - quiet_for, deadline - now))

    async def wait_sent(
        self, chat_id: int | None, since: int, within: float, count: int = 1
    ) -> list[dict[str, Any]] | None:
        """What the bot sent, edited or deleted after ``since``, once there is ``count`` of it.

        None if there was not that much ``within`` seconds.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            found = self.world.sent_since(since, chat_id)
            if len(found) >= count:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0 or self.signal.closed:
                return None
            await self.signal.wait(remaining)

    async def pause(self, seconds: float, *also: asyncio.Event) -> bool:
        """Wait ``seconds``; False if the server stops or one of ``also`` is set first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            if self.signal.closed or any(event.is_set() for event in also):
                return False
            remaining = deadline - loop.time()
            if remaining <= 0:
                return True
            await self.signal.wait(remaining, *also)


def _log_request(handler: tornado.web.RequestHandler) -> None:
    log.debug("%s %s %s", handler.get_status(), handler.request.method, handler.request.uri)


def _parse_params(request: Any) -> Params:
    """Query string, JSON body, URL-encoded or multipart form: all become one Params."""
    values: dict[str, Any] = {
        name: items[-1].decode("utf-8", "replace") for name, items in request.query_arguments.items()
    }
    files: dict[str, Upload] = {}
    content_type = request.headers.get("Content-Type", "")
    if content_type.startswith("application/json") and request.body:
        try:
            body = json.loads(request.body)
        except ValueError:
            raise e.bad_request("can't parse JSON encoded request parameters") from None
        if not isinstance(body, dict):
            raise e.bad_request("can't parse JSON encoded request parameters")
        values.update(body)
    else:
        for name, items in request.body_arguments.items():
            values[name] = items[-1].decode("utf-8", "replace")
        for name, uploads in request.files.items():
            upload = uploads[-1]
            files[name] = Upload(upload.filename or None, upload.content_type or None, upload.body)
    return Params(values, files)


class BotApiHandler(tornado.web.RequestHandler):
    """``GET|POST /bot<token>/<method>``: the Telegram Bot API."""

    def initialize(self) -> None:
        self.sandbox: SandboxServer = self.settings["sandbox"]
        self.closed = asyncio.Event()

    def on_connection_close(self) -> None:
        self.closed.set()

    async def get(self, token: str, method: str) -> None:
        await self._handle(unquote(token), method)

    async def post(self, token: str, method: str) -> None:
        await self._handle(unquote(token), method)

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        if self.closed.is_set():
            return
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body, ensure_ascii=False))

    async def _handle(self, token: str, method: str) -> None:
        sandbox = self.sandbox
        world = sandbox.world
        if token != sandbox.token:
            self._answer(401, e.unauthorized().to_json())
            return
        name = sandbox.api.canonical(method)
        if name is None:
            missing = sandbox.api.known_but_missing(method)
            error = (
                e.bad_request(f"method {missing} is not implemented by the Asamblea sandbox")
                if missing
                else e.not_found()
            )
            world.record_call(method, {}, ok=False, error_code=error.error_code,
                              description=error.description)  # fmt: skip
            self._answer(error.error_code, error.to_json())
            return
        polling = name == "getUpdates"
        if polling:
            sandbox.polls += 1
        else:
            sandbox.activity.begin()
        try:
            await self._run(name)
        finally:
            if not polling:
                sandbox.activity.end()

    async def _run(self, name: str) -> None:
        sandbox = self.sandbox
        world = sandbox.world
        try:
            params = _parse_params(self.request)
        except ApiError as error:
            world.record_call(name, {}, ok=False, error_code=error.error_code,
                              description=error.description)  # fmt: skip
            self._answer(error.error_code, error.to_json())
            return
        params.closed = self.closed
        logged = params.loggable()
        fault = sandbox.faults.take(name, params.raw("chat_id"))
        if fault is not None and await self._inject(fault, name, logged):
            return
        try:
            result = await sandbox.api.call(name, params)
        except ApiError as error:
            world.record_call(name, logged, ok=False, error_code=error.error_code,
                              description=error.description)  # fmt: skip
            self._answer(error.error_code, error.to_json())
            return
        body: dict[str, Any] = {"ok": True}
        if isinstance(result, Described):
            body["result"] = result.result
            body["description"] = result.description
        else:
            body["result"] = result
        if name != "getUpdates" or result:
            world.record_call(name, logged, ok=True)
            if name == "getUpdates":
                sandbox.activity.touch()
        self._answer(200, body)

    async def _inject(self, fault: FaultRule, name: str, logged: dict[str, Any]) -> bool:
        """Apply a scripted fault; True if the request is thereby answered (or dropped)."""
        sandbox = self.sandbox
        world = sandbox.world
        kind = fault.kind
        if kind == "delay":
            await sandbox.pause(fault.delay_s, self.closed)
            return self.closed.is_set()
        if kind == "429":
            error = e.too_many_requests(fault.retry_after)
        elif kind == "500":
            error = e.internal_server_error()
        elif kind == "502":
            world.record_call(name, logged, ok=False, error_code=502, description="Bad Gateway")
            self.set_status(502)
            self.set_header("Content-Type", "text/html")
            self.finish(_BAD_GATEWAY_PAGE)
            return True
        else:  # drop, timeout
            if kind == "timeout":
                await sandbox.pause(fault.delay_s, self.closed)
            world.record_call(name, logged, ok=False, error_code=None,
                              description=f"fault: {kind}")  # fmt: skip
            with contextlib.suppress(Exception):
                self.detach().close()
            return True
        world.record_call(name, logged, ok=False, error_code=error.error_code,
                          description=error.description)  # fmt: skip
        self._answer(error.error_code, error.to_json())
        return True


class NotFoundHandler(tornado.web.RequestHandler):
    """Any other path: Telegram's JSON 404."""

    def prepare(self) -> None:
        self.set_status(404)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(e.not_found().to_json()))


class FileHandler(tornado.web.RequestHandler):
    """``GET /file/bot<token>/<file_path>``: download a photo the bot sent (getFile)."""

    def get(self, token: str, file_path: str) -> None:
        sandbox: SandboxServer = self.settings["sandbox"]
        file_id = file_path.removeprefix("photos/").removesuffix(".jpg")
        photo = sandbox.world.photos.get(file_id)
        if token != sandbox.token or photo is None:
            self.set_status(404)
            self.finish(e.not_found().to_json())
            return
        self.set_header("Content-Type", photo.mime_type or "application/octet-stream")
        self.finish(photo.data)
