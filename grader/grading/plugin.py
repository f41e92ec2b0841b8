"""The pytest plugin that hidden suites run under, in the grader's own process.

Fixtures for suite authors:
- ``student``: the submission's functions; each call runs in the sandbox and
  returns a value decoded here (or fails the test with what went wrong).
- ``reference``: the reference module, called directly (it is trusted code).
- ``rng``: a numpy Generator seeded by the submission's content and the test,
  so hidden inputs are reproducible for one submission and change with it.
Marker: ``@pytest.mark.points(w)``, the test's weight within its part.
"""
from __future__ import annotations

import hashlib
import inspect
from dataclasses import dataclass, replace

import numpy as np
import pytest

from .. import testing
from ..results import TestResult
from ..testing import Mismatch, StudentFailure, show_call
from .hints import failure_cause, failure_hint
from .pytest_internals import forget_run, ready_to_run


@dataclass(frozen=True)
class Verdict:
    """How one test went, before it is weighed into its part's points."""

    passed: bool
    message: str = ""
    output: str = ""  # what the student's code printed
    hint: str = ""  # the known mistake's advice (also in the message)
    cause: str = ""  # what a failed call came down to (see hints.failure_cause)
    leans_on: tuple = ()  # the student's wrong helpers it passed with only (see TestResult.leans_on)


class StudentModule:
    """Calls into the sandboxed submission, on behalf of one test of one part."""

    def __init__(self, grading, part):
        self._grading = grading
        self._part = part
        self.last = None

    def argnames(self, fn):
        return self._grading.argnames(fn)

    def call(self, fn, *args):
        """Run `fn(*args)` in the sandbox; returns the full Outcome (value, output, args after)."""
        outcome = self._grading.call(self._part, fn, args)
        self.last = outcome
        return outcome

    def __getattr__(self, fn):
        if fn.startswith("_"):
            raise AttributeError(fn)

        def run(*args):
            outcome = self.call(fn, *args)
            if not outcome.ok:
                raise StudentFailure(f"{outcome.describe()}\ninput: {show_call(fn, self.argnames(fn), args)}", outcome,
                                     inputs=args)
            return outcome.value

        return run


class GraderPlugin:
    """Collects one TestResult per hidden test, keyed by part, for the `Grading` in hand."""

    def __init__(self):
        self.grading = None  # set for each submission's run
        self.item = None  # the test being run
        self.collect_errors: list[str] = []

    def pytest_collectreport(self, report):
        if report.failed:
            lines = report.longreprtext.strip().splitlines() or ["error"]
            self.collect_errors.append(f"{report.nodeid or 'conftest'}: {lines[-1]}")

    def pytest_configure(self, config):
        config.addinivalue_line("markers", "points(weight): the test's weight within its part")
        config.addinivalue_line("markers",
                                "visible: inputs students know (the lab's own): never hidden by --hide-hidden")

    # The fixtures read the test in hand from `self.item` rather than asking for
    # pytest's `request`, which costs a fixture definition of its own per test.
    @pytest.fixture
    def student(self):
        return StudentModule(self.grading, self.grading.part_of(self.item))

    @pytest.fixture
    def reference(self):
        return self.grading.reference

    @pytest.fixture
    def rng(self):
        seed = hashlib.sha256(f"{self.grading.seed_text}:{self.item.nodeid}".encode()).digest()
        return np.random.default_rng(int.from_bytes(seed[:8], "little"))

    def run(self, item, nextitem) -> None:
        """Run one test and record its verdict.

        pytest's own runtest protocol, through its setup, call and teardown
        hooks (so fixtures, marks and conftest hooks act as under `pytest`),
        but without the report objects it builds for every phase, which cost
        more than a typical hidden test. Teardown errors are the suite's
        business, not the student's: they do not change the verdict.
        """
        self.item = item
        grading = self.grading
        grading.begin_test()
        testing.judged_by_value()  # what earlier comparisons (a fixture's, say) accepted is not this test's
        ready_to_run(item)
        hook = item.ihook
        verdict = _attempt(hook.pytest_runtest_setup, item=item)
        if verdict is None:
            verdict = _attempt(hook.pytest_runtest_call, grading.exercise, item=item)
            if verdict is not None and grading.test.stand_ins:
                verdict = self._with_own_functions(item, verdict)
        _attempt(hook.pytest_runtest_teardown, item=item, nextitem=nextitem)
        forget_run(item)
        part = grading.part_of(item)
        if verdict is not None and grading.reference is None:
            verdict = self._blame_note(part, verdict)
        grading.record(part, make_result(item, verdict or Verdict(True), hidden=not grading.public),
                       by_value=testing.judged_by_value())

    def _blame_note(self, part, verdict: Verdict) -> Verdict:
        """Public checks run without the reference, so no function stands in for
        a wrong one: say so when an earlier part failed too, lest a student
        debug a function whose only fault is what it calls."""
        wrong = self.grading.earlier_wrong(part)
        if not wrong:
            return verdict
        names = ", ".join(f"{fn}()" for fn in wrong)
        return replace(verdict, message=f"{verdict.message}\nnote: {names} failed "
                       f"{'its' if len(wrong) == 1 else 'their'} own checks; if this function calls it, fix that first "
                       "(the hidden tests grade each function on its own)")

    def _with_own_functions(self, item, verdict):
        """A test failed while reference functions stood in for the student's
        wrong ones. A student whose helpers are wrong in a consistent way (say
        both return (dj_dw, dj_db)) may have this part right all the same: run
        the test once more on the student's own functions, and count it as
        passed if it passes so, marked as leaning on those functions (their
        mistakes and this part's cancel out). Otherwise say which functions stood in."""
        names = sorted(self.grading.test.stand_ins)
        stand_ins = ", ".join(f"{n}()" for n in names)
        with self.grading.own_functions_only():
            try:
                item.runtest()
                return Verdict(True, f"passed with your own {stand_ins} only: with correct ones it fails",
                               leans_on=tuple(names))
            except Exception:  # noqa: BLE001 - the retry failing leaves the first verdict as it was
                note = (f"\nnote: {stand_ins} of the reference stood in for yours here "
                        "(judged wrong in its own part); with yours, this test fails too")
                return replace(verdict, message=verdict.message + note)


