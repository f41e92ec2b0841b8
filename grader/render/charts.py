"""PNG charts from figure data (see grader/figures.py), drawn with matplotlib.

matplotlib is imported on the first chart only: reports without pictures never
pay for it. Figures are built with the object API (no pyplot, no global state,
no window), so any process can draw them.
"""
from __future__ import annotations

import io

WIDTH, HEIGHT, DPI = 5.6, 3.4, 80
COLORS = {"reference": "#555555"}
CYCLE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]
LINESTYLES = {"solid": "-", "dashed": "--", "dotted": ":"}


def _new_axes():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI)
    FigureCanvasAgg(fig)
    # Fixed margins: an automatic ("tight") layout draws every chart twice.
    fig.subplots_adjust(left=0.14, right=0.97, bottom=0.15, top=0.96)
    return fig, fig.add_subplot()


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def preload() -> None:
    """Load matplotlib and its fonts now, e.g. in a parent process before it forks workers."""
    _png(_new_axes()[0])


def _floats(values):
    return [float("nan") if v is None else float(v) for v in values]


def figure_png(data: dict) -> bytes | None:
    """The chart of one figure's data, or None when it has nothing to draw."""
    series = [s for s in data.get("series", []) if s.get("x")]
    if not series:
        return None
    fig, ax = _new_axes()
    colors = iter(CYCLE)
    for s in series:
        color = COLORS.get(s.get("label")) or next(colors, "black")
        x, y = _floats(s["x"]), _floats(s["y"])
        if s.get("kind") == "points":
            ax.plot(x, y, linestyle="none", marker=s.get("marker", "o"), color=color, label=s.get("label"))
        else:
            style = LINESTYLES.get(s.get("style"), "-")
            # Broken lines go on top, so a line hidden under an identical one still shows.
            ax.plot(x, y, style, color=color, label=s.get("label"), linewidth=1.6, zorder=3 if style != "-" else 2)
    if data.get("yscale") == "log" and all(v is None or v > 0 for s in series for v in s["y"]):
        from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

        ax.set_yscale("log")
        # Plain labels at 1, 2 and 5 times powers of ten: readable, and no mathtext to typeset.
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(NullFormatter())
    if data.get("xlim"):
        ax.set_xlim(*data["xlim"])
    if data.get("ylim"):
        ax.set_ylim(*data["ylim"])
    ax.set_xlabel(data.get("xlabel", ""))
    ax.set_ylabel(data.get("ylabel", ""))
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return _png(fig)


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
