"""The spread of the strike: which committees and regions are out, since when, and what changed.

Committees report their status (SPEC §2, "Strike status"), and the spread is what those reports
add up to: region by region, when the first committee went out and when the last came back. The
history is a list of reports, never a current-status column, because a delegate may say "on
strike since yesterday": a report's `since` can be earlier (or later) than when it was made. So
every reader orders reports by (since, order), where `order` is the report's row id and breaks
ties between reports of the same moment.

A committee's status changes only through its reports. "Back at work" and "suppressed" both end
its strike; they differ in what the coordinators must do about it. A region is on strike while at
least one of its committees is; the stretch from its first committee out to its last one back is
an episode, and a region that goes out again later starts a new one (and sets off a new
solidarity appeal to its neighbours).

Reports with the same `since` take effect together: the state at a moment is the one after all
of them, so a committee that reports "back at work" while another of its region reports "on
strike" at the same moment leaves the region's episode unbroken. Every function here is one sweep
over the reports sorted once, O(n log n), so digests and the chart stay cheap at 10,000
committees.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import EnumType, StrEnum
from operator import attrgetter, itemgetter
from typing import Any


class _ByValue(EnumType):
    """`StrikeStatus("on_strike")` as one dict look-up: every report read from the database makes
    one (tens of thousands for a digest), and Enum's own call takes twice as long."""

    def __call__(cls, value: object, *args: Any, **kwargs: Any) -> Any:
        if not args and not kwargs and isinstance(value, str):
            member = cls._value2member_map_.get(value)
            if member is not None:
                return member
        return super().__call__(value, *args, **kwargs)


class StrikeStatus(StrEnum, metaclass=_ByValue):
    ON_STRIKE = "on_strike"
    BACK_AT_WORK = "back_at_work"
    SUPPRESSED = "suppressed"


@dataclass(frozen=True, slots=True, init=False)
class StatusReport:
    """One report of a committee's status, as kept in the history table."""

    committee_id: int
    region: str
    status: StrikeStatus
    since: int
    order: int

    def __init__(self, committee_id: int, region: str, status: StrikeStatus, since: int, order: int) -> None:
        # A digest reads every report ever made; the slots are filled directly rather than through
        # the frozen dataclass's guarded __setattr__ (half the cost). Rows read back from the
        # database carry plain strings; the sweeps compare statuses by identity.
        _set_committee_id(self, committee_id)
        _set_region(self, region)
        _set_status(self, status if type(status) is StrikeStatus else StrikeStatus(status))
        _set_since(self, since)
        _set_order(self, order)


_set_committee_id = StatusReport.committee_id.__set__  # type: ignore[attr-defined]
_set_region = StatusReport.region.__set__  # type: ignore[attr-defined]
_set_status = StatusReport.status.__set__  # type: ignore[attr-defined]
_set_since = StatusReport.since.__set__  # type: ignore[attr-defined]
_set_order = StatusReport.order.__set__  # type: ignore[attr-defined]
_ON = StrikeStatus.ON_STRIKE
_SUPPRESSED = StrikeStatus.SUPPRESSED
_by_since = attrgetter("since")
_by_order = attrgetter("order")
_second = itemgetter(1)


def statuses_at(reports: Iterable[StatusReport], moment: int) -> dict[int, StrikeStatus]:
    """Each committee's status at `moment`; committees with no report by then are absent.

    A committee's status is that of its report with the greatest (since, order) not after the
    moment: a report made today for yesterday counts from yesterday, and one announced for
    tomorrow does not count yet.
    """
    statuses: dict[int, StrikeStatus] = {}
    for report in _in_time_order(reports):  # the last report not after the moment wins
        if report.since > moment:
            break
        statuses[report.committee_id] = report.status
    return statuses


# -- the replay ----------------------------------------------------------------------------------


