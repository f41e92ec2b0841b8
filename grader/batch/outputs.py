"""Writing reports to an output folder, and `grade publish DIR`.

Per student, in DIR/<id>/: report.json (the full results model, the record),
feedback.html and results.json (student-facing, hidden tests summarised when
asked). For the class, in DIR: gradebook.csv and summary.html. Everything here
is rendered from the per-student report.json files alone.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import GraderError
from ..results import GradeResult, save_json, write_atomic
from ..visibility import student_view

REPORT = "report.json"
FEEDBACK = "feedback.html"
GRADESCOPE = "results.json"
GRADEBOOK = "gradebook.csv"
SUMMARY = "summary.html"


def write_student_views(folder: Path, result: GradeResult, hide_hidden: bool) -> None:
    """feedback.html and results.json for one student, each written atomically."""
    from ..render import gradescope, html

    shown = student_view(result, hide_hidden)
    write_atomic(folder / FEEDBACK, html.render(shown))
    write_atomic(folder / GRADESCOPE, gradescope.render(shown))


def write_student(folder: Path, result: GradeResult, hide_hidden: bool) -> None:
    """All of one student's files: the record first, then what is rendered from it."""
    save_json(result, folder / REPORT)
    write_student_views(folder, result, hide_hidden)


def read_reports(out: Path) -> list[tuple[Path, GradeResult]]:
    """(folder, result) of every DIR/<id>/report.json; GraderError for one that cannot be read."""
    found = []
    for path in sorted(Path(out).glob(f"*/{REPORT}")):
        try:
            found.append((path.parent, GradeResult.from_dict(json.loads(path.read_text(encoding="utf-8")))))
        except (ValueError, KeyError, TypeError) as exc:
            raise GraderError(f"{path}: not a report written by grade ({type(exc).__name__}: {exc})") from None
    return found


def write_class(out: Path, results: list[GradeResult]) -> None:
    """gradebook.csv and summary.html for the whole class, with the late penalties and the LMS file that
    the folder's remembered settings ask for (grades.py; summary.html shows the raw scores)."""
    from ..render import gradebook, summary
    from .grades import exports

    extra = exports(Path(out), results)
    write_atomic(Path(out) / GRADEBOOK, gradebook.render(results, extra.late))
    write_atomic(Path(out) / SUMMARY, summary.render(results))
    extra.write(Path(out))


def publish_reports(out: Path, hide_hidden: bool) -> int:
    """Rebuild every output in `out` from its report.json files; returns how many students."""
    reports = read_reports(out)
    if not reports:
        raise GraderError(f"{out}: holds no <student>/{REPORT}; run `grade batch` first")
    for folder, result in reports:
        write_student_views(folder, result, hide_hidden)
    write_class(out, [r for _, r in reports])
    return len(reports)
