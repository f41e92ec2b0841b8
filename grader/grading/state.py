"""What the plugin's fixtures share while one submission is graded: the
sandbox, the reference, the verdicts so far, and the state of the test in hand."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..course import Exercise
from ..errors import GraderError
from ..results import TestResult
from ..sandbox.session import Sandbox
from ..submissions.load import Submission
from .reference import arg_copies, call_key, manifest_args, reference_seconds, shown_reference


@dataclass
class TestState:
    """What the calls of the test in hand left behind, for the plugin's verdict on it."""

    stand_ins: set[str] = field(default_factory=set)  # reference functions that stood in for the student's
    own_only: bool = False  # while a failed test is retried on the student's own functions


class Grading:
    """State shared by the plugin's fixtures while one submission is graded."""

    def __init__(self, exercise: Exercise, submission: Submission, sandbox: Sandbox, reference, public: bool,
                 remember: bool = False):
        self.exercise = exercise
        self.sandbox = sandbox
        self.reference = reference
        self._argnames: dict[str, list] = {}
        self.public = public
        self.seed_text = submission.digest
        self.results: dict[str, list[TestResult]] = {p.name: [] for p in exercise.parts}
        # Parts whose tests accepted a list or tuple where an array is expected:
        # part name -> the container ("a list"). See `_oracles`.
        self.by_value: dict[str, str] = {}
        self.by_suite = {p.suite: p for p in exercise.parts}
        self.student_seconds = 0.0
        self.test = TestState()
        # Outcomes by call, kept only when figures will be drawn, so that a figure
        # reuses a call the suites already made (the lab's long run) instead of
        # running it again.
        self.memo: dict | None = {} if remember else None
        self.early: dict[str, tuple] = {}  # call key -> (ticket, fn) of an early call not taken yet
        # The reference functions of the parts whose reference may be shown: they stand in inside the worker.
        self.shown = shown_reference(exercise) if reference is not None else None

    def start_early(self) -> None:
        """Send the parts' declared long calls now, so the worker runs them while
        the tests are collected; the test making the same call takes the outcome.
        In the manifest an argument that is a list stands for a numpy array.

        Each goes with the early checks of the parts before its own, and the
        reference's answers to them: the worker runs the call only if the
        student's functions give those answers too. Otherwise the tests will
        find one of them wrong and make the call with the reference standing
        in, and an early run on the student's own would be spent in vain."""
        import numpy as np

        checks = []
        for part in self.exercise.parts:
            for raw in part.early_calls:
                args = manifest_args(raw)
                ticket = self.sandbox.call_early(part.function, args, self._seconds_for(part.function, args),
                                                 checks=checks)
                self.early[call_key(part.function, args, [])] = (ticket, part.function)
            for raw in part.early_checks if self.reference is not None else ():
                args = manifest_args(raw)
                try:
                    with np.errstate(all="ignore"):
                        expected = self._oracle(part.function, arg_copies(args))
                except Exception:  # noqa: BLE001 - a check the reference refuses checks nothing
                    continue
                checks = [*checks, (part.function, args, expected)]

    def unused_early(self) -> list[str]:
        """Functions with an early call that no test made as declared."""
        return sorted({fn for _, fn in self.early.values()})

    def part_of(self, item):
        part = self.by_suite.get(Path(str(item.path)).name)
        if part is None:
            raise GraderError(f"test file {item.path} belongs to no part of the manifest")
        return part

    def argnames(self, fn):
        if fn not in self._argnames:
            import inspect  # not before the worker starts: it costs a few ms

            try:
                self._argnames[fn] = list(inspect.signature(getattr(self.reference, fn, None)).parameters)
            except (TypeError, ValueError):
                self._argnames[fn] = [f"arg{i}" for i in range(10)]
        return self._argnames[fn]

    def any_failed(self) -> bool:
        return any(not t.passed for tests in self.results.values() for t in tests)

    def judged_correct(self, part) -> bool:
        tests = self.results[part.name]
        return bool(tests) and all(t.passed for t in tests)

    def call(self, part, fn, args):
        # No double jeopardy: the functions of the parts before this one that
        # were not judged correct are replaced by the reference's: run inside
        # the worker where the manifest says that part's reference may be
        # shown, else served from this trusted process. Never later parts: a
        # later function could give away this part's answer (sigmoid(z) is
        # exp(-cost) of a one-point data set).
        oracles = [] if self.test.own_only else self._oracles(part)
        self.test.stand_ins.update(oracles)
        shown = [n for n in oracles if self.shown and n in self.shown.functions]
        key = call_key(fn, args, oracles) if self.early or self.memo is not None else None
        ticket, _ = self.early.pop(key, (None, None)) if self.early else (None, None)
        outcome = self.sandbox.take_early(ticket) if ticket else None
        if outcome is None:
            outcome = self.sandbox.call(fn, args, [n for n in oracles if n not in shown], self._oracle,
                                        self.shown.bundle(shown) if shown else None, self._seconds_for(fn, args))
        self.student_seconds += outcome.seconds
        if self.memo is not None:
            self.memo[key] = outcome
        return outcome

    def recall(self, part, fn, args):
        """Like `call`, but reuses the outcome of an identical earlier call when one was kept."""
        if self.memo is not None:
            kept = self.memo.get(call_key(fn, args, self._oracles(part)))
            if kept is not None:
                return kept
        return self.call(part, fn, args)

    def _oracles(self, part):
        """The functions whose reference stands in while `part` is tested: those
        of earlier parts not judged correct, and those judged correct by value
        only (a list where the lab returns an array), since arithmetic on a list
        is not arithmetic on an array and would fail the student's later part
        for the earlier one's sake."""
        if not self.reference:
            return []
        return [p.function for p in self._earlier(part) if not self.judged_correct(p) or p.name in self.by_value]

    def earlier_wrong(self, part) -> list[str]:
        """The functions of the parts before `part` that were not judged correct."""
        return [p.function for p in self._earlier(part) if not self.judged_correct(p)]

    def _earlier(self, part):
        return self.exercise.parts[: self.exercise.parts.index(part)]

    def _oracle(self, fn, args):
        return getattr(self.reference.module, fn)(*args)

    def _seconds_for(self, fn, args):
        """What the sandbox asks when a call outgrows `call_seconds`: the CPU
        time the reference needs for the same call. Public checks have no
        reference: as if it needed `call_seconds` (so a call gets
        `call_seconds` times `reference_multiple`)."""
        if self.reference is None:
            return lambda: self.exercise.limits.call_seconds
        return lambda: reference_seconds(self.reference, fn, args)

    def begin_test(self) -> None:
        """A new test starts: nothing has stood in and nothing has timed out yet."""
        self.test = TestState()

    @contextmanager
    def own_functions_only(self):
        """While inside, calls run on the student's own functions, with no reference standing in."""
        self.test.own_only = True
        try:
            yield
        finally:
            self.test.own_only = False

    def record(self, part, result: TestResult, by_value: str = "") -> None:
        """Keep the verdict of one test of `part`; `by_value`: the container it
        accepted by value where an array was expected ("a list"), if any."""
        if result.passed and by_value:
            self.by_value.setdefault(part.name, by_value)
        self.results[part.name].append(result)
