"""The spread chart coordinators get with /spread and with each digest, as PNG bytes.

Coordinators read it on a phone, often in a hurry and on a bad connection, so it is one portrait
image 1080 pixels wide, with large type, few colours and a small file: on top, how many committees
are on strike in each region over time (the regions hit hardest first); below, the regions as a
graph of their borders, coloured by what they are doing now, so one sees at a glance where the
strike stands and where it can spread next.

It is drawn with matplotlib's Agg backend through the object API (`Figure` + `FigureCanvasAgg`):
the server has no display, and pyplot's global state has no place in a bot that draws charts in
worker threads. Matplotlib itself is not thread-safe, so drawing is serialised by a lock.
"""

from __future__ import annotations

import io
import math
import textwrap
import threading
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.collections import LineCollection
from matplotlib.dates import AutoDateLocator, date2num, num2date
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.ticker import Formatter, MaxNLocator
from PIL import Image

from bot.i18n import gettext_for
from domain.federation import Federation, Region

# With few ticks asked for over some spans, matplotlib's date locator falls back to a 12-unit step
# and says so on every draw; the fallback reads well, the warning only fills the logs.
LOCATOR_FALLBACK = "AutoDateLocator was unable to pick"

WIDTH_PX = 1080
HEIGHT_PX = 1620
DPI = 150
PALETTE_COLOURS = 128  # a palette PNG: a quarter of the bytes of RGBA, and faster to encode
MAX_LINES = 8  # regions drawn on their own; any others are summed into one more line
MAX_STRETCH = 1.35  # how much the region graph may stretch one way to fill its panel
MAX_LABELLED = 40  # beyond this many regions, only those with a strike history are named in the graph

STATES = ("on_strike", "suppressed", "back_at_work", "none")
STATE_COLOURS = {
    "on_strike": "#d7191c",
    "suppressed": "#5b2379",
    "back_at_work": "#7e9cc0",
    "none": "#d9d9d9",
}
LINE_COLOURS = ("#d62728", "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf")
OTHER_COLOUR = "#7f7f7f"
TEXT = "#222222"
MUTED = "#666666"
EDGE = "#bdbdbd"
STRIKE_EDGE = "#f08a8b"  # a border with both sides on strike

TITLE_SIZE = 18
BASE_SIZE = 14
SMALL_SIZE = 13
NODE_SIZE = 21  # diameter in points
Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels

_lock = threading.Lock()


def render_spread_chart(
    *,
    times: Sequence[int],
    counts: Mapping[str, Sequence[int]],
    region_states: Mapping[str, str],
    federation: Federation,
    language: str,
    timezone: str,
    title: str,
) -> bytes:
    """The chart as PNG bytes: committees on strike per region over time, and the regions now.

    `times` are ascending epoch seconds; `counts` gives, per region id, the committees on strike at
    each of those moments; `region_states` the state of each region now ("on_strike",
    "suppressed", "back_at_work" or "none"; missing means "none"). Empty input draws a chart that
    says nobody is on strike yet.
    """
    _ = gettext_for(language)
    labels = {
        "axis": _("Committees on strike"),
        "other": _("other regions"),
        "nobody": _("Nobody on strike yet"),
        "now": _("Regions now"),
        "on_strike": _("On strike"),
        "suppressed": _("Suppressed"),
        "back_at_work": _("Back at work"),
        "none": _("No strike"),
    }
    times = [int(t) for t in times]
    series = {region_id: _fit(values, len(times)) for region_id, values in counts.items()}
    with _lock, warnings.catch_warnings():  # the lock also keeps the warning filters to this drawing
        warnings.filterwarnings("ignore", message=LOCATOR_FALLBACK, category=UserWarning)
        figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, facecolor="white")
        canvas = FigureCanvasAgg(figure)
        renderer = canvas.get_renderer()
        title_lines = textwrap.wrap(title, 40, max_lines=2, placeholder=" …") or [""]
        figure.text(
            0.5,
            0.988,
            "\n".join(title_lines),
            ha="center",
            va="top",
            fontsize=TITLE_SIZE,
            fontweight="bold",
            color=TEXT,
        )
        top = 0.94 if len(title_lines) == 1 else 0.905
        bottom = _draw_lines(figure, renderer, top, times, series, federation, language, _zone(timezone), labels)
        _draw_graph(figure, renderer, bottom, series, region_states, federation, language, labels)
        canvas.draw()
        return _png(canvas)


