"""The class gradebook: a CSV row per student, copied from the results model."""
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


def render(results: list[GradeResult]) -> str:
    """Columns: id, total, one per part, status, note (why a student was not graded)."""
    names = part_names(results)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "total", *names, "status", "note"])
    for result in sorted(results, key=lambda r: r.student):
        scores = {p.name: p.score for p in result.parts}
        writer.writerow([result.student, f"{result.score:g}", *(_cell(scores.get(n)) for n in names),
                         result.status, note(result)])
    return buffer.getvalue()


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
