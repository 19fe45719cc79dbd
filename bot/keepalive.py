"""Bot API requests with a JSON body over kept-alive HTTP/1.1 connections, at a third of aiohttp's cost.

A vote press is answered by a request (answerCallbackQuery), and at a thousand updates a second
half of them are presses: aiohttp spends 300-380 µs of the core on each request here, most of it in
its generality (cookies, redirects, proxies, tracing, a timer per timeout, URL objects), which the
Bot API never uses. These connections do only what a Bot API call is: a POST with a JSON body to one
server, the answer read by httptools (the parser uvicorn uses), the connection kept for the next
call: about 140 µs (docs/benchmarks.md, "Ingest"). Uploads and servers behind a proxy stay with
aiohttp (bot/transport.py).

A connection idle in the pool may have been closed by the server meanwhile; a request that finds
it closed before any byte of the answer came is sent again, once, on a new connection, as browsers
and urllib3 do (the server cannot have answered it, and Telegram closes idle connections without
reading what comes).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, partial

import httptools

MAX_ANSWER_BYTES = 64 * 1024 * 1024  # far above any Bot API answer (getUpdates: 100 updates)


class ConnectionLost(ConnectionError):
    """The server closed the connection or broke the answer off."""


Outcome = tuple[int, bytes] | Exception  # the answer's status and body, or why none came
Done = Callable[[Outcome], None]


class Connection(asyncio.Protocol):
    """One HTTP/1.1 connection, one request at a time.

    `start` sends a request and calls back with its outcome, exactly once; `send` awaits it. The
    callback is the core so that a sender with no task per request (bot/press_answers.py) can use
    the same connection."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser: httptools.HttpResponseParser | None = None  # a new one for each answer
        self.done: Done | None = None  # who hears the outcome of the request under way
        self.received = 0  # bytes of the answer so far
        self.body: list[bytes] = []
        self.closed = False
        self.reusable = False

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.received += len(data)
        if self.done is None or self.parser is None or self.received > MAX_ANSWER_BYTES:
            self._fail(ConnectionLost("the server sent more than an answer"))
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(ConnectionLost(f"the answer could not be read: {type(exc).__name__}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(ConnectionLost("the server closed the connection"))
        self.parser = None  # it refers to this protocol: freed now rather than by the collector

    # httptools' callbacks
    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        done, self.done = self.done, None
        assert self.parser is not None  # it is the parser calling
        self.reusable = self.parser.should_keep_alive()
        if done is not None:
            done((self.parser.get_status_code(), b"".join(self.body)))

    # the request
    def start(self, request: bytes, done: Done) -> None:
        """Send `request`; `done` gets the answer, or the ConnectionLost that ended it."""
        assert self.transport is not None
        self.done = done
        self.received, self.body, self.reusable = 0, [], False
        self.parser = httptools.HttpResponseParser(self)
        self.transport.write(request)

    async def send(self, request: bytes, answer_s: float | None) -> tuple[int, bytes]:
        """The answer to `request`; TimeoutError if it has not come within `answer_s`.

        One timer that fails the answer, rather than `asyncio.timeout`: at a request per vote press,
        the context manager and its task bookkeeping are worth avoiding."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[tuple[int, bytes]] = loop.create_future()
        self.start(request, partial(_settle, answer))
        timer = None if answer_s is None else loop.call_later(answer_s, _settle, answer, TimeoutError())
        try:
            return await answer
        finally:
            if timer is not None:
                timer.cancel()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _fail(self, error: Exception) -> None:
        done, self.done = self.done, None
        if done is not None:
            done(error)
        self.close()


def _settle(answer: asyncio.Future[tuple[int, bytes]], outcome: Outcome) -> None:
    if answer.done():
        return
    if isinstance(outcome, Exception):
        answer.set_exception(outcome)
    else:
        answer.set_result(outcome)


@dataclass(frozen=True, slots=True)
class Server:
    scheme: str
    host: str
    port: int

    @property
    def host_header(self) -> bytes:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return (host if self.port == default else f"{host}:{self.port}").encode("idna")


def post_request(server: Server, target: str, body: bytes, user_agent: bytes) -> bytes:
    """A POST of a JSON body, as bytes on the wire."""
    return _post_head(server, target, user_agent) + b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


@lru_cache(maxsize=256)
def _post_head(server: Server, target: str, user_agent: bytes) -> bytes:
    """The head of a POST up to its length: the same for every call of one method, made once (the
    host's IDNA encoding alone is a few µs, at a request per press)."""
    head = b"POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nContent-Type: application/json\r\n"
    return head % (target.encode(), server.host_header, user_agent)


class Connector:
    """Opens connections, with one TLS context for all of them (making one reads the system's
    certificates)."""

    def __init__(self) -> None:
        self._ssl: ssl.SSLContext | None = None

    async def connect(self, server: Server, connect_s: float | None) -> Connection:
        loop = asyncio.get_running_loop()
        tls = self._context() if server.scheme == "https" else None
        async with asyncio.timeout(connect_s):
            _transport, connection = await loop.create_connection(
                Connection, server.host, server.port, ssl=tls, server_hostname=server.host if tls else None
            )
        return connection

    def _context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context()
        return self._ssl


class ConnectionPool:
    """Kept-alive connections to the Bot API servers, at most `size` at once."""

    def __init__(self, size: int, user_agent: str) -> None:
        self._idle: dict[Server, list[Connection]] = {}
        self._slots = asyncio.Semaphore(size)
        self._user_agent = user_agent.encode()
        self._connector = Connector()
        self._open: weakref.WeakSet[Connection] = weakref.WeakSet()

    async def post(
        self,
        server: Server,
        target: str,
        body: bytes,
        *,
        connect_s: float | None,
        pool_s: float | None,
        answer_s: float | None,
    ) -> tuple[int, bytes]:
        """POST `body` (JSON) to `target` on `server`: the answer's status and body. Raises TimeoutError
        when a limit passes, ConnectionLost or OSError when the answer does not come."""
        request = post_request(server, target, body, self._user_agent)
        if self._slots.locked():  # a timeout costs a timer and a context manager: only when waiting
            async with asyncio.timeout(pool_s):
                await self._slots.acquire()
        else:
            await self._slots.acquire()  # returns at once
        try:
            for attempt in (1, 2):
                connection = await self._connection(server, connect_s)
                reused = connection.reusable  # kept from an earlier answer, not new
                try:
                    status, answer = await connection.send(request, answer_s)
                except ConnectionLost:
                    if reused and attempt == 1 and connection.received == 0:
                        continue  # closed while idle: the server never read the request
                    raise
                except BaseException:
                    connection.close()  # a timeout or a cancellation: what comes on it later is no answer
                    raise
                if connection.reusable and not connection.closed:
                    self._idle.setdefault(server, []).append(connection)
                else:
                    connection.close()
                return status, answer
            raise AssertionError("unreachable")
        finally:
            self._slots.release()

    async def _connection(self, server: Server, connect_s: float | None) -> Connection:
        idle = self._idle.get(server)
        while idle:
            connection = idle.pop()
            if not connection.closed:
                return connection
        connection = await self._connector.connect(server, connect_s)
        self._open.add(connection)
        return connection

    def close(self) -> None:
        for connection in self._open:
            with contextlib.suppress(Exception):
                connection.close()
        self._open.clear()
        self._idle.clear()
