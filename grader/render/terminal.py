"""The terminal report: one line per part, then what each failing test said."""
from __future__ import annotations

import click

from ..results import GradeResult


def _points(value: float) -> str:
    return f"{value:g}"


def render(result: GradeResult, color: bool = False) -> str:
    """The report as text; ANSI colours only when `color`."""

    def paint(text, **style):
        return click.style(text, **style) if color else text

    lines = []
    title = f"{result.exercise}" + (f"  ({result.student})" if result.student else "")
    lines.append(paint(title, bold=True))
    if result.public_only:
        lines.append(paint("Public checks only: these are the worked examples from the lab. "
                           "The hidden tests decide your grade.", fg="yellow"))
    if result.status != "graded":
        lines.append(paint(f"not graded: {result.error}", fg="red"))
    width = max([len(p.name) for p in result.parts] + [10])
    for part in result.parts:
        full = part.score >= part.max_score and part.max_score > 0 or (part.tests and all(t.passed for t in part.tests))
        mark = paint("✓", fg="green") if full else paint("✗", fg="red")
        score = "" if result.public_only else f"{_points(part.score):>6} / {_points(part.max_score)}"
        passed = sum(t.passed for t in part.tests)
        detail = f"{passed}/{len(part.tests)} checks passed" + (f"; {part.note}" if part.note else "")
        lines.append(f"  {mark} {part.name:<{width}} {score}   {detail}")
        if part.note == "not implemented yet":
            continue
        for test in part.tests:
            if test.passed:
                continue
            message = test.message.replace("\n", "\n        ")
            lines.append(f"      - {test.name}: {message}")
            if test.output.strip():
                shown = test.output.strip().replace("\n", "\n          | ")
                lines.append(f"        printed:\n          | {shown}")
    if result.public_only:
        passed = sum(t.passed for p in result.parts for t in p.tests)
        total = sum(len(p.tests) for p in result.parts)
        lines.append(paint(f"Public checks: {passed} of {total} passed (not your grade)", bold=True))
    else:
        lines.append(paint(f"Total: {_points(result.score)} / {_points(result.max_score)}", bold=True))
    lines.append(f"(graded in {result.seconds:.2f} s; sandbox: {result.isolation})")
    return "\n".join(lines)
