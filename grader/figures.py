"""Figures for feedback pages, as plain data.

An exercise declares its figures in its manifest:

    [[plots]]
    name = "sigmoid_curve"   # a function of solutions/NAME/plots.py
    part = "sigmoid"         # the part whose section shows it

Each function takes `(student, reference)` and returns a `Figure`. `student`
calls the submission's functions in the sandbox, exactly as the hidden suites
do (other parts served by the reference until judged correct), and reuses the
outcome of an identical call the suites already made. Only decoded plain values
reach the figure, so the data can be stored in the results model and drawn
later, by any process, from the JSON alone. The grader knows nothing about
what a figure shows.
"""
from __future__ import annotations

import importlib.util
import math
from contextlib import contextmanager
from pathlib import Path

from .course import Exercise
from .errors import GraderError
from .grading.plugin import StudentModule
from .testing import StudentFailure

MODULE = "plots.py"
MAX_POINTS = 2000  # per series; keeps a report.json small
STYLES = ("solid", "dashed", "dotted")
MARKERS = ("o", "x", "s", "^", "+")

_MODULES: dict = {}


class Figure:
    """A chart described as data: lines and point sets on two axes, and notes."""

    def __init__(self, title: str, xlabel: str = "", ylabel: str = "", yscale: str = "linear"):
        self.title = title
        self.xlabel = xlabel
        self.ylabel = ylabel
        self.yscale = yscale if yscale in ("linear", "log") else "linear"
        self.series: list[dict] = []
        self.notes: list[str] = []
        self.xlim = self.ylim = None
        self._student = False  # inside attempt(): the series added are the student's

    def line(self, x, y, label: str, style: str = "solid") -> Figure:
        """A line through the points (x[i], y[i]); ValueError when y is not len(x) numbers."""
        return self._add("line", x, y, label, style=style if style in STYLES else "solid")

    def points(self, x, y, label: str, marker: str = "o") -> Figure:
        """Unconnected points, e.g. a data set."""
        return self._add("points", x, y, label, marker=marker if marker in MARKERS else "o")

    def limits(self, x=None, y=None) -> Figure:
        """Fix the visible range of an axis, as (low, high)."""
        self.xlim = _pair(x) if x is not None else self.xlim
        self.ylim = _pair(y) if y is not None else self.ylim
        return self

    def note(self, text: str) -> Figure:
        """A sentence shown under the figure."""
        self.notes.append(str(text))
        return self

    @contextmanager
    def attempt(self, what: str):
        """Run a block that draws the student's values; a failure becomes a note.

        A student function that raised, timed out or returned something that is
        not numbers of the right length gives `what could not be drawn: why`.
        Series added in the block are marked as the student's: the renderer
        draws the rest once for every student and only these per student, in
        the frame the rest sets (a note says when they leave it).
        """
        self._student = True
        try:
            yield self
        except StudentFailure as failure:
            self.note(f"{what} could not be drawn: {_first_line(str(failure))}")
        except (ValueError, TypeError, ArithmeticError, IndexError, KeyError) as exc:
            self.note(f"{what} could not be drawn: {_first_line(str(exc)) or type(exc).__name__}")
        finally:
            self._student = False

    def _add(self, kind, x, y, label, **style):
        xs = numbers(x, "x values")
        ys = numbers(y, f"{label}")
        if len(ys) != len(xs):
            raise ValueError(f"{label}: expected {len(xs)} values, got {len(ys)}")
        step = max(1, math.ceil(len(xs) / MAX_POINTS))
        self.series.append({"kind": kind, "label": str(label), "x": xs[::step], "y": ys[::step], **style,
                            **({"student": True} if self._student else {})})
        return self

    def to_dict(self) -> dict:
        data = {"title": self.title, "xlabel": self.xlabel, "ylabel": self.ylabel, "yscale": self.yscale,
                "series": self.series, "notes": self.notes}
        if self.xlim:
            data["xlim"] = self.xlim
        if self.ylim:
            data["ylim"] = self.ylim
        return data


def numbers(values, what: str = "values") -> list:
    """Values as a flat list of floats (None where not finite); ValueError for anything but numbers."""
    import numpy as np

    try:
        array = np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise ValueError(f"{what}: not numbers (got {type(values).__name__})") from None
    # Six significant digits are plenty for a picture and keep the JSON small.
    return [float(f"{v:.6g}") if math.isfinite(v) else None for v in array.tolist()]


def _pair(value):
    low, high = numbers(value, "limits")
    return [low, high]


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:300] if text.strip() else ""


class _FigureStudent(StudentModule):
    """The `student` a figure function gets: reuses outcomes of calls the suites made."""

    def call(self, fn, *args):
        outcome = self._grading.recall(self._part, fn, args)
        self.last = outcome
        return outcome


def load_module(path: Path):
    """Import an exercise's figure module by path, once per process (trusted code)."""
    key = (str(path), path.stat().st_mtime_ns)
    if key not in _MODULES:
        spec = importlib.util.spec_from_file_location(f"_figures_{abs(hash(key))}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _MODULES[key] = module
    return _MODULES[key]


def declared(exercise: Exercise) -> list[tuple[str, object]]:
    """(name, part) of each figure in the manifest, checked; GraderError when malformed."""
    parts = {p.name: p for p in exercise.parts}
    found = []
    for entry in exercise.plots:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or entry.get("part") not in parts:
            raise GraderError(f"{exercise.name}: every [[plots]] entry needs a name and the name of a part, "
                              f"got {entry!r}")
        found.append((entry["name"], parts[entry["part"]]))
    return found


def collect(exercise: Exercise, grading) -> list[dict]:
    """The data of every declared figure, each tagged with its name and part."""
    path = exercise.solution_folder / MODULE
    if not path.is_file():
        raise GraderError(f"{exercise.name}: the manifest declares plots but {path} does not exist")
    module = load_module(path)
    figures = []
    for name, part in declared(exercise):
        draw = getattr(module, name, None)
        if not callable(draw):
            raise GraderError(f"{path}: no function {name}() for the plot the manifest declares")
        try:
            figure = draw(_FigureStudent(grading, part), grading.reference)
            data = figure.to_dict()
        except StudentFailure as failure:
            data = Figure(name).note(f"could not be drawn: {_first_line(str(failure))}").to_dict()
        except Exception as exc:  # noqa: BLE001 - a figure must never stop grading
            data = Figure(name).note(f"could not be drawn ({type(exc).__name__}: {_first_line(str(exc))})").to_dict()
        figures.append({"name": name, "part": part.name, **data})
    return figures


def figure_problems(result) -> list[str]:
    """Notes on the reference's figures: a note there means a broken figure function."""
    return [f"figure {f.get('name')}: {note}"
            for f in result.artifacts.get("figures", []) for note in f.get("notes", [])]
