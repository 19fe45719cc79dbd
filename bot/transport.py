"""How the bot's requests reach Telegram: PTB's request interface on aiohttp.

PTB's default, HTTPXRequest, spends about 1.5 ms of CPU per request on our machines (httpx,
httpcore and anyio run a few thousand Python calls for each), aiohttp about 0.4 ms. A bot that
answers every button press makes as many requests as it gets presses, so at a thousand updates a
second httpx alone would need more than the whole core (docs/benchmarks.md, "Ingest").
`AiohttpRequest` behaves like HTTPXRequest where the bot can tell: the same default timeouts, a
timeout raises TimedOut, any other failure to get an answer NetworkError. Parameters go as JSON
(the Bot API takes JSON, forms and multipart alike), uploads as multipart form data.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.keepalive import ConnectionPool, Server
from storage import json_bytes


class AiohttpRequest(BaseRequest):
    """A BaseRequest on one aiohttp session with a pool of keep-alive connections."""

    def __init__(
        self,
        *,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._pool: ConnectionPool | None = None  # JSON requests without a proxy (bot/keepalive.py)
        self._proxies: dict[tuple[str, str], str | None] = {}
        self._headers = {"User-Agent": self.USER_AGENT}
        self._json_headers = {**self._headers, "Content-Type": "application/json"}

    def _proxy_for(self, url: str) -> str | None:
        """The proxy the environment names for this server (HTTPS_PROXY, NO_PROXY...), as httpx uses it."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "")
        if key not in self._proxies:
            proxy = getproxies().get(parts.scheme)
            self._proxies[key] = None if proxy is None or proxy_bypass(key[1]) else proxy
        return self._proxies[key]

    def pooled(self, url: str) -> tuple[Server, str] | None:
        """The server and the request target of a JSON POST to `url` when it goes over the kept-alive
        connections (plain http or https, no proxy); None when it goes through aiohttp."""
        if self._proxy_for(url) is not None:
            return None
        server, target = _server_of(url)
        return None if server is None else (server, target)

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # Not trust_env: aiohttp would then read ~/.netrc and the proxy variables in a thread
            # for every request; the proxy is looked up once per server instead (_proxy_for).
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self._pool_size))
        if self._pool is None:
            self._pool = ConnectionPool(self._pool_size, self.USER_AGENT)

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None
        if self._pool is not None:
            self._pool.close()
        self._pool = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data is not None and request_data.contains_files
        read = self._read_timeout if read_timeout is BaseRequest.DEFAULT_NONE else read_timeout
        write = self._write_timeout if write_timeout is BaseRequest.DEFAULT_NONE else write_timeout
        if files and write_timeout is BaseRequest.DEFAULT_NONE:
            write = self._media_write_timeout
        connect = self._connect_timeout if connect_timeout is BaseRequest.DEFAULT_NONE else connect_timeout
        pool = self._pool_timeout if pool_timeout is BaseRequest.DEFAULT_NONE else pool_timeout
        timeout = _timeout(read, write, connect, pool)
        headers = self._json_headers
        body: Any = None
        if request_data is not None:
            if files:
                body, headers = _form(request_data), self._headers
            else:  # JSON with the parameters' own types (a form would quote each value: slower)
                body = json_bytes.dumps(request_data.parameters)
        pool = self._pool
        if pool is not None and not files and method == "POST" and (pooled := self.pooled(url)) is not None:
            server, target = pooled
            answer_s = None if read is None or write is None else read + write
            try:
                return await pool.post(server, target, body or b"", connect_s=connect, pool_s=pool, answer_s=answer_s)
            except TimeoutError as exc:
                raise TimedOut from exc
            except OSError as exc:  # ConnectionLost is one, and so are refused connections and TLS errors
                raise NetworkError(f"{type(exc).__name__}: {exc}") from exc
        try:
            async with self._session.request(
                method, url, data=body, headers=headers, timeout=timeout, proxy=self._proxy_for(url)
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:  # aiohttp's timeouts are TimeoutErrors
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc


@lru_cache(maxsize=64)
def _timeout(
    read: float | None, write: float | None, connect: float | None, pool: float | None
) -> aiohttp.ClientTimeout:
    """aiohttp has no separate write timeout: a request must be sent and answered within write +
    read (httpx's are per operation, which a healthy request meets the same way); connecting
    includes waiting for a free connection of the pool."""
    return aiohttp.ClientTimeout(
        total=None if read is None or write is None else read + write,
        connect=None if connect is None or pool is None else connect + pool,
        sock_connect=connect,
        sock_read=read,
    )


@lru_cache(maxsize=256)
def _server_of(url: str) -> tuple[Server | None, str]:
    """The server a URL names and the request target on it; no server for what is not plain http(s)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        return None, ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Server(parts.scheme, parts.hostname, port), target


def _form(request_data: RequestData) -> aiohttp.FormData:
    form = aiohttp.FormData(quote_fields=False)
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename or name, content_type=mimetype)
    return form
