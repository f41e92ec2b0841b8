"""Grading one submission: start its sandbox, run the suites under the plugin,
grade the quiz, and return the one `GradeResult`."""
from __future__ import annotations

import hashlib
import importlib.util
import inspect
import time
from pathlib import Path

from .course import Exercise, GraderError
from .quiz import check_answers, grade_quiz, load_key
from .results import IMPORT_TEST, GradeResult, PartResult, TestResult
from .sandbox import wire
from .sandbox.session import Sandbox
from .submission import Submission
from .suites import Suites, suites_for

_REFERENCES: dict = {}


def load_reference(path: Path):
    """The reference module, imported by path once per process (it is trusted
    code), behind a memo so repeated inputs (the lab's long run) cost once."""
    key = (str(path), path.stat().st_mtime_ns)
    if key not in _REFERENCES:
        name = f"_reference_{abs(hash(key))}"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _REFERENCES[key] = MemoReference(module)
    return _REFERENCES[key]


class MemoReference:
    """Calls the reference module's functions, remembering results by input."""

    MAX_ELEMENTS = 10_000  # only small inputs are worth a key

    def __init__(self, module):
        self.module = module
        self.memo = {}

    def __getattr__(self, fn):
        # Only reached once per name: the wrapper is kept as an attribute.
        target = getattr(self.module, fn)
        if not callable(target):
            return target

        def call(*args):
            key = _call_key(fn, args, ()) if _elements(args) <= self.MAX_ELEMENTS else None
            if key is None:
                return target(*args)
            if key not in self.memo:
                self.memo[key] = wire.encode(target(*args))
            return wire.decode(self.memo[key])  # a fresh copy each time

        call.__signature__ = inspect.signature(target)
        setattr(self, fn, call)
        return call


def _elements(args) -> int:
    import numpy as np

    return sum(a.size for a in args if isinstance(a, np.ndarray))


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
        self.by_suite = {p.suite: p for p in exercise.parts}
        self.student_seconds = 0.0
        self.stand_ins: set[str] = set()  # reference functions that stood in during the current test
        self.timeouts: list = []  # outcomes of the current test's calls that timed out
        self.own_only = False  # set while a failed test is retried on the student's own functions
        # Outcomes by call, kept only when figures will be drawn, so that a figure
        # reuses a call the suites already made (the lab's long run) instead of
        # running it again.
        self.memo: dict | None = {} if remember else None
        self.early: dict[str, tuple] = {}  # call key -> (ticket, fn) of an early call not taken yet

    def start_early(self) -> None:
        """Send the parts' declared long calls now, so the worker runs them while
        the tests are collected; the test making the same call takes the outcome.
        In the manifest an argument that is a list stands for a numpy array."""
        import numpy as np

        for part in self.exercise.parts:
            for raw in part.early_calls:
                args = tuple(np.array(a) if isinstance(a, list) else a for a in raw)
                ticket = self.sandbox.call_early(part.function, args)
                self.early[_call_key(part.function, args, [])] = (ticket, part.function)

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
        # were not judged correct are served by the reference, from this
        # trusted process. Never later parts: a later function could give away
        # this part's answer (sigmoid(z) is exp(-cost) of a one-point data set).
        oracles = [] if self.own_only else self._oracles(part)
        self.stand_ins.update(oracles)
        key = _call_key(fn, args, oracles) if self.early or self.memo is not None else None
        ticket, _ = self.early.pop(key, (None, None)) if self.early else (None, None)
        outcome = self.sandbox.take_early(ticket) if ticket else None
        if outcome is None:
            outcome = self.sandbox.call(fn, args, oracles, self._oracle)
        if outcome.kind == "timeout":
            self.timeouts.append(outcome)
        self.student_seconds += outcome.seconds
        if self.memo is not None:
            self.memo[key] = outcome
        return outcome

    def recall(self, part, fn, args):
        """Like `call`, but reuses the outcome of an identical earlier call when one was kept."""
        if self.memo is not None:
            kept = self.memo.get(_call_key(fn, args, self._oracles(part)))
            if kept is not None:
                return kept
        return self.call(part, fn, args)

    def _oracles(self, part):
        return self.earlier_wrong(part) if self.reference else []

    def earlier_wrong(self, part) -> list[str]:
        """The functions of the parts before `part` that were not judged correct."""
        earlier = self.exercise.parts[: self.exercise.parts.index(part)]
        return [p.function for p in earlier if not self.judged_correct(p)]

    def _oracle(self, fn, args):
        return getattr(self.reference.module, fn)(*args)

    def record(self, item, verdict):
        from .plugin import make_result

        self.results[self.part_of(item).name].append(make_result(item, verdict, hidden=not self.public))


def _call_key(fn, args, oracles) -> str:
    """One key for a call and its inputs (and the reference functions standing in).

    Hashes the values' types and contents directly (an array's dtype, shape
    and bytes), which costs far less than encoding them for the wire.
    """
    digest = hashlib.sha256(f"{fn}\0{list(oracles)}\0".encode())
    for arg in args:
        _feed(digest, arg)
    return digest.hexdigest()