def _png(canvas: FigureCanvasAgg) -> bytes:
    """The drawn canvas as a palette PNG with pure white kept pure white."""
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    image = image.convert("RGB").quantize(PALETTE_COLOURS, method=Image.Quantize.FASTOCTREE)
    palette = image.getpalette() or []
    colours = image.getcolors(PALETTE_COLOURS) or []
    if colours:
        _count, background = max(colours)
        if min(palette[3 * background : 3 * background + 3]) >= 245:
            palette[3 * background : 3 * background + 3] = [255, 255, 255]
            image.putpalette(palette)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def _fit(values: Sequence[int], n: int) -> list[int]:
    """A region's counts, one per sample moment (short series carry their last value on)."""
    fitted = [int(v) for v in list(values)[:n]]
    return fitted + [fitted[-1] if fitted else 0] * (n - len(fitted))


# -- the time series ------------------------------------------------------------------------------


def _draw_lines(
    figure: Figure,
    renderer: RendererAgg,
    top: float,
    times: list[int],
    series: Mapping[str, list[int]],
    federation: Federation,
    language: str,
    zone: ZoneInfo,
    labels: Mapping[str, str],
) -> float:
    """The top panel; returns the figure height (0..1) where it ends, legend included."""
    height = 0.27
    axes = figure.add_axes((0.12, top - height, 0.82, height))
    _style_axes(axes)
    lines = _lines(series, federation, language, labels["other"])
    x = date2num([datetime.fromtimestamp(t, UTC) for t in times]) if times else np.array([])
    if len(x):
        low, high = float(x[0]), float(x[-1])
        if high - low < 1 / 24:  # a single sample: an hour either side
            low, high = low - 1 / 24, high + 1 / 24
        axes.set_xlim(low, high)
        axes.xaxis.set_major_locator(AutoDateLocator(tz=zone, minticks=3, maxticks=5))
        axes.xaxis.set_major_formatter(_DateTicks(zone, language))
    else:
        axes.set_xticks([])

    handles = []
    for (name, values, other), colour in zip(lines, (*LINE_COLOURS, OTHER_COLOUR), strict=False):
        (line,) = axes.step(
            x,
            values,
            where="post",
            label=name,
            color=OTHER_COLOUR if other else colour,
            linewidth=2.4 if other else 3.0,
            linestyle=(0, (3, 1.5)) if other else "-",
        )
        handles.append(line)
    peak = max((max(values) for _name, values, _other in lines), default=0)
    axes.set_ylim(0, max(peak, 1) * 1.1 + 0.1)
    axes.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    axes.set_ylabel(labels["axis"], fontsize=BASE_SIZE, color=TEXT)

    ticks = axes.xaxis.get_tightbbox(renderer)
    below_ticks = (ticks.y0 if ticks is not None else axes.bbox.y0) / figure.bbox.height - 0.025
    if not lines:
        axes.tick_params(axis="y", left=False, labelleft=False)
        axes.grid(False)
        axes.spines["left"].set_visible(False)
        axes.text(
            0.5,
            0.55,
            labels["nobody"],
            transform=axes.transAxes,
            ha="center",
            va="center",
            fontsize=BASE_SIZE + 4,
            color=MUTED,
        )
        return below_ticks
    legend = _fitting_legend(
        figure,
        renderer,
        handles,
        [name for name, _values, _other in lines],
        below_ticks,
        columns=(2, 1),
        handlelength=1.6,
        labelspacing=0.3,
    )
    return _bottom_of(legend, renderer, figure)


def _lines(
    series: Mapping[str, list[int]], federation: Federation, language: str, other_name: str
) -> list[tuple[str, list[int], bool]]:
    """One line per region that ever had a committee on strike, the most affected first.

    Beyond MAX_LINES regions, the rest are summed into one line (flagged True).
    """
    ranked: list[tuple[tuple[int, int, int, str], str, list[int]]] = []
    for region_id, values in series.items():
        if not any(values):
            continue
        region = federation.regions.get(region_id)
        name = region.display_name(language) if region else region_id
        first = next(i for i, v in enumerate(values) if v)
        ranked.append(((-max(values), -values[-1], first, name), name, values))
    ranked.sort(key=lambda item: item[0])
    lines = [(name, values, False) for _key, name, values in ranked]
    if len(lines) > MAX_LINES:
        rest = [values for _name, values, _other in lines[MAX_LINES:]]
        lines = [*lines[:MAX_LINES], (other_name, [sum(column) for column in zip(*rest, strict=True)], True)]
    return lines


