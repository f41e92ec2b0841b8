"""Collecting the figures an exercise declares, while one submission is graded.

Each figure function of `solutions/NAME/plots.py` takes `(student, reference)`
and returns a `grader.figures.Figure`; `student` calls the submission's
functions in the sandbox exactly as the hidden suites do, reusing the outcome
of an identical call the suites already made.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

from ..course import Exercise
from ..errors import GraderError
from ..figures import Figure, first_line
from ..testing import StudentFailure
from .plugin import StudentModule

MODULE = "plots.py"

_MODULES: dict = {}


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
            data = Figure(name).note(f"could not be drawn: {first_line(str(failure))}").to_dict()
        except Exception as exc:  # noqa: BLE001 - a figure must never stop grading
            data = Figure(name).note(f"could not be drawn ({type(exc).__name__}: {first_line(str(exc))})").to_dict()
        figures.append({"name": name, "part": part.name, **data})
    return figures


def figure_problems(result) -> list[str]:
    """Notes on the reference's figures: a note there means a broken figure function."""
    return [f"figure {f.get('name')}: {note}"
            for f in result.artifacts.get("figures", []) for note in f.get("notes", [])]
