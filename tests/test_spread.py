"""The spread of the strike from committees' status reports: plain rules, no Telegram, no database."""

from __future__ import annotations

import random
from datetime import datetime
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.spread import (
    RegionEpisode,
    StatusReport,
    StrikeStatus,
    changes_between,
    first_joins,
    region_episodes,
    region_joins_with,
    series,
    snapshot,
    solidarity_targets,
    statuses_at,
    time_to_join,
)

ON, BACK, SUPPRESSED = StrikeStatus.ON_STRIKE, StrikeStatus.BACK_AT_WORK, StrikeStatus.SUPPRESSED
HOUR = 3600
DAY = 24 * HOUR


class History:
    """Reports written the way the table gets them: each new report takes the next row id."""

    def __init__(self) -> None:
        self.reports: list[StatusReport] = []

    def add(self, committee: int, region: str, status: StrikeStatus, since: int) -> StatusReport:
        report = StatusReport(committee, region, status, since, len(self.reports) + 1)
        self.reports.append(report)
        return report


def on_strike_by_region(reports: list[StatusReport], moment: int) -> dict[str, int]:
    """The slow, obvious count the sweeps must agree with."""
    region_of: dict[int, str] = {}
    for report in sorted(reports, key=lambda r: (r.since, r.order)):
        if report.since <= moment:
            region_of[report.committee_id] = report.region
    counts: dict[str, int] = {}
    for committee, status in statuses_at(reports, moment).items():
        if status is ON:
            counts[region_of[committee]] = counts.get(region_of[committee], 0) + 1
    return counts


def joins_one_by_one(reports: list[StatusReport]) -> list[tuple[str, StatusReport]]:
    """Replays reports in time order as they would be recorded, noting which bring a region out."""
    joined = []
    seen: list[StatusReport] = []
    for report in sorted(reports, key=lambda r: (r.since, r.order)):
        before = statuses_at(seen, report.since)
        if region_joins_with(before, {r.committee_id: r.region for r in seen}, report):
            joined.append((report.region, report))
        seen.append(report)
    return joined


# -- statuses -------------------------------------------------------------------------------------


def test_a_committee_without_reports_has_no_status():
    history = History()
    history.add(1, "mangystau", ON, 100)
    assert statuses_at(history.reports, 99) == {}
    assert statuses_at(history.reports, 100) == {1: ON}


def test_out_of_order_reports_count_from_their_since():
    history = History()
    history.add(1, "atyrau", BACK, 10 * DAY)  # reported first ...
    history.add(1, "atyrau", ON, 8 * DAY)  # ... then "we have been on strike since two days before"
    assert statuses_at(history.reports, 9 * DAY) == {1: ON}
    assert statuses_at(history.reports, 10 * DAY) == {1: BACK}
    assert region_episodes(history.reports) == {"atyrau": [RegionEpisode("atyrau", 8 * DAY, 10 * DAY)]}
    # Reversing the list the reports come in changes nothing.
    assert region_episodes(list(reversed(history.reports))) == region_episodes(history.reports)


def test_ties_on_since_go_to_the_later_report():
    history = History()
    history.add(1, "aktobe", ON, 5 * DAY)
    history.add(1, "aktobe", SUPPRESSED, 5 * DAY)  # corrected for the same moment
    assert statuses_at(history.reports, 5 * DAY) == {1: SUPPRESSED}
    assert statuses_at(list(reversed(history.reports)), 5 * DAY) == {1: SUPPRESSED}
    # The region was never on strike at any moment: the correction leaves no episode.
    assert region_episodes(history.reports) == {}
    assert changes_between(history.reports, 0, 6 * DAY).committees_joined == 0


def test_a_report_for_later_does_not_count_yet():
    history = History()
    history.add(1, "karaganda", ON, 4 * DAY)
    history.add(1, "karaganda", BACK, 6 * DAY)  # announced ahead
    assert snapshot(history.reports, 5 * DAY).on_strike == {"karaganda": 1}
    assert snapshot(history.reports, 6 * DAY).on_strike == {}


def test_plain_strings_from_the_database_become_statuses():
    report = StatusReport(1, "atyrau", "on_strike", 0, 1)  # type: ignore[arg-type]
    assert report.status is ON
    with pytest.raises(ValueError):
        StatusReport(1, "atyrau", "striking", 0, 1)  # type: ignore[arg-type]