class _DateTicks(Formatter):
    """Time axis labels like "3 Jan" over "12:00", local time, the month in the chat's language.

    When every tick falls on midnight (a chart of weeks), the time is left out.
    """

    def __init__(self, zone: ZoneInfo, language: str) -> None:
        self.zone = zone
        try:
            self.locale = Locale.parse(language)
        except (UnknownLocaleError, ValueError):
            self.locale = Locale.parse("en")

    def __call__(self, x: float, pos: int | None = None) -> str:
        return self.label(x, with_time=True)

    def format_ticks(self, values: Sequence[float]) -> list[str]:
        moments = [num2date(v, tz=self.zone) for v in values]
        with_time = any(m.hour or m.minute for m in moments)
        return [self.label(v, with_time=with_time) for v in values]

    def label(self, value: float, *, with_time: bool) -> str:
        moment = num2date(value, tz=self.zone)
        day = format_datetime(moment, "d MMM", tzinfo=self.zone, locale=self.locale).rstrip(".")
        return f"{day}\n{moment:%H:%M}" if with_time else day


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _style_axes(axes: Axes) -> None:
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        axes.spines[side].set_color("#888888")
    axes.tick_params(labelsize=SMALL_SIZE, colors=TEXT, length=4)
    axes.grid(axis="y", color="#e6e6e6", linewidth=1)
    axes.set_axisbelow(True)


def _fitting_legend(
    figure: Figure,
    renderer: RendererAgg,
    handles: Sequence[Line2D],
    texts: Sequence[str],
    top: float,
    *,
    columns: Sequence[int],
    **style: float,
) -> Legend:
    """A legend centred under `top`, with the most columns that fit the width of the image."""
    legend = None
    for ncols in columns:
        if legend is not None:
            legend.remove()
        legend = figure.legend(
            handles,
            texts,
            loc="upper center",
            bbox_to_anchor=(0.5, top),
            ncols=ncols,
            fontsize=SMALL_SIZE,
            frameon=False,
            borderaxespad=0,
            borderpad=0,
            columnspacing=1.2,
            **style,
        )
        if legend.get_window_extent(renderer).width <= figure.bbox.width * 0.96:
            break
    assert legend is not None
    return legend


def _bottom_of(legend: Legend, renderer: RendererAgg, figure: Figure) -> float:
    return legend.get_window_extent(renderer).y0 / figure.bbox.height


# -- the region graph -----------------------------------------------------------------------------


def _draw_graph(
    figure: Figure,
    renderer: RendererAgg,
    top: float,
    series: Mapping[str, list[int]],
    region_states: Mapping[str, str],
    federation: Federation,
    language: str,
    labels: Mapping[str, str],
) -> None:
    """The bottom panel: leaf regions at their positions, borders as edges, coloured by state."""
    heading_top = top - 0.02
    figure.text(
        0.04, heading_top, labels["now"], ha="left", va="top", fontsize=BASE_SIZE + 1, fontweight="bold", color=TEXT
    )
    keys = [
        Line2D(
            [], [], linestyle="", marker="o", markersize=13, markerfacecolor=STATE_COLOURS[s], markeredgecolor="white"
        )
        for s in STATES
    ]
    legend = _fitting_legend(
        figure,
        renderer,
        keys,
        [labels[s] for s in STATES],
        heading_top - 0.032,
        columns=(4, 2),
        handletextpad=0.2,
        labelspacing=0.3,
    )
    graph_top = _bottom_of(legend, renderer, figure) - 0.01
    axes = figure.add_axes((0.02, 0.01, 0.96, max(graph_top - 0.01, 0.15)))
    axes.set_axis_off()

    regions = federation.committee_regions()
    if not regions:
        return
    points = _layout(regions)
    index = {region.id: i for i, region in enumerate(regions)}
    state_of = [region_states.get(r.id, "none") for r in regions]
    state_of = [s if s in STATE_COLOURS else "none" for s in state_of]

    segments, colours, widths = [], [], []
    for region in regions:
        for neighbour in region.neighbours:
            if neighbour in index and region.id < neighbour:
                both = state_of[index[region.id]] == "on_strike" == state_of[index[neighbour]]
                segments.append((points[index[region.id]], points[index[neighbour]]))
                colours.append(STRIKE_EDGE if both else EDGE)
                widths.append(3.2 if both else 1.6)
    axes.add_collection(LineCollection(segments, colors=colours, linewidths=widths, zorder=1))
    axes.scatter(
        points[:, 0],
        points[:, 1],
        s=NODE_SIZE**2,
        c=[STATE_COLOURS[s] for s in state_of],
        edgecolors="white",
        linewidths=1.5,
        zorder=2,
    )
    _fit_view(axes, figure, points)

    for i, region in enumerate(regions):
        values = series.get(region.id)
        committees = values[-1] if values else 0
        if committees > 0:
            axes.text(
                *points[i],
                str(committees),
                ha="center",
                va="center",
                fontsize=SMALL_SIZE - 1 if committees < 100 else SMALL_SIZE - 4,
                fontweight="bold",
                color="white",
                zorder=3,
            )
    short = _short_names(regions, language)
    named = [
        (i, short[region.id])
        for i, region in enumerate(regions)
        if len(regions) <= MAX_LABELLED or any(series.get(region.id, ())) or state_of[i] != "none"
    ]
    _place_labels(renderer, axes, points, named)


