"""Councils read the spread through the bot: /spread, /digest, and digests on a schedule under the
demo's fake clock, including one missed while the bot was down (sent once, late, marked late)."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from bot.clock import ReplayClock
from domain.messages import message_parts
from tests.movement import Movement
from tests.test_calls import approved_region

ALMATY = ZoneInfo("Asia/Almaty")
START = datetime(2022, 1, 3, 7, 30, tzinfo=ALMATY).timestamp()


def almaty(day: int, hour: int, minute: int = 0) -> float:
    return datetime(2022, 1, day, hour, minute, tzinfo=ALMATY).timestamp()


@pytest.fixture
def clock() -> ReplayClock:
    """The demo's clock: a minute a second, and jumps over the hours nothing happens in."""
    return ReplayClock(START, speed=60.0)


@pytest.fixture
def config_changes() -> dict[str, dict]:
    return {"digests": {"every_hours": 0, "daily_at": ["08:00"]}}


async def digests_in(movement: Movement, chat: int) -> list[dict]:
    return [m for m in await movement.client.messages(chat) if "📰 Digest" in (m.get("text") or m.get("caption") or "")]


def body(message: dict) -> str:
    return message.get("text") or message.get("caption") or ""


async def test_spread_answers_with_a_chart_in_a_council_only(movement: Movement):
    council, admin = await movement.council("kz")
    _m, _, [(zhanaozen, z_admin)] = await approved_region(movement, "mangystau", ["Zhanaozen oil workers"])
    await movement.say(zhanaozen, z_admin, "/status strike")
    answer = await movement.say(council, admin, "/spread")
    assert answer["caption"] == "The spread: 1 committee on strike in 1 region."
    png = await movement.client.photo(answer["photo"][-1]["file_id"])
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        image.load()

    before = await movement.rows()
    refused = await movement.say(zhanaozen, z_admin, "/spread")
    assert "work in a council's chat" in refused["text"]
    refused = await movement.say(zhanaozen, z_admin, "/digest")
    assert "work in a council's chat" in refused["text"]
    assert await movement.rows() == before


async def test_digest_on_demand_reports_what_changed_since_the_last(movement: Movement, clock: ReplayClock):
    clock.jump_to(almaty(3, 9))  # after the day's scheduled digest: only asked-for ones here
    council, admin = await movement.council("kz")
    _mangystau, _, [(zhanaozen, z_admin), (aktau, a_admin)] = await approved_region(
        movement, "mangystau", ["Zhanaozen oil workers", "Aktau port workers"]
    )
    waiting_admin = await movement.person("Karaganda admin")
    waiting = await movement.group("Temirtau miners", waiting_admin)
    await movement.say(waiting, waiting_admin, "/register karaganda workplace Temirtau miners")
    since = await movement.client.seq()
    await movement.call(zhanaozen, z_admin, "/strike now | at the gates | Gas at 50 tenge | region")
    copy = await movement.client.wait_for_text(aktau, "Strike call", since=since)
    await movement.press(aktau, a_admin, copy, "✅ We join")
    await movement.say(zhanaozen, z_admin, "/status strike")
    await movement.drained()

    since = await movement.client.seq()
    await movement.client.send(council, admin["id"], "/digest")
    digest = await movement.client.wait_for_text(council, "📰 Digest for Coordinating council", since=since)
    text = body(digest)
    assert digest.get("photo"), "a short digest rides on the chart"
    assert "On strike: 2 committees in 1 region." in text
    assert "Regions newly on strike:\n• Mangystau Region, since" in text
    assert "📢 Calls (1)" in text and "1 join, 0 can't, 0 undecided" in text
    assert "Waiting for approval: 1: Temirtau miners (Karaganda Region)" in text
    assert "New: 2: " in text

    clock.jump_to(clock.time() + 3 * 3600)
    await movement.say(aktau, a_admin, "/status work")
    await movement.drained()
    since = await movement.client.seq()
    await movement.client.send(council, admin["id"], "/digest")
    second = body(await movement.client.wait_for_text(council, "📰 Digest", since=since))
    assert "Since the last digest: 0 joined, 1 back at work, 0 suppressed." in second
    assert "Regions newly on strike" not in second and "New: " not in second
    assert await movement.query("SELECT slot, late FROM digests") == [(None, 0), (None, 0)]


async def test_scheduled_digests_arrive_once_and_a_missed_one_late_once(movement: Movement, clock: ReplayClock):
    council, _admin = await movement.council("kz")
    mangystau, _, [(zhanaozen, z_admin)] = await approved_region(movement, "mangystau", ["Zhanaozen oil workers"])
    await movement.say(zhanaozen, z_admin, "/status strike")
    await movement.drained()

    clock.jump_to(almaty(3, 8, 1))  # past the 08:00 slot: the alarm rings
    first = await movement.client.wait_for_text(council, "📰 Digest", since=0, timeout=30)
    await movement.client.wait_for_text(mangystau, "📰 Digest for Mangystau regional council", since=0, timeout=30)
    assert "⏰ Late" not in body(first)
    assert "Mangystau Region, since" in body(first)

    # The bot is down across the next two slots; at its start, one digest, marked late.
    restarted = await movement.restart(clock, before_start=lambda: clock.jump_to(almaty(5, 11)))
    late = await movement.client.wait_for_text(council, "⏰ Late", since=first["seq"], timeout=30)
    assert "this digest was due at Jan 5, 08:00" in body(late)
    await movement.drained()
    assert len(await digests_in(movement, council)) == 2
    rows = await movement.query("SELECT council_id, slot, late FROM digests ORDER BY id")
    slots = {slot for _c, slot, _l in rows}
    assert slots == {int(almaty(3, 8)), int(almaty(5, 8))}
    assert sorted(late for _c, slot, late in rows if slot == int(almaty(5, 8))) == [1, 1]  # both councils, once
    assert [job.name for job in restarted.job_queue.jobs() if job.name == "digest"] == ["digest"]


def test_a_long_digest_is_cut_between_lines_within_telegrams_limit():
    lines = [f"• line {n} " + "x" * 90 for n in range(120)]
    parts = message_parts("\n".join(["📰 Digest", "", *lines, "", "📋 end"]))
    assert len(parts) > 1
    assert all(len(part) <= 4096 for part in parts)
    assert "\n".join(parts).replace("\n\n", "\n") == "\n".join(["📰 Digest", *lines, "📋 end"])
    assert all(not part.startswith("\n") and part.strip() for part in parts)
    assert message_parts("y" * 5000) == ["y" * 4096, "y" * 904]
    # Telegram counts UTF-16 code units: an emoji is two of them.
    emoji = message_parts("\n".join(["📮" * 100] * 30))
    assert all(len(part.encode("utf-16-le")) <= 2 * 4096 for part in emoji) and len(emoji) == 2
