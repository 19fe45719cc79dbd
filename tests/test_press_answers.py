"""Button presses answered from callbacks, on connections of their own (bot/press_answers.py).

Each test runs a small HTTP server on loopback (tests/http_server.py) that answers as a Bot API
server would, or fails the way servers and networks fail, byte by byte; the lane's place in the
bot (a vote press answered through the sandbox, and when Telegram fails it) is in
tests/test_decisions.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import pytest_asyncio
from telegram import Bot

from bot.press_answers import ATTEMPTS, CONNECTIONS, PressAnswers
from bot.transport import AiohttpRequest
from tests.http_server import Server, answer

SETTLE_S = 30.0  # a generous bound on what should take milliseconds: a hang fails, a slow machine does not


def body_of(request: bytes) -> dict:
    return json.loads(request.split(b"\r\n\r\n", 1)[1])


def error(code: int, description: str, **parameters: int) -> bytes:
    said = {"ok": False, "error_code": code, "description": description}
    if parameters:
        said["parameters"] = parameters
    return answer(json.dumps(said).encode(), status=f"{code} Error")


@pytest_asyncio.fixture
async def lane() -> AsyncIterator[Callable[..., Awaitable[PressAnswers]]]:
    """A lane for a test server's bot; closed (after its answers) at the end."""
    made: list[tuple[PressAnswers, AiohttpRequest]] = []

    async def make(server: Server, **options: float) -> PressAnswers:
        request = AiohttpRequest(connect_timeout=2.0, read_timeout=2.0, write_timeout=1.0)
        await request.initialize()
        base, token = server.url.rsplit("/bot", 1)
        answers = PressAnswers(Bot(token, base_url=f"{base}/bot", request=request), **options)
        made.append((answers, request))
        return answers

    yield make  # type: ignore[misc]
    for answers, request in made:
        await answers.close(wait_s=SETTLE_S)
        await request.shutdown()


async def settled(answers: PressAnswers) -> None:
    """Until nothing is under way (a test that hangs here fails at SETTLE_S)."""
    async with asyncio.timeout(SETTLE_S):
        while answers.under_way:  # noqa: ASYNC110 (the lane has no event to wait on, by design)
            await asyncio.sleep(0.01)


async def test_answers_go_as_json_on_kept_connections(serve, lane):
    server = await serve(lambda n, _: answer())
    answers = await lane(server)
    answers.answer("q1", "Your voice: agree.")
    await settled(answers)
    answers.answer("q2", "This button is no longer valid.", alert=True)
    await settled(answers)
    assert answers.sent == 2 and answers.failed == 0
    assert server.connections == 1  # the second answer went on the first one's connection
    head = server.requests[0].split(b"\r\n\r\n", 1)[0]
    assert head.startswith(b"POST /bot123:abc/answerCallbackQuery HTTP/1.1\r\n")
    assert b"Content-Type: application/json" in head
    assert body_of(server.requests[0]) == {"callback_query_id": "q1", "text": "Your voice: agree."}
    assert body_of(server.requests[1]) == {
        "callback_query_id": "q2",
        "text": "This button is no longer valid.",
        "show_alert": True,
    }


async def test_a_burst_opens_no_more_than_its_connections(serve, lane):
    server = await serve(lambda n, _: answer())
    answers = await lane(server)
    for n in range(5 * CONNECTIONS):
        answers.answer(f"q{n}", "ok")
    await settled(answers)
    assert answers.sent == 5 * CONNECTIONS
    assert 1 < server.connections <= CONNECTIONS
    assert sorted(body_of(r)["callback_query_id"] for r in server.requests) == sorted(
        f"q{n}" for n in range(5 * CONNECTIONS)
    )


async def test_a_kept_connection_the_server_closed_is_replaced_without_losing_the_answer(serve, lane):
    server = await serve(lambda n, _: answer() if n != 2 else None)  # hangs up on the 2nd request
    answers = await lane(server)
    answers.answer("q1")
    await settled(answers)
    answers.answer("q2")
    await settled(answers)
    assert answers.sent == 2 and answers.failed == 0
    assert server.connections == 2
    assert [body_of(r)["callback_query_id"] for r in server.requests] == ["q1", "q2", "q2"]


