"""PNG charts from figure data (see grader/figures.py), drawn with matplotlib.

matplotlib is imported on the first chart only: reports without pictures never
pay for it. Figures are built with the object API (no pyplot, no global state,
no window), so any process can draw them.

A batch draws the same figures for hundreds of students, and a full matplotlib
draw costs tens of milliseconds. So everything that is the same for every
student (axes, ticks, labels, legend, and the series a figure drew outside
`Figure.attempt`: the reference's curves, the lab's data) is drawn once per
process into a frame whose pixels are kept; a student's chart restores those
pixels, draws only the student's series on them (matplotlib's blitting) and
encodes the result. The frame's limits come from the figure's declared limits
or its fixed series. When a student's values leave them, a wider frame, its
edges rounded out to round numbers, is drawn once and shared by every student
whose values need the same; past WIDEN times the span the values are cut at
the edge instead, and a note under the chart says where they go.
"""
from __future__ import annotations

import json
import math
from collections import OrderedDict
from dataclasses import dataclass, field

from .png import encode_rgb

WIDTH, HEIGHT, DPI = 5.6, 3.4, 80
COLORS = {"reference": "#555555"}
CYCLE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]
LINESTYLES = {"solid": "-", "dashed": "--", "dotted": ":"}
LEGEND_COLUMNS = 4
UNSEEN = 0.002  # of an axis's range: less than a pixel beyond the edge does not count as outside
WIDEN = 4  # a frame grows to show a student's values up to this many times its span (in axis space)
MARGIN = 0.05  # of the span, beyond a widened edge
FRAMES = 16  # kept per process: two per figure (with and without the student's series) and some widened ones

_frames: OrderedDict = OrderedDict()


@dataclass
class Chart:
    """A drawn figure: the PNG, and notes on what it could not show."""

    png: bytes
    notes: list[str] = field(default_factory=list)


def _new_axes(legend_rows: int = 0):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI)
    FigureCanvasAgg(fig)
    # Fixed margins: an automatic ("tight") layout draws every chart twice. The
    # legend sits above the axes, where it never hides a student's curve.
    fig.subplots_adjust(left=0.14, right=0.97, bottom=0.15, top=0.96 - 0.075 * legend_rows)
    return fig, fig.add_subplot()


def _pixels(fig):
    import numpy as np

    return np.asarray(fig.canvas.buffer_rgba())


def _png(fig) -> bytes:
    fig.canvas.draw()
    return encode_rgb(_pixels(fig))


def preload() -> None:
    """Load matplotlib and its fonts now, e.g. in a parent process before it forks workers."""
    _png(_new_axes()[0])


def _floats(values):
    import numpy as np

    return np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64)