def _layout(regions: Sequence[Region]) -> np.ndarray:
    """Map positions (longitude shrunk by the cosine of the latitude), the others on a circle."""
    placed = [r.position for r in regions if r.position is not None]
    shrink = math.cos(math.radians(float(np.mean([lat for _lon, lat in placed])))) if placed else 1.0
    points = np.zeros((len(regions), 2))
    for i, region in enumerate(regions):
        if region.position is not None:
            lon, lat = region.position
            points[i] = (lon * shrink, lat)
    missing = [i for i, r in enumerate(regions) if r.position is None]
    if missing:
        if placed:  # around the map, clear of it
            known = points[[i for i in range(len(regions)) if i not in missing]]
            low, high = known.min(axis=0), known.max(axis=0)
            centre = (low + high) / 2
            radius = max(float(np.hypot(*(high - low))) / 2 * 1.15, 1.0)
        else:
            centre, radius = np.zeros(2), 1.0
        for k, i in enumerate(missing):
            angle = math.pi / 2 - 2 * math.pi * k / len(missing)
            points[i] = centre + radius * np.array([math.cos(angle), math.sin(angle)])
    return _spread_apart(points)


def _spread_apart(points: np.ndarray, rounds: int = 40) -> np.ndarray:
    """Nudge apart nodes that would overlap (a city inside the region around it)."""
    count = len(points)
    if count < 2:
        return points
    span = float(max(np.ptp(points[:, 0]), np.ptp(points[:, 1]))) or 1.0
    gap = span * 0.06
    points = points.copy()
    # Nodes on the very same spot have no direction to part in: give them one, by their index.
    jitter = np.stack([np.cos(np.arange(count) * 2.4), np.sin(np.arange(count) * 2.4)], axis=1)
    for _round in range(rounds):
        delta = points[:, None, :] - points[None, :, :]
        distance = np.hypot(delta[..., 0], delta[..., 1])
        np.fill_diagonal(distance, np.inf)
        close = distance < gap
        if not close.any():
            break
        same = distance < gap * 1e-6
        delta = np.where(same[..., None], (jitter[:, None, :] - jitter[None, :, :]) * gap * 1e-3, delta)
        distance = np.maximum(np.hypot(delta[..., 0], delta[..., 1]), gap * 1e-9)
        push = np.where(close, (gap - distance) / distance / 2, 0.0)
        points += (push[..., None] * delta).sum(axis=1)
    return points


def _fit_view(axes: Axes, figure: Figure, points: np.ndarray) -> None:
    """Fill the panel, leaving room around the nodes for their names.

    North-south may be stretched a little where there is room: the graph is a sketch of the
    borders, and space between the nodes keeps their names apart.
    """
    box = axes.get_position()
    width, height = box.width * figure.bbox.width, box.height * figure.bbox.height
    pad_x, pad_top, pad_bottom = 80.0, 30.0, 62.0  # pixels
    low, high = points.min(axis=0), points.max(axis=0)
    span = np.maximum(high - low, 1e-9)
    fit_x, fit_y = (width - 2 * pad_x) / span[0], (height - pad_top - pad_bottom) / span[1]
    scale_x = min(fit_x, fit_y * MAX_STRETCH)
    scale_y = min(fit_y, scale_x * MAX_STRETCH)
    middle_x = (low[0] + high[0]) / 2
    middle_y = (low[1] + high[1]) / 2 + (pad_top - pad_bottom) / 2 / scale_y
    axes.set_xlim(middle_x - width / 2 / scale_x, middle_x + width / 2 / scale_x)
    axes.set_ylim(middle_y - height / 2 / scale_y, middle_y + height / 2 / scale_y)