# -- regions joining and leaving ------------------------------------------------------------------


def test_a_region_joins_with_its_first_committee_only():
    history = History()
    first = history.add(1, "mangystau", ON, 1 * DAY)
    second = history.add(2, "mangystau", ON, 2 * DAY)
    assert region_joins_with({}, {}, first)
    assert not region_joins_with({1: ON}, {1: "mangystau"}, second)
    # A committee on strike in another region does not keep this one from joining.
    assert region_joins_with({7: ON}, {7: "atyrau"}, first)
    # Going back to work or being suppressed never brings a region out.
    assert not region_joins_with({}, {}, StatusReport(3, "atyrau", BACK, 0, 9))
    assert not region_joins_with({}, {}, StatusReport(3, "atyrau", SUPPRESSED, 0, 9))
    assert region_episodes(history.reports) == {"mangystau": [RegionEpisode("mangystau", DAY, None)]}
    assert joins_one_by_one(history.reports) == [("mangystau", first)]


def test_a_region_rejoins_after_its_committees_went_back():
    history = History()
    history.add(1, "mangystau", ON, 1 * DAY)
    history.add(2, "mangystau", ON, 2 * DAY)
    history.add(2, "mangystau", SUPPRESSED, 3 * DAY)  # one is left out
    history.add(1, "mangystau", BACK, 4 * DAY)  # it goes back, and at the same moment ...
    history.add(3, "mangystau", ON, 4 * DAY)  # ... another one comes out
    history.add(3, "mangystau", BACK, 5 * DAY)  # the last one out goes back: the region leaves
    again = history.add(2, "mangystau", ON, 7 * DAY)
    assert region_episodes(history.reports) == {
        "mangystau": [
            RegionEpisode("mangystau", 1 * DAY, 5 * DAY),
            RegionEpisode("mangystau", 7 * DAY, None),
        ]
    }
    # Through the moment one committee went back as another came out, the region stayed out.
    assert snapshot(history.reports, 4 * DAY).regions_on_strike == ("mangystau",)
    assert snapshot(history.reports, 4 * DAY).on_strike == {"mangystau": 1}
    assert changes_between(history.reports, 3 * DAY, 4 * DAY).regions_left == ()
    assert changes_between(history.reports, 3 * DAY, 6 * DAY).regions_left == (("mangystau", 5 * DAY),)
    assert changes_between(history.reports, 6 * DAY, 7 * DAY).regions_joined == (("mangystau", 7 * DAY),)
    assert region_joins_with(statuses_at(history.reports[:-1], 7 * DAY), {1: "mangystau", 2: "mangystau"}, again)
    # first_joins is about the first episode only.
    assert first_joins(history.reports) == {"mangystau": 1 * DAY}


def test_suppression_ends_a_regions_strike():
    history = History()
    history.add(1, "zhanaozen", ON, 0)
    history.add(1, "zhanaozen", SUPPRESSED, 3 * DAY)
    change = changes_between(history.reports, 2 * DAY, 4 * DAY)
    assert change.regions_left == (("zhanaozen", 3 * DAY),)
    assert change.committees_suppressed == 1
    assert change.committees_back == 0
    assert snapshot(history.reports, 4 * DAY).suppressed == {"zhanaozen": 1}


