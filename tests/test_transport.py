"""Bot API requests on kept-alive connections (bot/keepalive.py, through bot/transport.py).

Each test runs a small HTTP server on loopback that answers as a Bot API server would, or fails the
way servers and networks fail, and calls it through `AiohttpRequest.post`, PTB's request interface:
what a handler's request goes through. Every other test of the suite talks to the sandbox the same way.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from telegram.error import NetworkError, RetryAfter, TimedOut

from bot.transport import AiohttpRequest
from tests.http_server import OK, Server, answer


@pytest_asyncio.fixture
async def request_() -> AsyncIterator[AiohttpRequest]:
    request = AiohttpRequest(read_timeout=2.0, write_timeout=1.0, connect_timeout=2.0)
    await request.initialize()
    yield request
    await request.shutdown()


async def test_requests_share_one_connection_and_send_json(serve, request_: AiohttpRequest):
    server = await serve(lambda n, _: answer(b'{"ok":true,"result":%d}' % n))
    results = [await request_.post(f"{server.url}/answerCallbackQuery") for _ in range(3)]
    assert results == [1, 2, 3] and server.connections == 1
    head, body = server.requests[0].split(b"\r\n\r\n", 1)
    assert head.startswith(b"POST /bot123:abc/answerCallbackQuery HTTP/1.1\r\n") and body == b""
    assert b"Content-Type: application/json" in head and b"Host: 127.0.0.1:" in head


async def test_an_idle_connection_the_server_closed_is_replaced_without_losing_the_request(
    serve, request_: AiohttpRequest
):
    server = await serve(lambda n, _: answer() if n != 2 else None)  # the 2nd request finds it closed
    assert await request_.post(f"{server.url}/getMe") is True
    assert await request_.post(f"{server.url}/getMe") is True  # sent again, on a new connection
    assert server.connections == 2 and len(server.requests) == 3


async def test_an_answer_broken_off_is_a_network_error_and_not_sent_again(serve, request_: AiohttpRequest):
    broken = answer(close=True)[:-5]  # the head and part of the body, then the server hangs up
    server = await serve(lambda n, _: answer() if n == 1 else broken)
    assert await request_.post(f"{server.url}/getMe") is True
    with pytest.raises(NetworkError):
        await request_.post(f"{server.url}/sendMessage")  # on the kept connection: it may have been acted on
    assert len(server.requests) == 2


async def test_a_server_that_never_answers_times_out(serve):
    server = await serve(lambda n, _: b"")  # reads the request, says nothing
    request = AiohttpRequest(read_timeout=0.2, write_timeout=0.1, connect_timeout=1.0)
    await request.initialize()
    try:
        with pytest.raises(TimedOut):
            await request.post(f"{server.url}/sendMessage")
    finally:
        await request.shutdown()


async def test_a_refused_connection_is_a_network_error(request_: AiohttpRequest):
    listening = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    listening.close()
    await listening.wait_closed()
    with pytest.raises(NetworkError):
        await request_.post(f"http://127.0.0.1:{port}/bot123:abc/getMe")


async def test_chunked_answers_errors_and_connection_close_are_read(serve, request_: AiohttpRequest):
    chunked = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"a\r\n" + OK[:10] + b"\r\n" + b"%x\r\n" % len(OK[10:]) + OK[10:] + b"\r\n0\r\n\r\n"
    )
    retry = json.dumps(
        {"ok": False, "error_code": 429, "description": "Too Many Requests", "parameters": {"retry_after": 3}}
    ).encode()

    def respond(n: int, _: bytes) -> bytes:
        return {1: chunked, 2: answer(retry, status="429 Too Many Requests"), 3: answer(close=True)}.get(n, answer())

    server = await serve(respond)
    assert await request_.post(f"{server.url}/getMe") is True
    with pytest.raises(RetryAfter) as raised:
        await request_.post(f"{server.url}/sendMessage")
    assert "retry" in str(raised.value).lower()
    assert await request_.post(f"{server.url}/getMe") is True  # answered with Connection: close
    assert await request_.post(f"{server.url}/getMe") is True  # so this one opens a new connection
    assert server.connections == 2


async def test_a_server_whose_certificate_is_not_trusted_is_refused(tmp_path, request_: AiohttpRequest):
    """The token travels in every request's path: a TLS server the system's authorities do not vouch
    for (here self-signed) gets no request, whichever client would send it."""
    import datetime as dt
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server = Server(lambda n, _: answer())
    listening = await asyncio.start_server(server.handle, "127.0.0.1", 0, ssl=context)
    port = listening.sockets[0].getsockname()[1]
    try:
        with pytest.raises(NetworkError, match=r"(?i)certificate"):  # a JSON call: the kept-alive connections
            await request_.post(f"https://localhost:{port}/bot123:abc/getMe")
        with pytest.raises(NetworkError, match=r"(?i)certificate"):  # a GET (a file's download): aiohttp
            await request_.retrieve(f"https://localhost:{port}/file/bot123:abc/photo.png")
    finally:
        listening.close()
    assert server.requests == []