def _attempt(phase, exercise=None, **kwargs):
    """Run one phase of a test: None when it went through, else the failure's verdict."""
    try:
        phase(**kwargs)
        return None
    except (KeyboardInterrupt, pytest.exit.Exception):
        raise
    except BaseException as exc:  # noqa: BLE001 - pytest's outcomes (skip, fail) are BaseExceptions
        return _verdict(exc, exercise)


def _verdict(exc, exercise=None) -> Verdict:
    """The verdict on a test that raised `exc`, never showing the test's source.

    A failed call that no suite hint explained gets the grader's own hint on
    it, when there is one (see hints.py), worked out from `exercise`'s files."""
    if isinstance(exc, (pytest.skip.Exception, pytest.xfail.Exception)):
        return Verdict(False, "skipped")
    if isinstance(exc, StudentFailure):
        message, hint = str(exc), exc.hint
        if not hint and exercise is not None and testing.HINTS:
            hint = failure_hint(exc.outcome, exc.inputs, exercise)
            message += f"\nhint: {hint}" if hint else ""
        return Verdict(False, message, exc.outcome.output if exc.outcome else "", hint=hint,
                       cause=failure_cause(exc.outcome))
    if isinstance(exc, Mismatch):
        return Verdict(False, str(exc), hint=exc.hint)
    if isinstance(exc, AssertionError):
        return Verdict(False, str(exc).split("\n")[0] or "a check failed")
    return Verdict(False, f"the grader could not check this result ({type(exc).__name__}: {str(exc)[:200]})")


def test_name(item) -> str:
    """A readable name: the docstring's first line, else the function name."""
    doc = inspect.getdoc(getattr(item, "function", None))
    base = doc.splitlines()[0].rstrip(".") if doc else item.originalname.removeprefix("test_").replace("_", " ")
    callspec = getattr(item, "callspec", None)
    return f"{base} [{callspec.id}]" if callspec else base


def make_result(item, verdict: Verdict, hidden: bool) -> TestResult:
    """The TestResult of one test: its weight rides in max_score until the part scales it to points."""
    marker = item.get_closest_marker("points")
    weight = float(marker.args[0]) if marker and marker.args else 1.0
    hidden = hidden and item.get_closest_marker("visible") is None
    return TestResult(test_name(item), verdict.passed, 0.0, weight, verdict.message, hidden, verdict.output,
                      verdict.hint, verdict.cause, list(verdict.leans_on))
