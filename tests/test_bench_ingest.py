"""The ingest benchmark's harness, run small: it seeds, feeds, measures and reports (figures unchecked).

Speed is never asserted in a test (docs/benchmarks.md); this checks that `asamblea bench ingest`
works end to end, that every update fed was handled without an error, and that what the bot was
meant to write is there: one demand per submission, voices for the presses.
"""

from __future__ import annotations

from benchmarks import ingest


async def test_a_small_ingest_run_handles_every_update_and_reports(tmp_path):
    options = {"warmup": 4, "rate": 200.0, "cache": tmp_path / "cache"}
    first = await ingest.measure(12, 240, 3, 30, **options)
    assert "error" not in first, first
    for key in ("updates_per_s", "p50_ms", "p99_ms", "echo_updates_per_s", "ratio"):
        assert first[key] is not None and first[key] > 0, key
    assert first["errors"] == first["echo_errors"] == 0
    assert first["demands_recorded"] == first["demands_fed"] > 0
    assert first["voices_recorded"] > 0
    assert set(first["phases"]) == set(first["echo_phases"]) == {"warmup", "throughput", "latency"}
    assert first["phases"]["latency"]["updates"] == 30
    assert first["seeded_from_cache"] is False

    # The seeded database is reused when the parameters are the same.
    second = await ingest.measure(12, 240, 3, 10, echo=False, **options)
    assert second["seeded_from_cache"] is True
    assert second["demands_recorded"] == second["demands_fed"]
    assert second["echo_updates_per_s"] is None
