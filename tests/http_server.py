"""A small HTTP/1.1 server on loopback that answers as a Bot API server would, or fails the way
servers and networks fail: for the tests of the bot's own connections (bot/keepalive.py,
bot/press_answers.py), whose failures the sandbox cannot stage byte by byte. Its fixture, `serve`,
is in conftest.py."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

OK = b'{"ok":true,"result":true}'


def answer(body: bytes = OK, *, status: str = "200 OK", close: bool = False) -> bytes:
    connection = b"Connection: close\r\n" if close else b""
    return b"HTTP/1.1 %s\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\n\r\n%s" % (
        status.encode(),
        connection,
        len(body),
        body,
    )


@dataclass
class Server:
    """Reads each request whole, then does what `respond` says with the connection."""

    respond: Callable[[int, bytes], bytes | None]  # (request number, request) -> bytes to send, None: hang up
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)
    url: str = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                reply = self.respond(len(self.requests), request)
                if reply is None:
                    break
                writer.write(reply)
                await writer.drain()
                if b"Connection: close" in reply:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
