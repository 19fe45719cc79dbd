"""The flood benchmark, run short: it sets up, floods, measures and reports (figures unchecked).

Speed is never asserted in a test (docs/benchmarks.md); this checks that `asamblea bench flood`
works end to end, that every regular got answers, and that what it reports adds up: each flood
message was answered or dropped, and a flooder was told at most once a minute.
"""

from __future__ import annotations

import json

from benchmarks import flood


def test_a_short_flood_run_answers_the_regulars_and_reports(capsys):
    status = flood.main(per_minute=600, seconds=6)
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert status == 0, result
    assert "error" not in result, result
    assert result["benchmark"] == "flood" and (result["per_minute"], result["seconds"]) == (600, 6)
    assert result["others_actions"] > 0 and result["others_unanswered"] == 0
    for key in ("p50_ms", "p95_ms", "p99_ms", "max_ms"):
        assert isinstance(result[key], float) and result[key] > 0, key
    # Six seconds: every kind of regular has had its first turn (the latest is B's commands, at 5 s).
    assert set(result["by_where"]) == {"A: commands", "A: presses", "B: commands", "B: presses", "private"}
    assert set(result["floods"]) == {"group", "private"}
    for outcome in result["floods"].values():
        assert outcome["sent"] > 0 and outcome["answered"] > 0
        assert outcome["answered"] + outcome["dropped"] == outcome["sent"]
        assert outcome["told"] == 1  # six seconds: one notice per flooder
    assert result["flood_dropped"] == sum(outcome["dropped"] for outcome in result["floods"].values()) > 0
    assert isinstance(result["outbound_429"], int) and isinstance(result["met"], bool)
    assert result["targets"] == {"p95_ms": 2000.0, "outbound_429": 0}
    assert result["machine"]["cpu_count"] >= 1
