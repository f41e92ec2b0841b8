"""Gradescope's results.json, from the results model (scores are copied, never recomputed)."""
from __future__ import annotations

import json

from ..grouping import Group, failure_groups
from ..results import GradeResult


def results(result: GradeResult) -> dict:
    """The results.json document (its tests: see `gradescope_tests`)."""
    tests = [{**entry, "visibility": "visible"} for entry in gradescope_tests(result)]
    return {
        "score": result.score,
        "execution_time": float(result.seconds),
        "output": overview_text(result),
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"exercise": result.exercise, "status": result.status, "isolation": result.isolation},
    }


def gradescope_tests(result: GradeResult) -> list[dict]:
    """Gradescope's tests, numbered part.entry: per part, one entry for each
    cause of failure (the failing tests it groups, see grouping.py, with their
    points summed), the most telling first, then one entry per passed test."""
    tests = []
    for i, part in enumerate(result.parts, start=1):
        entries = [_failed(part, g) for g in failure_groups(part)]
        entries += [_entry(part, t.name, t.score, t.max_score, True, _with_printed(t.message, t.output))
                    for t in part.tests if t.passed]
        tests += [{"name": e.pop("name"), "number": f"{i}.{j}", **e} for j, e in enumerate(entries, start=1)]
    return tests


def _failed(part, group: Group) -> dict:
    more = f" (and {len(group.tests) - 1} more)" if len(group.tests) > 1 else ""
    output = (f"hint: {group.hint}\n\n" if group.hint else "") + group.body()
    if len(group.tests) > 1:
        output += (f"\n\nThe same cause in {len(group.tests)} of {len(part.tests)} checks: "
                   + "; ".join(t.name for t in group.tests))
    # Sums of the tests' points, which are rounded to 4 places: to 2 places, 15.0002 is the 15 it stands for.
    return _entry(part, group.example.name + more, round(sum(t.score for t in group.tests), 2),
                  round(sum(t.max_score for t in group.tests), 2), False, _with_printed(output, group.example.output))


def _entry(part, name, score, max_score, passed, output) -> dict:
    return {"name": f"{part.name}: {name}", "score": score, "max_score": max_score,
            "status": "passed" if passed else "failed", "output": output, "tags": [part.name]}


def _with_printed(text: str, printed: str) -> str:
    return text + (("\n\n" if text else "") + "printed:\n" + printed if printed.strip() else "")


def overview_text(result: GradeResult) -> str:
    lines = [f"{result.exercise}: {result.score:g} / {result.max_score:g}"]
    if result.status != "graded":
        lines.append(f"Not graded: {result.error}")
    for part in result.parts:
        note = f" ({part.note})" if part.note else ""
        lines.append(f"{part.name}: {part.score:g} / {part.max_score:g}{note}")
    return "\n".join(lines)


def render(result: GradeResult) -> str:
    return json.dumps(results(result), indent=2)