def _short_names(regions: Sequence[Region], language: str) -> dict[str, str]:
    """Names without the words most of them share ("Region", "область", "Gebiet"), wrapped."""
    full = {r.id: r.display_name(language) for r in regions}
    words = Counter(w for name in full.values() for w in set(name.split()))
    common = {w for w, n in words.items() if n >= max(3, len(full) // 3)}
    short = {rid: " ".join(w for w in name.split() if w not in common) or name for rid, name in full.items()}
    clashes = Counter(short.values())
    return {rid: _wrap(full[rid] if clashes[name] > 1 else name) for rid, name in short.items()}


def _wrap(name: str, width: int = 12) -> str:
    """Break a long name once, at the space or hyphen closest to its middle."""
    if len(name) <= width:
        return name
    breaks = [i + 1 for i, c in enumerate(name) if c in " -"]
    if not breaks:
        return name
    cut = min(breaks, key=lambda i: abs(i - len(name) / 2))
    return f"{name[:cut].rstrip()}\n{name[cut:].lstrip()}"


def _place_labels(renderer: RendererAgg, axes: Axes, points: np.ndarray, items: list[tuple[int, str]]) -> None:
    """Name each node beside it, trying spots around it until the name covers no other name or node."""
    figure = axes.figure
    frame = axes.get_window_extent(renderer)
    inside: Box = (frame.x0, frame.y0, frame.x1, frame.y1)
    px = figure.dpi / 72  # pixels per point
    radius = NODE_SIZE * px / 2
    centres = axes.transData.transform(points)
    nodes: list[Box] = [(x - radius, y - radius, x + radius, y + radius) for x, y in centres]
    gap = NODE_SIZE / 2 + 1  # points from the node's centre
    diagonal = gap * 0.75
    # (offset in points, horizontal and vertical alignment): below, above, right, left, then diagonals.
    spots = [
        ((0.0, -gap), "center", "top"),
        ((0.0, gap), "center", "bottom"),
        ((gap, 0.0), "left", "center"),
        ((-gap, 0.0), "right", "center"),
        ((diagonal, -diagonal), "left", "top"),
        ((-diagonal, -diagonal), "right", "top"),
        ((diagonal, diagonal), "left", "bottom"),
        ((-diagonal, diagonal), "right", "bottom"),
    ]
    taken: list[Box] = []
    margin = 3.0  # pixels kept clear around a name
    for i, name in items:
        text = axes.annotate(
            name,
            xy=points[i],
            xytext=spots[0][0],
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize=SMALL_SIZE,
            color=TEXT,
            linespacing=1.05,
            zorder=4,
            annotation_clip=False,
            bbox={"boxstyle": "square,pad=0.08", "facecolor": "white", "edgecolor": "none", "alpha": 0.8},
        )
        # Measured once; each spot only moves the same box.
        box = text.get_window_extent(renderer)
        width, height = box.width, box.height
        x, y = centres[i]
        best: tuple[float, int, Box] | None = None
        for k, ((dx, dy), ha, va) in enumerate(spots):
            left = x + dx * px - {"left": 0.0, "center": width / 2, "right": width}[ha] - margin
            bottom = y + dy * px - {"bottom": 0.0, "center": height / 2, "top": height}[va] - margin
            rect: Box = (left, bottom, left + width + 2 * margin, bottom + height + 2 * margin)
            area = (width + 2 * margin) * (height + 2 * margin)
            cost = sum(_overlap(rect, other) for other in taken)
            cost += 2 * sum(_overlap(rect, node) for j, node in enumerate(nodes) if j != i)
            cost += 10 * (area - _overlap(rect, inside))
            if best is None or cost < best[0]:
                best = (cost, k, rect)
            if cost == 0:
                break
        assert best is not None
        _cost, k, rect = best
        offset, ha, va = spots[k]
        text.set_position(offset)
        text.set_horizontalalignment(ha)
        text.set_verticalalignment(va)
        taken.append(rect)


def _overlap(a: Box, b: Box) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    return width * height if width > 0 and height > 0 else 0.0
