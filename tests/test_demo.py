"""`asamblea demo` runs through to the end: what the README's first command shows works."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.demo import run_demo


async def test_the_demo_plays_registrations_calls_answers_and_verification(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    assert await run_demo(tmp_path) == 0
    shown = capsys.readouterr().out
    for step in (
        "is now the",
        "Strike call",
        "Head count: 300",
        "Rally call",
        "✅ Genuine",
        "❌ Unknown code",
        "📝",
        "is the same as demand #1",
        "#2 rises to this council",
        "adopted demand #1 into the common programme",
        "#2 (adopted into the programme; committees 3, regions 2)",
    ):
        assert step in shown, step