def _axis_space(values, log: bool):
    """Values where the axis spaces them evenly: log10 on a log axis (NaN or -inf for values <= 0)."""
    import numpy as np

    if not log:
        return np.asarray(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(np.asarray(values, dtype=np.float64))


def _round_out(value: float, log: bool, up: bool) -> float:
    """`value` (in axis space) moved outward to a round one: a whole power of ten on a log
    axis, else 0 or plus or minus 1, 2 or 5 times a power of ten."""
    if log:
        return float(math.ceil(value) if up else math.floor(value))
    if value == 0:
        return 0.0
    size = abs(value)
    power = 10.0 ** math.floor(math.log10(size))
    if (value > 0) == up:  # away from zero
        rounded = next(f * power for f in (1, 2, 5, 10) if f * power >= size * (1 - 1e-9))
    else:
        rounded = next(f * power for f in (5, 2, 1) if f * power <= size * (1 + 1e-9))
    return math.copysign(rounded, value)


def figure_chart(data: dict) -> Chart | None:
    """The chart of one figure's data, or None when it has nothing to draw."""
    series = [s for s in data.get("series", []) if s.get("x")]
    if not series:
        return None
    mine = [bool(s.get("student")) for s in series]
    if all(mine):  # nothing but the student's values to frame them: the whole chart is theirs
        mine = [False] * len(series)
    layout = {k: data.get(k) for k in ("xlabel", "ylabel", "yscale", "xlim", "ylim")}
    shared = [{k: v for k, v in s.items() if not (m and k in ("x", "y"))} for s, m in zip(series, mine)]
    student = [s for s, m in zip(series, mine) if m]
    frame = _frame([layout, shared, None], lambda: _Frame(data, series, mine))
    wide = frame.wider(student)
    if wide:
        frame = _frame([layout, shared, wide], lambda: _Frame(data, series, mine, wide))
    return frame.draw(student)


def _frame(key: list, build) -> _Frame:
    """The frame for `key`, drawn by `build()` unless this process kept it."""
    text = json.dumps(key, sort_keys=True)
    frame = _frames.pop(text, None) or build()
    _frames[text] = frame
    while len(_frames) > FRAMES:
        _frames.popitem(last=False)
    return frame


class _Frame:
    """The part of a chart that is the same for every student, drawn once; then students' series on it."""

    def __init__(self, data: dict, series: list[dict], mine: list[bool], limits=None):
        rows = math.ceil(len(series) / LEGEND_COLUMNS)
        self.fig, self.ax = fig, ax = _new_axes(rows)
        colors = iter(CYCLE)
        self.mine, fixed = [], []
        for s, student in zip(series, mine):
            color = COLORS.get(s.get("label")) or next(colors, "black")
            artist = _artist(ax, s, [] if student else _floats(s["x"]), [] if student else _floats(s["y"]), color)
            (self.mine if student else fixed).append(artist)
        fixed_y = ([v for s, m in zip(series, mine) if not m for v in s["y"] if v is not None]
                   + list(data.get("ylim") or []))
        log = data.get("yscale") == "log" and all(v > 0 for v in fixed_y)
        if log:
            from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

            ax.set_yscale("log")
            # Plain labels at 1, 2 and 5 times powers of ten: readable, and no mathtext to typeset.
            ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
            ax.yaxis.set_minor_formatter(NullFormatter())
        for axis, declared in ((ax.set_xlim, data.get("xlim")), (ax.set_ylim, data.get("ylim"))):
            if declared:
                axis(*declared)
        if limits:
            ax.set_xlim(*limits[0])
            ax.set_ylim(*limits[1])
        # Frozen: the students' series, drawn later, never move the axes.
        self.limits = (ax.set_xlim(ax.get_xlim()), ax.set_ylim(ax.get_ylim()))
        self.logs = (False, log)
        self.names = (data.get("xlabel") or "x", data.get("ylabel") or "y")
        ax.set_xlabel(data.get("xlabel", ""))
        ax.set_ylabel(data.get("ylabel", ""))
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small", loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=min(len(series), LEGEND_COLUMNS),
                  frameon=False, borderaxespad=0.2)
        # Fixed series that belong above the student's (dashed lines, so an identical
        # curve still shows) are left out of the kept pixels and drawn after theirs.
        lowest = min((a.get_zorder() for a in self.mine), default=math.inf)
        self.above = sorted((a for a in fixed if a.get_zorder() > lowest), key=lambda a: a.get_zorder())
        for artist in self.above:
            artist.set_visible(False)
        fig.canvas.draw()
        self.background = fig.canvas.copy_from_bbox(fig.bbox)
        for artist in self.above:
            artist.set_visible(True)

    def _axes(self, x, y):
        """Per axis: its name, whether it is log, the values and the limits in axis space, and the slack."""
        for name, values, (low, high), log in zip(self.names, (x, y), self.limits, self.logs):
            start, end = _axis_space([low, high], log)
            yield name, log, _axis_space(values, log), (start, end), (end - start) * UNSEEN

    def wider(self, student: list[dict]):
        """Limits that also show the student's values, or None when these limits show them.

        A widened edge is rounded out (see _round_out) so that students with
        similar values share a frame; past WIDEN times the frame's span the
        frame stays as it is and the values are cut, with a note.
        """
        import numpy as np

        if not student:
            return None
        x = np.concatenate([_floats(s["x"]) for s in student])
        y = np.concatenate([_floats(s["y"]) for s in student])
        limits, changed = [], False
        for (_name, log, at, (start, end), slack), low_high in zip(self._axes(x, y), self.limits):
            at = at[np.isfinite(at)]
            new_start = _round_out(at.min(), log, up=False) if at.size and at.min() < start - slack else start
            new_end = _round_out(at.max(), log, up=True) if at.size and at.max() > end + slack else end
            if (new_start, new_end) == (start, end) or new_end - new_start > WIDEN * (end - start):
                limits.append(list(low_high))
                continue
            pad = 0.0 if log else MARGIN * (new_end - new_start)  # matplotlib's own margin, on the widened sides
            new_start, new_end = new_start - pad * (new_start < start), new_end + pad * (new_end > end)
            limits.append([10 ** new_start, 10 ** new_end] if log else [new_start, new_end])
            changed = True
        return limits if changed else None

    def draw(self, mine: list[dict]) -> Chart:
        """The chart with these student series (in the order the frame was made for)."""
        self.fig.canvas.restore_region(self.background)
        notes = []
        for artist, s in zip(self.mine, mine):
            x, y = _floats(s["x"]), _floats(s["y"])
            notes.extend(self._unseen(str(s.get("label", "")), x, y))
            artist.set_data(x, y)
            self.ax.draw_artist(artist)
        for artist in self.above:
            self.ax.draw_artist(artist)
        return Chart(encode_rgb(_pixels(self.fig)), notes)

    def _unseen(self, label: str, x, y) -> list[str]:
        """Notes on the values of a student series that the frame cannot show."""
        import numpy as np

        finite = np.isfinite(x) & np.isfinite(y)
        notes = []
        if not finite.all():
            notes.append(f"{label}: {int((~finite).sum())} of {len(x)} values are not finite numbers, so not drawn")
        for (name, _log, at, (start, end), slack), values, (low, high) in zip(self._axes(x, y), (x, y), self.limits):
            # NaN (the log of a value <= 0) counts as outside.
            outside = ~((at[finite] >= start - slack) & (at[finite] <= end + slack))
            if outside.any():
                where = "entirely" if outside.all() else "partly"
                notes.append(f"{label} lies {where} outside the picture: its {name} goes "
                             f"from {values[finite].min():.3g} "
                             f"to {values[finite].max():.3g}, the picture shows {low:.3g} to {high:.3g}")
        return notes


def _artist(ax, s: dict, x, y, color):
    if s.get("kind") == "points":
        return ax.plot(x, y, linestyle="none", marker=s.get("marker", "o"), color=color, label=s.get("label"))[0]
    style = LINESTYLES.get(s.get("style"), "-")
    # Broken lines go on top, so a line hidden under an identical one still shows.
    return ax.plot(x, y, style, color=color, label=s.get("label"), linewidth=1.6, zorder=3 if style != "-" else 2)[0]


def histogram_png(values: list[float], top: float, bins: int = 10, xlabel: str = "score") -> bytes:
    """Bars counting `values` in `bins` equal ranges from 0 to `top` (the top one includes `top`)."""
    fig, ax = _new_axes()
    ax.hist(values, bins=bins, range=(0, top or 1), color=CYCLE[0], edgecolor="white")
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("students")
    ax.grid(alpha=0.3, axis="y")
    return _png(fig)
