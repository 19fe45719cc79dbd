"""The spread chart: a valid PNG of the expected size for real and odd input; not its pixels."""

from __future__ import annotations

import dataclasses
import io
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from matplotlib.dates import date2num
from PIL import Image

from bot.chart import HEIGHT_PX, MAX_LINES, WIDTH_PX, _DateTicks, _lines, _short_names, render_spread_chart
from bot.config import load_config
from domain.federation import Federation, Region

ROOT = Path(__file__).resolve().parent.parent
FEDERATION = load_config(ROOT / "config.example.toml").federation
START = int(datetime(2022, 1, 2, 0, 0, tzinfo=UTC).timestamp())
HOUR = 3600
TIMES = [START + i * HOUR for i in range(96)]  # 2-5 January 2022


def ramp(begin: int, peak: int, *, end: int | None = None) -> list[int]:
    """Committees on strike in a region: none before `begin` (hours), rising to `peak`, back at `end`."""
    return [0 if i < begin or (end is not None and i >= end) else min(peak, 1 + (i - begin) // 3) for i in range(96)]


# Mangistau, January 2022: Zhanaozen, then the region, Atyrau, the oil and copper workers, Temirtau.
MANGISTAU = {
    "mangystau": ramp(5, 14),
    "atyrau": ramp(28, 9),
    "aktobe": ramp(50, 6),
    "west-kazakhstan": ramp(52, 4),
    "kyzylorda": ramp(54, 3),
    "karaganda": ramp(60, 5, end=84),
}
MANGISTAU_STATES = {
    **{region: "on_strike" for region in MANGISTAU},
    "karaganda": "suppressed",
    "kostanay": "back_at_work",
}


def draw(**changes) -> bytes:
    arguments = {
        "times": TIMES,
        "counts": MANGISTAU,
        "region_states": MANGISTAU_STATES,
        "federation": FEDERATION,
        "language": "en",
        "timezone": "Asia/Almaty",
        "title": "Committees on strike, Kazakhstan",
    }
    return render_spread_chart(**{**arguments, **changes})


def assert_valid_png(data: bytes) -> None:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) < 300_000  # small enough for a phone on a bad connection
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        assert image.size == (WIDTH_PX, HEIGHT_PX) == (1080, 1620)  # portrait, a phone's width
        assert image.mode == "P"  # a palette PNG
        image.verify()
    with Image.open(io.BytesIO(data)) as image:
        image.load()  # decodes in full, not just the header
        assert image.convert("RGB").getpixel((2, 2)) == (255, 255, 255)  # white background


@pytest.mark.parametrize("language", ["en", "ru", "kk", "es", "de"])
def test_the_mangistau_spread_on_the_example_federation(language):
    assert_valid_png(draw(language=language, title=FEDERATION.root.display_name(language)))


def test_nobody_on_strike_yet():
    assert_valid_png(draw(times=[], counts={}, region_states={}))
    # Moments sampled, but nobody has struck: still a chart, not an error.
    assert_valid_png(draw(counts={"mangystau": [0] * 96}, region_states={"mangystau": "none"}))
    # A single moment.
    assert_valid_png(draw(times=TIMES[:1], counts={"mangystau": [2]}, region_states={"mangystau": "on_strike"}))


def test_more_than_eight_regions_sum_the_rest_into_one_line():
    regions = [r.id for r in FEDERATION.committee_regions()]
    counts = {region: ramp(i * 4, 1 + i % 5) for i, region in enumerate(regions)}
    states = dict.fromkeys(regions, "on_strike")
    assert_valid_png(draw(counts=counts, region_states=states))

    lines = _lines(counts, FEDERATION, "en", "other regions")
    assert len(lines) == MAX_LINES + 1
    assert [other for _name, _values, other in lines] == [False] * MAX_LINES + [True]
    peaks = [max(values) for _name, values, _other in lines[:MAX_LINES]]
    assert peaks == sorted(peaks, reverse=True)  # the most affected first
    shown = {name for name, _values, _other in lines[:MAX_LINES]}
    rest = [counts[r] for r in regions if FEDERATION.regions[r].display_name("en") not in shown]
    assert lines[-1][1] == [sum(column) for column in zip(*rest, strict=True)]


def test_only_regions_that_ever_struck_get_a_line_and_series_are_fitted_to_the_moments():
    lines = _lines({"mangystau": [0, 1, 2], "atyrau": [0, 0, 0]}, FEDERATION, "ru", "other")
    assert lines == [("Мангистауская область", [0, 1, 2], False)]
    # Counts of a different length than the moments, an unknown region id, an unknown state.
    data = draw(
        times=TIMES[:5],
        counts={"mangystau": [1, 2, 3, 4, 5, 6, 7], "atyrau": [1], "atlantis": [3, 3, 3, 3, 3]},
        region_states={"mangystau": "on_strike", "atyrau": "on strike?"},
    )
    assert_valid_png(data)


def test_regions_without_a_position_are_drawn_on_a_circle():
    some = dataclasses.replace(
        FEDERATION,
        regions={
            rid: dataclasses.replace(r, position=None) if rid in {"almaty", "shymkent"} else r
            for rid, r in FEDERATION.regions.items()
        },
    )
    assert_valid_png(draw(federation=some))
    none = dataclasses.replace(
        FEDERATION, regions={rid: dataclasses.replace(r, position=None) for rid, r in FEDERATION.regions.items()}
    )
    assert_valid_png(draw(federation=none))


def test_a_tiny_federation_with_one_region():
    tiny = Federation(
        name="El Alto",
        regions={
            "el-alto": Region(id="el-alto", name="El Alto", parent=None, timezone="America/La_Paz"),
            "d1": Region(id="d1", name="Distrito 1", parent="el-alto", timezone="America/La_Paz"),
        },
        councils={},
    )
    assert_valid_png(
        draw(
            federation=tiny,
            counts={"d1": [1] * 96},
            region_states={"d1": "on_strike"},
            timezone="America/La_Paz",
            language="es",
            title="Comités en huelga, El Alto: un título largo que no cabe en una sola línea de la imagen",
        )
    )


def test_time_axis_is_local_time_in_the_chat_language():
    almaty = _DateTicks(ZoneInfo("Asia/Almaty"), "en")
    noon = date2num(datetime(2022, 1, 3, 6, 0, tzinfo=UTC))  # UTC+6 in January 2022
    assert almaty(noon) == "3 Jan\n12:00"
    assert _DateTicks(ZoneInfo("Asia/Almaty"), "ru")(noon) == "3 янв\n12:00"
    midnights = [date2num(datetime(2022, 1, day, 18, 0, tzinfo=UTC)) for day in (2, 3, 4)]
    assert almaty.format_ticks(midnights) == ["3 Jan", "4 Jan", "5 Jan"]  # only days, when all are midnight


def test_short_names_in_the_region_graph():
    names = _short_names(FEDERATION.committee_regions(), "en")
    assert names["mangystau"] == "Mangystau"  # "Region", shared by most, is left out
    assert names["almaty"] == "Almaty"
    assert names["almaty-region"] == "Almaty\nRegion"  # ... but not where the two would read the same
    assert names["west-kazakhstan"] == "West\nKazakhstan"
    assert _short_names(FEDERATION.committee_regions(), "ru")["mangystau"] == "Мангистауская"


def test_charts_drawn_from_several_threads_at_once():
    with ThreadPoolExecutor(max_workers=3) as pool:
        charts = list(pool.map(lambda language: draw(language=language), ["en", "ru", "kk"]))
    for chart in charts:
        assert_valid_png(chart)


def test_importing_the_chart_does_not_import_pyplot():
    code = "import sys, bot.chart; assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)