def test_changes_between_reports_the_window_only():
    history = History()
    history.add(1, "mangystau", ON, 1 * DAY)
    history.add(2, "atyrau", ON, 2 * DAY)
    history.add(3, "atyrau", ON, 2 * DAY + HOUR)
    history.add(1, "mangystau", BACK, 3 * DAY)
    history.add(2, "atyrau", SUPPRESSED, 3 * DAY)
    history.add(4, "aktobe", BACK, 3 * DAY)  # back at work without having struck: not "back"
    history.add(5, "aktobe", ON, 4 * DAY)
    history.add(5, "aktobe", BACK, 4 * DAY + HOUR)
    history.add(5, "aktobe", ON, 4 * DAY + 2 * HOUR)  # out again: one committee joined, once

    change = changes_between(history.reports, 2 * DAY, 5 * DAY)  # (since, until]: 2 * DAY is out
    assert change.regions_joined == (("aktobe", 4 * DAY), ("aktobe", 4 * DAY + 2 * HOUR))
    assert change.regions_left == (("mangystau", 3 * DAY), ("aktobe", 4 * DAY + HOUR))
    assert change.committees_joined == 2  # 3 and 5
    assert change.committees_back == 2  # 1 and 5
    assert change.committees_suppressed == 1  # 2
    assert change.since == 2 * DAY and change.until == 5 * DAY

    at_edge = changes_between(history.reports, 1 * DAY, 2 * DAY)  # until is in
    assert at_edge.regions_joined == (("atyrau", 2 * DAY),)
    assert changes_between(history.reports, 5 * DAY, 5 * DAY).regions_joined == ()
    with pytest.raises(ValueError):
        changes_between(history.reports, 5 * DAY, 4 * DAY)


def test_snapshot_orders_regions_by_when_they_last_joined():
    history = History()
    history.add(1, "mangystau", ON, 1 * DAY)
    history.add(2, "atyrau", ON, 2 * DAY)
    history.add(1, "mangystau", BACK, 3 * DAY)
    history.add(3, "aktobe", ON, 4 * DAY)
    history.add(4, "mangystau", ON, 5 * DAY)  # back out: now the latest to join
    history.add(5, "mangystau", SUPPRESSED, 5 * DAY)
    history.add(6, "atyrau", ON, 5 * DAY)
    now = snapshot(history.reports, 6 * DAY)
    assert now.regions_on_strike == ("atyrau", "aktobe", "mangystau")
    assert now.on_strike == {"atyrau": 2, "aktobe": 1, "mangystau": 1}
    assert now.suppressed == {"mangystau": 1}
    assert now.committees_on_strike == 4
    assert now.at == 6 * DAY


def test_a_committee_that_moves_region_is_counted_in_its_new_one():
    history = History()
    history.add(1, "atyrau", ON, 1 * DAY)
    history.add(1, "aktobe", ON, 2 * DAY)  # re-registered in the right region, still on strike
    assert region_episodes(history.reports) == {
        "atyrau": [RegionEpisode("atyrau", DAY, 2 * DAY)],
        "aktobe": [RegionEpisode("aktobe", 2 * DAY, None)],
    }
    assert snapshot(history.reports, 3 * DAY).on_strike == {"aktobe": 1}
    assert changes_between(history.reports, DAY, 3 * DAY).committees_joined == 0


# -- solidarity -----------------------------------------------------------------------------------


def test_solidarity_goes_to_neighbours_not_on_strike():
    atyrau_neighbours = ["mangystau", "west-kazakhstan", "aktobe"]
    assert solidarity_targets(atyrau_neighbours, {"atyrau", "mangystau"}) == ("west-kazakhstan", "aktobe")
    # Not to the region itself, even if a config lists it; not to anyone who is not a neighbour.
    targets = solidarity_targets([*atyrau_neighbours, "atyrau"], {"atyrau", "karaganda"})
    assert targets == ("mangystau", "west-kazakhstan", "aktobe")
    assert "karaganda" not in targets and "almaty" not in targets
    # All neighbours already out: no appeal at all; no neighbours: none either.
    assert solidarity_targets(atyrau_neighbours, ["atyrau", *atyrau_neighbours]) == ()
    assert solidarity_targets([], {"atyrau"}) == ()


# -- Mangistau, January 2022 ----------------------------------------------------------------------

AQTAU = ZoneInfo("Asia/Aqtau")
NEIGHBOURS = {  # from config.example.toml
    "mangystau": ["atyrau", "aktobe"],
    "atyrau": ["mangystau", "west-kazakhstan", "aktobe"],
    "west-kazakhstan": ["atyrau", "aktobe"],
    "aktobe": ["mangystau", "atyrau", "west-kazakhstan", "kostanay", "karaganda", "kyzylorda"],
    "kyzylorda": ["aktobe", "karaganda", "turkistan"],
    "karaganda": [
        "aktobe", "kyzylorda", "kostanay", "akmola", "pavlodar", "east-kazakhstan", "almaty-region", "jambyl",
        "turkistan",
    ],
}  # fmt: skip


