"""Failures with one cause, shown once. Like visibility.py, a step between the
results model and the reports a student reads (terminal, HTML, Gradescope):
the model, and so the JSON report, keeps every test; a report shows one
example of each cause, with how many checks it failed. Also the one sentence
every report gives a part that passes only thanks to mistakes that cancel."""
from __future__ import annotations

from dataclasses import dataclass

from .results import PartResult, TestResult


@dataclass
class Group:
    """Failing tests of one part that have one cause."""

    tests: list[TestResult]  # in the part's order
    example: TestResult  # the one shown in full: the lab's own example, else the shortest to read

    @property
    def hint(self) -> str:
        """What to fix, when a known mistake was recognised."""
        return self.example.hint or next((t.hint for t in self.tests if t.hint), "")

    def body(self) -> str:
        """The example's message without its hint line (reports show the hint first)."""
        return without_hint(self.example)

    def headline(self) -> str:
        """The group in one line: its hint, else the first line of its message."""
        if self.hint:
            return f"hint: {self.hint}"
        lines = self.body().splitlines()
        return lines[0] if lines else "failed"


def without_hint(test: TestResult) -> str:
    """`test`'s message without the line that holds its hint."""
    if not test.hint:
        return test.message
    lines = test.message.split("\n")
    line = f"hint: {test.hint}"
    if line in lines:
        lines.remove(line)
    return "\n".join(lines)


def failure_groups(part: PartResult) -> list[Group]:
    """The failing tests of `part` in groups of one cause: the same cause (an
    exception at one line, say) or the same hint. Equal messages alone are no
    common cause ("'A' is not correct" for two questions). The most telling
    group comes first: one with a hint before one without, one that counts
    for points before one that does not, then in the order of the part."""
    failing = [t for t in part.tests if not t.passed]
    owner: dict = {}  # (kind, text) -> index of the group holding it
    groups: list[list[TestResult]] = []
    for test in failing:
        keys = [(kind, text) for kind, text in (("cause", test.cause), ("hint", test.hint)) if text]
        found = sorted({owner[k] for k in keys if k in owner})
        if not found:
            groups.append([])
            found = [len(groups) - 1]
        home = found[0]
        for other in found[1:]:  # this test joins groups that had been apart
            groups[home].extend(groups[other])
            groups[other] = []
            owner.update({k: home for k, i in owner.items() if i == other})
        groups[home].append(test)
        owner.update({k: home for k in keys})
    order = {id(t): i for i, t in enumerate(failing)}
    ordered = [sorted(g, key=lambda t: order[id(t)]) for g in groups if g]
    made = [Group(g, _example(g)) for g in ordered]
    return sorted(made, key=lambda g: (not g.hint, all(t.max_score == 0 for t in g.tests), order[id(g.tests[0])]))


def _example(tests: list[TestResult]) -> TestResult:
    # A visible test is the lab's own example, known from the notebook; else the
    # shortest message that shows the group's hint reads best.
    return min(tests, key=lambda t: (t.hidden, not t.hint, len(t.message)))


def leaning_note(part: PartResult) -> str:
    """What to tell of a part whose passed checks lean on the student's wrong
    functions of other parts ("" when none do): the points stay, but fixing
    those functions will change this part's verdict."""
    names = part.leans_on
    if not names:
        return ""
    count = sum(bool(t.leans_on) for t in part.tests if t.passed)
    fns = ", ".join(f"{n}()" for n in names)
    one = len(names) == 1
    if len(part.tests) == 1:
        checks = "this check passes"
    else:
        checks = f"all {count} checks pass" if count == len(part.tests) else f"{count} of {len(part.tests)} checks pass"
    return (f"{checks} only with your own {fns} ({'wrong in its' if one else 'wrong in their'} own part): "
            f"{'its mistake' if one else 'their mistakes'} and one in {part.name}() cancel out. Once you fix {fns}, "
            "this part will fail until you fix it too.")
