"""Gradescope's results.json, from the results model (scores are copied, never recomputed).

When each test is shown comes from the model: a test the suite marks visible
(`TestResult.hidden` false: the lab's own examples, the quiz, an import
failure) is always shown; a hidden test is shown as `hidden_tests` says (the
exercise's option, passed in by the caller). While any test with points is not
shown, Gradescope hides the total, and the summary tells nothing the hidden
tests decide either.
"""
from __future__ import annotations

import json

from ..grouping import Group, failure_groups, leaning_note
from ..results import GradeResult, PartResult, TestResult

HINT = "hint: "


def results(result: GradeResult, hidden_tests: str = "visible", leaderboard: bool = False,
            notes: tuple = ()) -> dict:
    """The results.json document (its tests: see `gradescope_tests`).

    `hidden_tests`: the visibility of hidden tests ("visible", "after_due_date",
    "after_published" or "hidden"). `leaderboard`: add the total and each part's
    score to the assignment's leaderboard. `notes`: lines about how the upload
    was read, shown first in the summary.
    """
    tests = gradescope_tests(result, hidden_tests)
    doc = {
        "score": result.score,
        "execution_time": float(result.seconds),
        "output": summary(result, hidden_tests, notes),
        "output_format": "md",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"exercise": result.exercise, "status": result.status, "isolation": result.isolation,
                       "max_score": result.max_score, "parts": {p.name: p.score for p in result.parts}},
    }
    if leaderboard:
        doc["leaderboard"] = [{"name": "Total", "value": result.score, "order": "desc"}]
        doc["leaderboard"] += [{"name": p.name, "value": p.score, "order": "desc"} for p in result.parts]
    return doc


def gradescope_tests(result: GradeResult, hidden_tests: str = "visible") -> list[dict]:
    """Gradescope's tests, numbered part.entry: per part, one entry for each
    cause of failure (the failing tests it groups, see grouping.py, with their
    points summed), the most telling first, then one entry per passed test.
    Tests Gradescope shows at different times are never in one entry."""
    tests = []
    for i, part in enumerate(result.parts, start=1):
        entries = []
        for shown in dict.fromkeys(visibility(t, hidden_tests) for t in part.tests):
            alike = PartResult(part.name, part.max_score,
                               [t for t in part.tests if visibility(t, hidden_tests) == shown])
            entries += [{**_failed(part, g), "visibility": shown} for g in failure_groups(alike)]
        entries += [{**_entry(part, t.name, t.score, t.max_score, True, _with_printed(t.message, t.output)),
                     "visibility": visibility(t, hidden_tests)} for t in part.tests if t.passed]
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


def visibility(test: TestResult, hidden_tests: str) -> str:
    """When Gradescope shows `test` to its student."""
    return hidden_tests if test.hidden else "visible"


def summary(result: GradeResult, hidden_tests: str = "visible", notes: tuple = ()) -> str:
    """The top of the page, in Markdown: the score per part (or, while hidden
    tests are not shown, only what the shown tests say), then the hints of the
    failed tests that are shown."""
    lines = [f"- {_md(note)}" for note in notes]
    lines += [""] if notes else []
    if result.status != "graded":
        return "\n".join([*lines, f"**Not graded:** {_md(result.error)}"])
    secret = hidden_tests != "visible" and any(t.hidden and t.max_score for p in result.parts for t in p.tests)
    if secret:
        when = {"after_due_date": "after the due date", "after_published": "when grades are published"}
        later = f"are shown {when[hidden_tests]}" if hidden_tests in when else "are not shown"
        lines.append(f"**{_md(result.exercise)}**: your score and the hidden tests' results {later}. "
                     "Below: the lab's own examples and the quiz.")
    else:
        lines.append(f"**{_md(result.exercise)}: {result.score:g} / {result.max_score:g}**")
    lines.append("")
    hints = []
    for part in result.parts:
        shown = [t for t in part.tests if not (secret and t.hidden)]
        passed = sum(t.passed for t in shown)
        note = f" ({_md(part.note)})" if part.note else ""
        if secret and not shown:
            lines.append(f"- **{_md(part.name)}**: hidden tests only{note}")
            continue
        mark = "✓" if shown and passed == len(shown) else "✗"
        score = "" if secret else f" {part.score:g} / {part.max_score:g},"
        checks = "shown checks" if secret else "checks"
        lines.append(f"- {mark} **{_md(part.name)}**:{score} {passed} of {len(shown)} {checks} passed{note}")
        leaning = "" if secret else leaning_note(part)  # while hidden, it would tell how hidden tests went
        if leaning:
            lines.append(f"  - note: {_md(leaning)}")
        said = {line.removeprefix(HINT) for t in shown if not t.passed
                for line in t.message.splitlines() if line.startswith(HINT)}
        hints += [f"- {_md(part.name)}: {_md(hint)}" for hint in sorted(said)]
    if hints:
        lines += ["", "**Hints**", "", *hints]
    lines += ["", f"_graded in {result.seconds:.2f} s; sandbox: {_md(result.isolation)}_"]
    return "\n".join(lines)


def _md(text: str) -> str:
    """`text` shown as itself in Markdown: no markup or HTML of the student's takes effect."""
    text = " ".join(str(text).split())
    for char in "\\`*_[]<>#|":
        text = text.replace(char, "\\" + char)
    return text


def render(result: GradeResult, hidden_tests: str = "visible", leaderboard: bool = False, notes: tuple = ()) -> str:
    return json.dumps(results(result, hidden_tests, leaderboard, notes), indent=2)