def at(day: int, hour: int) -> int:
    return int(datetime(2022, 1, day, hour, tzinfo=AQTAU).timestamp())


def mangistau() -> History:
    """The January 2022 spread as committees would have reported it, some of them late."""
    history = History()
    history.add(1, "mangystau", ON, at(2, 9))  # Zhanaozen, the fuel-price protest
    history.add(2, "mangystau", ON, at(3, 8))  # Aktau: the whole region out on 3 January
    history.add(3, "mangystau", ON, at(3, 8))
    history.add(11, "atyrau", ON, at(3, 16))
    history.add(12, "atyrau", ON, at(4, 7))  # Tengizchevroil oil workers
    history.add(31, "west-kazakhstan", ON, at(4, 11))
    history.add(21, "aktobe", ON, at(4, 10))  # reported after Uralsk, began an hour before
    history.add(41, "kyzylorda", ON, at(4, 12))
    history.add(51, "karaganda", ON, at(4, 19))  # ArcelorMittal Temirtau miners, in the evening
    history.add(52, "karaganda", ON, at(4, 20))  # Kazakhmys copper workers
    history.add(22, "aktobe", ON, at(4, 14))
    return history


def test_mangistau_regions_join_in_order():
    history = mangistau()
    joins = first_joins(history.reports)
    assert list(joins) == ["mangystau", "atyrau", "aktobe", "west-kazakhstan", "kyzylorda", "karaganda"]
    assert joins["mangystau"] == at(2, 9)
    assert joins["karaganda"] == at(4, 19)
    first_call = at(3, 8)  # the call for a general strike of the region
    delays = time_to_join(first_call, joins)
    assert delays["mangystau"] == 0  # out before the call
    assert delays["atyrau"] == 8 * HOUR
    assert delays["karaganda"] == DAY + 11 * HOUR
    now = snapshot(history.reports, at(4, 23))
    assert now.committees_on_strike == 11
    assert now.regions_on_strike == tuple(joins)


def test_mangistau_solidarity_appeals():
    history = mangistau()
    appeals = []
    for region, report in joins_one_by_one(history.reports):
        out = snapshot(history.reports, report.since).regions_on_strike
        appeals.append((region, solidarity_targets(NEIGHBOURS[region], out)))
    assert appeals == [
        ("mangystau", ("atyrau", "aktobe")),
        ("atyrau", ("west-kazakhstan", "aktobe")),
        ("aktobe", ("west-kazakhstan", "kostanay", "karaganda", "kyzylorda")),
        ("west-kazakhstan", ()),
        ("kyzylorda", ("karaganda", "turkistan")),
        ("karaganda", ("kostanay", "akmola", "pavlodar", "east-kazakhstan", "almaty-region", "jambyl", "turkistan")),
    ]


def test_mangistau_series_grows_region_by_region():
    history = mangistau()
    chart = series(history.reports, at(2, 0), at(5, 0), points=73)  # hourly
    assert chart.times[0] == at(2, 0) and chart.times[-1] == at(5, 0)
    assert list(chart.counts) == ["mangystau", "atyrau", "aktobe", "west-kazakhstan", "kyzylorda", "karaganda"]
    assert chart.counts["mangystau"][:10] == (0,) * 9 + (1,)
    assert chart.counts["mangystau"][-1] == 3
    assert chart.counts["karaganda"][-1] == 2


# -- the series agrees with the slow way ----------------------------------------------------------


