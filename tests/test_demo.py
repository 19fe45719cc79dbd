"""`asamblea demo` runs through to the end: what the README's first command shows works.

The demo replays the Mangistau spread of January 2022; its digests must show the regions joining
in the order of SPEC §1, and the chart it writes must be a PNG that opens.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from bot.demo import run_demo

# SPEC §1: Mangystau (2–3 Jan), Atyrau (3 Jan), Aktobe / West Kazakhstan / Kyzylorda (4 Jan),
# Karaganda (evening of 4 Jan), the north and east (5 Jan).
ORDER = (
    "• Mangystau Region, since",
    "• Atyrau Region, since",
    "• Aktobe Region, since",
    "• Karaganda Region, since",
    "• North Kazakhstan Region, since",
)


async def test_the_demo_replays_the_mangistau_spread(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert await run_demo(tmp_path) == 0
    shown = capsys.readouterr().out
    for step in (
        "committees active in 17 regions",
        "📣 Strike call",
        "has joined the strike",
        "✊ Solidarity appeal",
        "📰 Digest for Coordinating council",
        "rally from Kazakhstan",
        "✅ Genuine",
        "❌ Unknown code",
        "is the same as demand #1",
        "adopted demand #1 into the common programme",
        "#2 (adopted into the programme; committees 3, regions 2)",
    ):
        assert step in shown, step
    positions = [shown.find(line) for line in ORDER]
    assert all(p >= 0 for p in positions), dict(zip(ORDER, positions, strict=True))
    assert positions == sorted(positions)
    chart = tmp_path / "spread.png"
    assert f"The spread chart: {chart.resolve()}" in shown
    with Image.open(chart) as image:
        assert image.format == "PNG"
        image.load()
        assert image.width >= 800