async def test_a_429_is_tried_again_after_retry_after(serve, lane):
    server = await serve(
        lambda n, _: error(429, "Too Many Requests: retry after 1", retry_after=1) if n == 1 else answer()
    )
    answers = await lane(server)
    answers.answer("q1", "ok")
    await settled(answers)
    assert answers.sent == 1 and answers.failed == 0
    assert [body_of(r)["callback_query_id"] for r in server.requests] == ["q1", "q1"]


async def test_a_failing_server_gets_a_few_tries_then_the_answer_is_given_up(serve, lane, caplog):
    server = await serve(lambda n, _: error(502, "Bad Gateway"))
    answers = await lane(server, retry_s=0.01)
    with caplog.at_level(logging.WARNING):
        answers.answer("q1", "ok")
        await settled(answers)
    assert answers.sent == 0 and answers.failed == 1
    assert len(server.requests) == ATTEMPTS
    assert any("could not be answered" in r.getMessage() for r in caplog.records)


async def test_an_answer_broken_off_is_tried_again(serve, lane):
    broken = answer(close=True)[:-5]  # the head and part of the body, then the server hangs up
    server = await serve(lambda n, _: broken if n == 1 else answer())
    answers = await lane(server, retry_s=0.01)
    answers.answer("q1")
    await settled(answers)
    assert answers.sent == 1 and len(server.requests) == 2


async def test_a_press_too_old_to_answer_is_not_tried_again(serve, lane, caplog):
    too_old = "Bad Request: query is too old and response timeout expired or query ID is invalid"
    server = await serve(lambda n, _: error(400, too_old))
    answers = await lane(server)
    with caplog.at_level(logging.INFO):
        answers.answer("q1", "ok")
        await settled(answers)
    assert answers.failed == 1 and len(server.requests) == 1
    assert any("too old to answer" in r.getMessage() for r in caplog.records)


async def test_a_server_that_never_answers_is_given_up_and_its_connection_closed(serve, lane, caplog):
    server = await serve(lambda n, _: b"" if n == 1 else answer())  # reads the first request, says nothing
    answers = await lane(server, answer_s=0.2)
    with caplog.at_level(logging.WARNING):
        answers.answer("q1")
        await settled(answers)
    assert answers.failed == 1
    assert any("did not answer" in r.getMessage() for r in caplog.records)
    answers.answer("q2")  # on a new connection: the silent one is closed
    await settled(answers)
    assert answers.sent == 1 and server.connections == 2


async def test_an_unreachable_server_costs_each_answer_its_tries_and_nothing_more(lane, caplog):
    listening = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    listening.close()
    await listening.wait_closed()
    nowhere = Server(lambda n, _: answer(), url=f"http://127.0.0.1:{port}/bot123:abc")
    answers = await lane(nowhere, retry_s=0.01)
    with caplog.at_level(logging.WARNING):
        answers.answer("q1")
        answers.answer("q2")
        await settled(answers)
    assert answers.sent == 0 and answers.failed == 2
    assert any("could not be reached" in r.getMessage() for r in caplog.records)


async def test_closing_waits_for_the_answers_under_way(serve, lane):
    server = await serve(lambda n, _: answer())
    answers = await lane(server)
    for n in range(20):
        answers.answer(f"q{n}")
    await answers.close(wait_s=SETTLE_S)
    assert answers.sent == 20 and len(server.requests) == 20


async def test_behind_a_proxy_answers_go_through_ptb(serve, lane, monkeypatch):
    """A proxy named by the environment (HTTP_PROXY) is used as PTB's requests use it: the lane's
    own connections would bypass it."""
    server = await serve(lambda n, _: answer())
    monkeypatch.setenv("http_proxy", server.url.rsplit("/bot", 1)[0])
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    answers = await lane(server)
    answers.answer("q1", "ok")
    await settled(answers)
    assert answers.sent == 1
    request_line = server.requests[0].split(b"\r\n", 1)[0]
    assert request_line.startswith(b"POST http://127.0.0.1:")  # the absolute form a proxy gets
    assert body_of(server.requests[0])["callback_query_id"] == "q1"


@pytest.mark.parametrize("alert", [False, True])
async def test_an_answer_without_text_sends_only_the_query(serve, lane, alert):
    server = await serve(lambda n, _: answer())
    answers = await lane(server)
    answers.answer("q1", None, alert=alert)
    await settled(answers)
    expected = {"callback_query_id": "q1"} | ({"show_alert": True} if alert else {})
    assert body_of(server.requests[0]) == expected