def random_history(rng: random.Random, size: int, span: int) -> list[StatusReport]:
    regions = [f"r{i}" for i in range(8)]
    home = {committee: rng.choice(regions) for committee in range(size // 10 + 1)}
    statuses = [ON, ON, BACK, SUPPRESSED]
    reports = []
    for order in range(1, size + 1):
        committee = rng.choice(list(home))
        if rng.random() < 0.01:
            home[committee] = rng.choice(regions)
        # Coarse times, so that many reports share a moment.
        reports.append(
            StatusReport(committee, home[committee], rng.choice(statuses), rng.randrange(span) // 60 * 60, order)
        )
    rng.shuffle(reports)
    return reports


def check_moment(reports: list[StatusReport], episodes: dict[str, list[RegionEpisode]], moment: int) -> None:
    """Snapshot and episodes at one moment agree with the slow count."""
    expected = on_strike_by_region(reports, moment)
    now = snapshot(reports, moment)
    assert now.on_strike == expected
    assert now.committees_on_strike == sum(expected.values())
    assert set(now.regions_on_strike) == set(expected)
    running = {
        e.region: e.joined_at
        for runs in episodes.values()
        for e in runs
        if e.joined_at <= moment and (e.left_at is None or e.left_at > moment)
    }
    assert set(running) == set(expected)
    joined = [running[region] for region in now.regions_on_strike]
    assert joined == sorted(joined)  # by when they (last) joined


def check_consistent(reports: list[StatusReport], start: int, end: int, points: int) -> None:
    chart = series(reports, start, end, points)
    episodes = region_episodes(reports)
    assert len(chart.times) == points
    for index, moment in enumerate(chart.times):
        expected = on_strike_by_region(reports, moment)
        assert {region: counts[index] for region, counts in chart.counts.items() if counts[index]} == expected
        check_moment(reports, episodes, moment)
    assert all(any(counts) for counts in chart.counts.values())
    for runs in episodes.values():
        assert all(a.left_at is not None and a.left_at < b.joined_at for a, b in pairwise(runs))


def test_series_matches_statuses_at_on_a_seeded_history():
    rng = random.Random(20220104)
    reports = random_history(rng, 1000, 4 * DAY)
    check_consistent(reports, 0, 4 * DAY, 64)
    # Windows that tile the history add up to the whole.
    cuts = [0, DAY, 2 * DAY + 7, 4 * DAY]
    parts = [changes_between(reports, a, b) for a, b in pairwise(cuts)]
    whole = changes_between(reports, 0, 4 * DAY)
    assert sum((p.regions_joined for p in parts), ()) == whole.regions_joined
    assert sum((p.regions_left for p in parts), ()) == whole.regions_left


def committees_changed(reports: list[StatusReport], since: int, until: int) -> tuple[int, int, int]:
    """The slow count of committees' changes, moment by moment (the histories use whole-number times)."""
    came_out, went_back, suppressed = set(), set(), set()
    for moment in range(since + 1, until + 1):
        before, after = statuses_at(reports, moment - 1), statuses_at(reports, moment)
        for committee, status in after.items():
            was = before.get(committee)
            if status is ON and was is not ON:
                came_out.add(committee)
            elif status is SUPPRESSED and was is not SUPPRESSED:
                suppressed.add(committee)
            elif status is BACK and was is ON:
                went_back.add(committee)
    return len(came_out), len(went_back), len(suppressed)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 6), st.sampled_from(["a", "b", "c"]), st.sampled_from(list(StrikeStatus)), st.integers(0, 20)
        ),
        max_size=40,
    ),
    st.integers(2, 12),
    st.integers(-1, 21),
    st.randoms(use_true_random=False),
)
def test_the_spread_agrees_with_statuses_at_for_any_history(rows, points, since, rng):
    reports = [StatusReport(c, region, status, at, order) for order, (c, region, status, at) in enumerate(rows)]
    rng.shuffle(reports)
    check_consistent(reports, 0, 22, points)
    episodes = region_episodes(reports)
    for moment in range(-1, 22):
        check_moment(reports, episodes, moment)
    assert first_joins(reports) == {region: runs[0].joined_at for region, runs in episodes.items()}
    change = changes_between(reports, since, 21)
    everything = [e for runs in episodes.values() for e in runs]
    assert sorted(change.regions_joined) == sorted((e.region, e.joined_at) for e in everything if e.joined_at > since)
    left = sorted((e.region, e.left_at) for e in everything if e.left_at is not None and e.left_at > since)
    assert sorted(change.regions_left) == left
    counted = (change.committees_joined, change.committees_back, change.committees_suppressed)
    assert counted == committees_changed(reports, since, 21)


def test_series_samples_are_evenly_spaced_and_checked():
    assert series([], 0, 10, points=3).times == (0, 5, 10)
    assert series([], 0, 10, points=3).counts == {}
    assert series([], 0, 7, points=4).times == (0, 2, 4, 7)
    with pytest.raises(ValueError):
        series([], 0, 10, points=1)
    with pytest.raises(ValueError):
        series([], 10, 0)