def _in_time_order(reports: Iterable[StatusReport]) -> list[StatusReport]:
    """The reports by (since, order); two stable sorts on one attribute each beat one on a tuple key.

    Reports read from the database come in that order already, and a digest sweeps them several
    times: a look through them costs a sixth of the sorts, which are then skipped."""
    ordered = list(reports)
    if _ordered(ordered):
        return ordered
    ordered.sort(key=_by_order)
    ordered.sort(key=_by_since)
    return ordered


def _ordered(reports: list[StatusReport]) -> bool:
    since = order = -(1 << 63)
    for report in reports:
        at = report.since
        if at < since or (at == since and report.order < order):
            return False
        since, order = at, report.order
    return True


class _Run:
    """A region's episode while it is being replayed: mutable, and dropped if it lasted no moment."""

    __slots__ = ("dropped", "joined_at", "left_at", "region")

    def __init__(self, region: str, joined_at: int) -> None:
        self.region = region
        self.joined_at = joined_at
        self.left_at: int | None = None
        self.dropped = False


class _Replay:
    """Committees' and regions' state after the reports up to a moment, and the regions' episodes.

    Reports are applied one by one in time order, but reports of one moment take effect together,
    so the episodes are patched where a moment undoes what it did: a region whose last committee
    out goes back while another comes out at the same moment stays out (its episode goes on), and
    one whose committee comes out and is corrected to "suppressed" at the same moment was never
    out (no episode). Committees' changes are counted the same way, between the state before a
    moment and the state after it, for the moments in (count_from, until].
    """

    def __init__(
        self, reports: Iterable[StatusReport], until: int | None = None, count_from: int | None = None
    ) -> None:
        self.latest: dict[int, StatusReport] = {}
        self.striking: dict[str, int] = {}  # region -> committees on strike
        self.runs: list[_Run] = []  # every episode, in the order they began
        self._region_runs: dict[str, list[_Run]] = {}
        self.came_out: set[int] = set()
        self.went_back: set[int] = set()
        self.were_suppressed: set[int] = set()
        self._replay(_in_time_order(reports), until, count_from)

    def _replay(self, ordered: list[StatusReport], until: int | None, count_from: int | None) -> None:
        # The hot loop of every sweep: the counts of committees out are kept inline, and only a
        # region's first committee out and last one back (the episodes) cost a call.
        latest = self.latest
        held_of = latest.get
        striking = self.striking
        striking_in = striking.get
        counting = count_from is not None
        counted_after = count_from if count_from is not None else 0
        moment: int | None = None
        before: dict[int, StrikeStatus | None] = {}  # the committees the moment changes, as they were
        for report in ordered:
            at = report.since
            if until is not None and at > until:
                break
            committee = report.committee_id
            held = held_of(committee)
            if counting:
                if at != moment:
                    if before:
                        self._count(before)
                    moment = at
                if at > counted_after and committee not in before:
                    before[committee] = held.status if held is not None else None
            status = report.status
            if held is not None and held.status is _ON:
                region = held.region
                if status is _ON and report.region == region:
                    latest[committee] = report
                    continue
                out = striking[region] - 1
                striking[region] = out
                if not out:
                    self._last_back(region, at)
            if status is _ON:
                region = report.region
                out = striking_in(region, 0) + 1
                striking[region] = out
                if out == 1:
                    self._first_out(region, at)
            latest[committee] = report
        if before:
            self._count(before)

    def _first_out(self, region: str, at: int) -> None:
        """The region's first committee is out: an episode begins (or one that ended this moment goes on)."""
        runs = self._region_runs.setdefault(region, [])
        if runs and runs[-1].left_at == at:
            runs[-1].left_at = None  # it left and came back at the same moment: it never left
            return
        run = _Run(region, at)
        runs.append(run)
        self.runs.append(run)

    def _last_back(self, region: str, at: int) -> None:
        """The region's last committee out is back (or suppressed): its episode ends."""
        runs = self._region_runs[region]
        if runs[-1].joined_at == at:
            runs.pop().dropped = True  # out and back at the same moment: never out at any moment
        else:
            runs[-1].left_at = at

    def _count(self, before: dict[int, StrikeStatus | None]) -> None:
        for committee, status in before.items():
            now = self.latest[committee].status
            if now is status:
                continue
            if now is _ON:
                self.came_out.add(committee)
            elif now is _SUPPRESSED:
                self.were_suppressed.add(committee)
            elif status is _ON:
                self.went_back.add(committee)
        before.clear()

    def episodes(self) -> list[_Run]:
        """The episodes that lasted, in the order they began."""
        return [run for run in self.runs if not run.dropped]


