"""The broadcast crash test of the calls issue, still holding with the durable inbox (issue 6,
part 9): `asamblea bench crash` run short, through `asamblea run` and the sandbox as processes.

`asamblea bench crash` kills the bot 20 times during a 500-chat broadcast (docs/benchmarks.md);
here 6 times during a 150-chat one, so that it stays about half a minute. Nothing is timed: the
counts are read once the broadcast is through.
"""

from __future__ import annotations

import json

from benchmarks import crash

KILLS = 6


def test_killed_during_a_broadcast_no_committee_misses_the_call(capsys):
    status = crash.main(chats=150, kills=KILLS, seed=7)
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert status == 0, result
    assert "error" not in result, result
    assert 1 <= result["kills"] <= KILLS  # a broadcast that completes early takes no more kills
    assert result["lost"] == 0, result
    # Only a copy in flight at a kill can come twice (docs/delivery.md); SPEC §5: no more than the kills.
    assert result["duplicates"] <= result["kills"], result
    assert result["retry_after_429"] == 0, result
