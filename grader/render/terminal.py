"""The terminal report: one line per part, then what to fix. Failures with one
cause are shown once (see grouping.py): the hint, one example in full and how
many checks it stands for, and the part's other causes one line each. With
`verbose`, every failing test in full."""
from __future__ import annotations

import click

from ..grouping import failure_groups, leaning_note
from ..results import GradeResult, PartResult
from ..text import safe_report

PRINTED_LINES = 5  # of a test's printed output, unless verbose
ONE_LINE = 150  # characters of a one-line summary


def _points(value: float) -> str:
    return f"{value:g}"


def render(result: GradeResult, color: bool = False, verbose: bool = False) -> str:
    """The report as text; ANSI colours only when `color`; every failing test in full when `verbose`."""

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
    folded = False
    imports_shown = set()  # a module that failed to import fails every part alike: its failure is shown once
    for part in result.parts:
        full = part.score >= part.max_score and part.max_score > 0 or (part.tests and all(t.passed for t in part.tests))
        mark = paint("✓", fg="green") if full else paint("✗", fg="red")
        score = "" if result.public_only else f"{_points(part.score):>6} / {_points(part.max_score)}"
        passed = sum(t.passed for t in part.tests)
        detail = f"{passed}/{len(part.tests)} checks passed" + (f"; {part.note}" if part.note else "")
        lines.append(f"  {mark} {part.name:<{width}} {score}   {detail}")
        if note := leaning_note(part):
            lines.append(paint(f"      note: {note}", fg="yellow"))
        # Nothing to fix in a part with full marks: only a check that carries no points can have failed there.
        if part.note == "not implemented yet" or (full and not verbose):
            continue
        if verbose:
            for test in part.tests:
                if not test.passed:
                    lines.extend(_failure(test.name, test.message, test.output))
        else:
            if part.note == "module could not be imported":
                failing = tuple(t.message for t in part.tests if not t.passed)
                if failing in imports_shown:
                    continue
                imports_shown.add(failing)
            lines.extend(_grouped(part, paint))
            folded = folded or sum(not t.passed for t in part.tests) > 1
    if folded:
        lines.append("(--verbose shows every failing check in full)")
    if result.public_only:
        passed = sum(t.passed for p in result.parts for t in p.tests)
        total = sum(len(p.tests) for p in result.parts)
        lines.append(paint(f"Public checks: {passed} of {total} passed (not your grade)", bold=True))
    else:
        lines.append(paint(f"Total: {_points(result.score)} / {_points(result.max_score)}", bold=True))
    lines.append(f"(graded in {result.seconds:.2f} s; sandbox: {result.isolation})")
    return safe_report("\n".join(lines))  # the last line of defence: nothing the student wrote is obeyed


def _failure(name: str, message: str, output: str, printed_lines: int | None = None) -> list[str]:
    """One failing test in full: its name and message, and what it printed."""
    lines = [f"      - {name}: " + message.replace("\n", "\n        ")]
    printed = output.strip().split("\n") if output.strip() else []
    if printed:
        cut = printed if printed_lines is None else printed[:printed_lines]
        more = len(printed) - len(cut)
        lines.append("        printed:\n          | " + "\n          | ".join(cut)
                     + (f"\n          | ... ({more} more lines)" if more else ""))
    return lines


def _grouped(part: PartResult, paint) -> list[str]:
    """What to fix first, then the most telling failure in full, then the part's other causes in a line each."""
    groups = failure_groups(part)
    if not groups:
        return []
    first, rest = groups[0], groups[1:]
    lines = [paint(f"      hint: {first.hint}", bold=True)] if first.hint else []
    lines.extend(_failure(first.example.name, first.body(), first.example.output, PRINTED_LINES))
    if len(first.tests) > 1:
        lines.append(f"        (the same cause in {len(first.tests)} of {len(part.tests)} checks)")
    for group in rest:
        more = f" and {len(group.tests) - 1} more" if len(group.tests) > 1 else ""
        line = f"      - {group.example.name}{more}: {group.headline()}"
        # A hint is never cut: it is what the student needs to read.
        lines.append(line if group.hint or len(line) <= ONE_LINE else line[: ONE_LINE - 1] + "…")
    return lines