def _feed(digest, value) -> None:
    import numpy as np

    kind = type(value)
    if kind is np.ndarray and not value.dtype.hasobject:
        digest.update(f"array {value.dtype.str} {value.shape}:".encode())
        digest.update(np.ascontiguousarray(value).tobytes())
    elif kind is list or kind is tuple:
        digest.update(f"{kind.__name__} {len(value)}(".encode())
        for item in value:
            _feed(digest, item)
        digest.update(b")")
    else:  # numbers, strings, None; anything else by its JSON form
        text = repr(value) if kind in (int, float, bool, str, type(None)) or isinstance(value, np.generic) else wire.pack(wire.encode(value)).hex()
        digest.update(f"{kind.__module__}.{kind.__qualname__} {text};".encode())


def grade(exercise: Exercise, submission: Submission, *, student: str = "", hide: tuple = (), public: bool | None = None,
          fail_fast: bool = False, figures: bool = False) -> GradeResult:
    """Grade `submission`: hidden suites when the solutions are present, else the public checks.

    `fail_fast` stops at the first failed test: the verdict "not full marks" is
    then known sooner, but the scores are partial (for mutation analysis, not students).

    With `figures`, the data of the figures the exercise declares (values from
    the student's functions and the reference's) is kept in `artifacts["figures"]`.
    """
    started = time.perf_counter()
    if public is None:
        public = not exercise.has_solutions()
    sandbox = Sandbox(submission.source, exercise.module, exercise.limits, hide=_private_paths(exercise, hide),
                      files=exercise.support_files())
    sandbox.start()  # the worker starts while numpy, the reference and pytest are imported here
    result = GradeResult(exercise.name, exercise.max_score, student=student, isolation=sandbox.level, public_only=public)
    try:
        reference = None if public else load_reference(exercise.reference_file)
        figures = figures and not public and bool(exercise.plots)
        grading = Grading(exercise, submission, sandbox, reference, public, remember=figures)
        grading.start_early()
        suites = suites_of(exercise, public)  # collected while the worker starts (or long before, in a batch)
        failed_import = sandbox.wait_ready()
        if failed_import is None and suites:
            suites.run(grading, fail_fast)
            # Only telling when every part was right (no reference stood in to change a call): `grade check`'s canary.
            unused = grading.unused_early()
            if unused and not fail_fast and all(grading.judged_correct(p) for p in exercise.parts):
                result.artifacts["unused_early_calls"] = unused
        for part in exercise.parts:
            result.parts.append(_part_result(part, grading.results[part.name], failed_import, public))
        result.parts.append(_quiz_part(exercise, submission, public))
        if figures:
            from .figures import collect

            result.artifacts["figures"] = collect(exercise, grading)
        result.student_seconds = round(grading.student_seconds, 4)
    finally:
        sandbox.close()
    for part in result.parts:  # a notebook's line numbers, told as places in its cells
        for test in part.tests:
            test.message = submission.locate(test.message, exercise.module_file)
    result.seconds = round(time.perf_counter() - started, 4)
    return result


def suites_of(exercise: Exercise, public: bool) -> Suites | None:
    """The collected suites of the exercise's parts: the hidden ones, or the public checks."""
    folder = exercise.public_suites if public else exercise.hidden_suites
    files = [folder / p.suite for p in exercise.parts if (folder / p.suite).is_file()]
    return suites_for(folder, files) if files else None


def _private_paths(exercise: Exercise, extra) -> list:
    # Every exercise's solutions, not only this one's.
    paths = [exercise.solution_folder.parent] if exercise.solution_folder else []
    return [str(p) for p in (*paths, *extra)]


def _part_result(part, tests, failed_import, public) -> PartResult:
    result = PartResult(part.name, part.points)
    if failed_import is not None:
        text = failed_import.describe()
        result.tests.append(TestResult(IMPORT_TEST, False, 0.0, part.points, text, hidden=False, output=failed_import.output))
        result.note = "module could not be imported"
        return result
    total = sum(t.max_score for t in tests) or 1.0
    for t in tests:
        t.max_score = round(part.points * t.max_score / total, 4)
        t.score = t.max_score if t.passed else 0.0
    result.tests = tests
    if not tests:
        result.note = "no checks for this part" if public else "no tests found for this part"
    elif all("not implemented yet" in t.message for t in tests):
        result.note = "not implemented yet"
    return result


def _quiz_part(exercise: Exercise, submission: Submission, public: bool) -> PartResult:
    if public:
        part = PartResult("quiz", exercise.quiz_points)
        problems = {p.split(":")[0]: p for p in check_answers(exercise, submission.quiz)}
        for q in exercise.questions:
            message = "no answer: quiz.toml could not be read" if submission.quiz_error else problems.get(q.id, "")
            part.tests.append(TestResult(f"{q.id} has a valid answer", not message, 0.0, 0.0, message, hidden=False))
        part.note = submission.quiz_error or "answers checked for form only; the key is not in the student bundle"
        return part
    # An exercise without questions needs no key file.
    part = grade_quiz(exercise, submission.quiz, load_key(exercise) if exercise.questions else {}, bool(submission.quiz_error))
    if submission.quiz_error:
        part.note = submission.quiz_error
    elif submission.quiz is None and exercise.questions:
        part.note = f"no {exercise.quiz_file} in the submission"
    return part

