"""The class gradebook: a CSV row per student, copied from the results model.

Spreadsheets run a cell that starts with =, +, - or @ as a formula (and some
do after a leading tab or carriage return), and a student names their own
folder: every text cell starting with one of those gets a leading single
quote, which spreadsheets show as text. report.json keeps the real id.
"""
from __future__ import annotations

import csv
import io

from ..results import IMPORT_TEST, GradeResult


def part_names(results: list[GradeResult]) -> list[str]:
    """Every part name, in the order the results list them."""
    names: list[str] = []
    for result in results:
        names.extend(p.name for p in result.parts if p.name not in names)
    return names


LATE_COLUMNS = ("submitted_at", "deadline", "days_late", "penalty", "final")


def render(results: list[GradeResult], late: dict | None = None) -> str:
    """Columns: id, total, one per part, status, note (why a student was not graded); with `late` (student
    id -> batch.late.Lateness, when the exercise has a deadline), then LATE_COLUMNS: total stays the raw score."""
    names = part_names(results)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([text_cell(t) for t in ("id", "total", *names, "status", "note", *(LATE_COLUMNS if late else ()))])
    for result in sorted(results, key=lambda r: r.student):
        scores = {p.name: p.score for p in result.parts}
        writer.writerow([text_cell(result.student), f"{result.score:g}", *(_cell(scores.get(n)) for n in names),
                         text_cell(result.status), text_cell(note(result)),
                         *(_late_cells(late[result.student]) if late else ())])
    return buffer.getvalue()


def _late_cells(lateness) -> list[str]:
    zone = lateness.deadline.tzinfo  # the submission time shown in the deadline's time zone, to compare at a glance
    submitted = lateness.submitted.astimezone(zone).isoformat(timespec="seconds") if lateness.submitted else ""
    return [submitted, lateness.deadline.isoformat(timespec="seconds"), str(lateness.days),
            f"{lateness.penalty:g}", f"{lateness.final:g}"]


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(text: str) -> str:
    """`text` as a cell no spreadsheet runs as a formula (see the module docstring), with carriage
    returns made line feeds (the csv module quotes a cell holding "\\n", not one holding "\\r")."""
    text = "'" + text if text.startswith(FORMULA_STARTS) else text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def note(result: GradeResult) -> str:
    """What an instructor should know without opening the report: why the
    student was not graded, a module that did not import, parts that timed
    out, and the parts' own notes (no quiz.toml, not implemented yet)."""
    if result.error:
        return result.error
    failed = next((t for p in result.parts for t in p.tests if t.name == IMPORT_TEST and not t.passed), None)
    if failed and failed.message:
        return f"module could not be imported: {failed.message.splitlines()[0]}"
    notes = []
    for part in result.parts:
        if any("timed out after" in t.message for t in part.tests):
            notes.append(f"{part.name}: timed out")
        elif part.note:
            notes.append(f"{part.name}: {part.note}")
    return "; ".join(notes)


def _cell(value) -> str:
    return "" if value is None else f"{value:g}"