# -- regions' episodes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RegionEpisode:
    """A stretch during which at least one committee of the region was on strike; open while left_at is None."""

    region: str
    joined_at: int
    left_at: int | None


def region_episodes(reports: Iterable[StatusReport]) -> dict[str, list[RegionEpisode]]:
    """Each region's episodes on strike, in time order; regions in the order they first joined."""
    episodes: dict[str, list[RegionEpisode]] = {}
    for run in _Replay(reports).episodes():
        episodes.setdefault(run.region, []).append(RegionEpisode(run.region, run.joined_at, run.left_at))
    return episodes


def first_joins(reports: Iterable[StatusReport]) -> dict[str, int]:
    """When each region first went on strike (the start of its first episode), earliest first."""
    joins: dict[str, int] = {}
    for run in _Replay(reports).episodes():
        joins.setdefault(run.region, run.joined_at)
    return joins


def time_to_join(first_call_at: int, joins: Mapping[str, int]) -> dict[str, int]:
    """How long after the movement's first call each region joined, in seconds.

    This is the measure of how fast a call carries; a region already out before the call (a
    strike that began on its own, as in Zhanaozen) counts as 0, not as a negative delay.
    """
    return {region: max(0, joined_at - first_call_at) for region, joined_at in joins.items()}


# -- the state at a moment ------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """The spread at one moment, as a digest's headline shows it."""

    at: int
    on_strike: dict[str, int]  # region -> committees on strike, only regions with at least one
    suppressed: dict[str, int]  # region -> committees suppressed, only regions with at least one
    committees_on_strike: int
    regions_on_strike: tuple[str, ...]  # in the order the regions (last) joined, earliest first


def snapshot(reports: Iterable[StatusReport], moment: int) -> Snapshot:
    """The spread at `moment`: reports with `since` after it do not count yet."""
    state = _Replay(reports, until=moment)
    suppressed: dict[str, int] = {}
    for report in state.latest.values():
        if report.status is _SUPPRESSED:
            suppressed[report.region] = suppressed.get(report.region, 0) + 1
    regions = tuple(run.region for run in state.episodes() if run.left_at is None)
    on_strike = {region: state.striking[region] for region in regions}
    return Snapshot(
        at=moment,
        on_strike=on_strike,
        suppressed=suppressed,
        committees_on_strike=sum(on_strike.values()),
        regions_on_strike=regions,
    )


# -- what changed ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpreadChange:
    """What changed in the window (since, until]: the spread part of a digest."""

    since: int
    until: int
    regions_joined: tuple[tuple[str, int], ...]  # (region, joined_at), episodes that began in the window
    regions_left: tuple[tuple[str, int], ...]  # (region, left_at), episodes that ended in the window
    committees_joined: int  # committees whose status became on strike (from another status or none)
    committees_back: int  # committees that went from on strike to back at work
    committees_suppressed: int  # committees whose status became suppressed


