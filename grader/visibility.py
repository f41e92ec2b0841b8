"""What students may see: transformations of the results model applied before
any student-facing report is rendered, so no renderer decides visibility."""
from __future__ import annotations

from .results import GradeResult

HIDDEN_FAILED = "hidden test failed"


def hide_hidden(result: GradeResult) -> GradeResult:
    """A copy in which each hidden test is only "hidden test N", passed or "hidden test failed".

    Scores and verdicts are kept as they are; names, messages, hints and
    printed output of hidden tests are dropped. Their failures share one
    cause, so that reports show them together.
    """
    shown = GradeResult.from_dict(result.to_dict())
    for part in shown.parts:
        count = 0
        for test in part.tests:
            if test.hidden:
                count += 1
                test.name = f"hidden test {count}"
                test.message = "" if test.passed else HIDDEN_FAILED
                test.output = ""
                test.hint = ""
                test.cause = "" if test.passed else HIDDEN_FAILED
    return shown


def student_view(result: GradeResult, hide: bool) -> GradeResult:
    """The result as students may see it: with `hide`, hidden tests summarised (see hide_hidden)."""
    return hide_hidden(result) if hide else result
