"""The digest benchmark, run small: it seeds, builds the digest and the chart, and reports (figures unchecked).

Speed is never asserted in a test (docs/benchmarks.md); this checks that `asamblea bench digest`
works end to end, that its last line of stdout is the result with sane values, and that the
digest it built speaks of the regions on strike.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from benchmarks import digest
from benchmarks.harness import EXAMPLE_CONFIG
from bot.config import load_config


def test_a_small_digest_run_builds_the_digest_and_the_chart_and_reports(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    status = digest.main(300, 2_000, 30, seed=3, keep=True, runs=2)
    out = capsys.readouterr().out.strip().splitlines()
    assert status == 0
    result = json.loads(out[-1])
    workdir = Path(result["workdir"])
    try:
        assert "error" not in result, result
        assert result["benchmark"] == "digest"
        assert (result["committees"], result["demands"], result["calls"]) == (300, 2_000, 30)
        for key in ("digest_s", "chart_s", "total_s", "rss_mb"):
            assert isinstance(result[key], float) and result[key] > 0, key
        assert result["total_s"] >= max(result["digest_s"], result["chart_s"])
        assert len(result["runs"]) == 2
        assert result["targets"] == {"total_s": 1.0, "rss_mb": 200}
        assert isinstance(result["met"], bool)
        assert result["machine"]["cpu_count"] >= 1
        rows = result["rows"]
        assert rows["committees"] == 300 and rows["demands"] == 2_000 and rows["calls"] == 30
        assert result["reports"] == rows["strike_status"] > rows["active_committees"] / 2
        assert rows["call_deliveries"] > rows["call_answers"] > 0
        assert rows["demand_support"] > 0 and rows["most_backers"] > 1
        assert result["seeded_from_cache"] is False

        # The digest names every region on strike, in the council's language, with its count.
        federation = load_config(EXAMPLE_CONFIG).federation
        text = (workdir / "digest.txt").read_text(encoding="utf-8")
        assert result["on_strike"] == sum(result["on_strike_by_region"].values()) > 0
        assert list(result["on_strike_by_region"]) == result["regions_on_strike"]
        assert "📰" in text and "✊" in text and "📢" in text and "📋" in text
        for region, count in result["on_strike_by_region"].items():
            name = federation.regions[region].display_name(result["language"])
            assert re.search(rf"{re.escape(name)} {count}(?!\d)", text), region
        assert (workdir / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    # A second run with the same parameters copies the seeded database from the cache.
    assert digest.main(300, 2_000, 30, seed=3, runs=1) == 0
    again = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert again["seeded_from_cache"] is True
    assert again["reports"] == result["reports"] and again["on_strike"] == result["on_strike"]
    assert "workdir" not in again