def changes_between(reports: Iterable[StatusReport], since: int, until: int) -> SpreadChange:
    """What the reports with `since` in (since, until] changed, judged against the state before.

    Committees are counted once each: one that joined, went back and joined again within the
    window is one committee that joined (and one that went back). Transitions are between the
    states at consecutive moments, so two reports of one committee for the same moment count as
    their outcome only.
    """
    if until < since:
        raise ValueError(f"the window ends ({until}) before it begins ({since})")
    state = _Replay(reports, until=until, count_from=since)
    episodes = state.episodes()
    joined = tuple((run.region, run.joined_at) for run in episodes if run.joined_at > since)
    left = sorted(
        ((run.region, run.left_at) for run in episodes if run.left_at is not None and run.left_at > since), key=_second
    )
    return SpreadChange(
        since=since,
        until=until,
        regions_joined=joined,
        regions_left=tuple(left),
        committees_joined=len(state.came_out),
        committees_back=len(state.went_back),
        committees_suppressed=len(state.were_suppressed),
    )


# -- the chart's series ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    """Committees on strike per region, sampled at evenly spaced moments: the spread chart's data."""

    times: tuple[int, ...]
    counts: dict[str, tuple[int, ...]]  # region -> committees on strike at each time


def _sample_times(start: int, end: int, points: int) -> tuple[int, ...]:
    """`points` whole seconds evenly spaced from start to end, both included."""
    if points < 2:
        raise ValueError(f"a series needs at least 2 points, not {points}")
    if end < start:
        raise ValueError(f"the series ends ({end}) before it begins ({start})")
    span = end - start
    return tuple(start + span * i // (points - 1) for i in range(points))


def series(reports: Iterable[StatusReport], start: int, end: int, points: int = 96) -> Series:
    """Committees on strike per region at `points` moments from start to end, in one sweep.

    Only regions with a committee on strike at some sample are given, in the order they first
    show up (ties in the order they first joined); a strike that began and ended between two
    samples does not show, as it could not on the chart either. Reports are sorted once and applied as
    the samples pass them, so the cost is that of the sort, not `points` times the history.
    """
    times = _sample_times(start, end, points)
    ordered = _in_time_order(reports)
    latest: dict[int, StatusReport] = {}
    held_of = latest.get
    striking: dict[str, int] = {}
    striking_in = striking.get
    rows: list[dict[str, int]] = []
    sinces = [report.since for report in ordered]
    position = 0
    for moment in times:
        cut = bisect_right(sinces, moment, position)
        for report in ordered[position:cut]:
            committee = report.committee_id
            held = held_of(committee)
            if held is not None and held.status is _ON:
                striking[held.region] -= 1
            if report.status is _ON:
                region = report.region
                striking[region] = striking_in(region, 0) + 1
            latest[committee] = report
        position = cut
        rows.append({region: n for region, n in striking.items() if n})
    regions: dict[str, None] = {}
    for row in rows:
        regions.update(dict.fromkeys(row))
    return Series(times=times, counts={region: tuple(row.get(region, 0) for row in rows) for region in regions})


# -- solidarity -----------------------------------------------------------------------------------


def region_joins_with(
    statuses_before: Mapping[int, StrikeStatus], region_of: Mapping[int, str], report: StatusReport
) -> bool:
    """Whether the report brings its region out: from no committee on strike to one.

    That is the moment the neighbours are appealed to for solidarity (SPEC §2, "spread"); a
    second committee of a region already out sets off nothing. `statuses_before` are the
    committees' statuses just before the report takes effect (at its `since`), `region_of` their
    regions. Unlike the episodes, this judges a report alone: should one committee go back and
    another come out in the very same second, it says the region joins where its episode goes on.
    """
    if report.status is not _ON:
        return False
    return not any(
        status == _ON and region_of.get(committee) == report.region for committee, status in statuses_before.items()
    )


def solidarity_targets(neighbours: Sequence[str], on_strike_regions: Collection[str]) -> tuple[str, ...]:
    """The neighbouring regions a joining region appeals to: those not on strike themselves, in order.

    Regions already out need no appeal to do what they are doing; the region that joined is on
    strike too, so it never appeals to itself even where a config lists it among its neighbours.
    """
    out = set(on_strike_regions)
    return tuple(dict.fromkeys(region for region in neighbours if region not in out))
