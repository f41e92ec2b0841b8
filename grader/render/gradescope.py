"""Gradescope's results.json, from the results model (scores are copied, never recomputed)."""
from __future__ import annotations

import json

from ..results import GradeResult


def results(result: GradeResult) -> dict:
    """The results.json document: one Gradescope test per test, numbered part.test."""
    tests = []
    for i, part in enumerate(result.parts, start=1):
        for j, test in enumerate(part.tests, start=1):
            output = test.message
            if test.output.strip():
                output += ("\n\n" if output else "") + "printed:\n" + test.output
            tests.append({
                "name": f"{part.name}: {test.name}",
                "number": f"{i}.{j}",
                "score": test.score,
                "max_score": test.max_score,
                "status": "passed" if test.passed else "failed",
                "output": output,
                "tags": [part.name],
                "visibility": "visible",
            })
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
