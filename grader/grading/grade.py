"""Grading one submission: start its sandbox, run the suites under the plugin,
grade the quiz, and return the one `GradeResult`."""
from __future__ import annotations

import time

from .. import testing
from ..course import Exercise
from ..results import IMPORT_TEST, GradeResult, PartResult, TestResult
from ..sandbox.session import Sandbox
from ..submissions.load import Submission
from .hints import add_notebook_hints, import_hint
from .quiz import check_answers, grade_quiz, load_key
from .reference import load_reference
from .state import Grading
from .suites import Suites, collected, suites_for


def grade(exercise: Exercise, submission: Submission, *, student: str = "", hide: tuple = (),
          public: bool | None = None, fail_fast: bool = False, figures: bool = False,
          early_calls: bool | None = None, sandbox: Sandbox | None = None) -> GradeResult:
    """Grade `submission`: hidden suites when the solutions are present, else the public checks.

    `fail_fast` stops at the first failed test: the verdict "not full marks" is
    then known sooner, but the scores are partial (for mutation analysis, not students).

    With `figures`, the data of the figures the exercise declares (values from
    the student's functions and the reference's) is kept in `artifacts["figures"]`.

    `early_calls`: send the manifest's early calls (None: only while the
    suites still have to be collected, the work they overlap with).

    `sandbox`: the submission's sandbox (`Sandbox.for_exercise`, which takes
    `hide`), when the caller started it before importing this module; grading closes it.
    """
    if sandbox is not None and hide:
        raise ValueError("pass hide to Sandbox.for_exercise: the sandbox is made already")
    started = time.perf_counter()
    if public is None:
        public = not exercise.has_solutions()
    if sandbox is None:
        sandbox = Sandbox.for_exercise(exercise, submission.source, hide)
    sandbox.start()  # the worker starts while numpy, the reference and pytest are imported here
    result = GradeResult(exercise.name, exercise.max_score, student=student, isolation=sandbox.level,
                         public_only=public)
    try:
        reference = None if public else load_reference(exercise.reference_file)
        figures = figures and not public and bool(exercise.plots)
        grading = Grading(exercise, submission, sandbox, reference, public, remember=figures)
        if early_calls or (early_calls is None and not suites_ready(exercise, public)):
            # The worker runs the long calls while the tests are collected. Once
            # they are (a batch), there is nothing to overlap, and an early call
            # is wasted whenever a wrong function's stand-in changes the call.
            grading.start_early()
        suites = suites_of(exercise, public)  # collected while the worker starts (or long before, in a batch)
        failed_import = sandbox.wait_ready()
        if failed_import is None and suites:
            suites.run(grading, fail_fast)
            # Only telling when every part was right (no reference stood in to change a call): `grade check`'s canary.
            unused = grading.unused_early()
            if (unused and not fail_fast and not grading.by_value
                    and all(grading.judged_correct(p) for p in exercise.parts)):
                result.artifacts["unused_early_calls"] = unused
        if failed_import is None and testing.HINTS:
            add_notebook_hints(grading.results, submission.source, exercise)
        for part in exercise.parts:
            result.parts.append(_part_result(part, grading.results[part.name], failed_import, public,
                                             grading.by_value.get(part.name)))
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
    folder, files = _suite_files(exercise, public)
    return suites_for(folder, files) if files else None


def suites_ready(exercise: Exercise, public: bool) -> bool:
    """Whether this process has collected those suites already."""
    folder, files = _suite_files(exercise, public)
    return bool(files) and collected(folder, files)


def _suite_files(exercise: Exercise, public: bool):
    folder = exercise.public_suites if public else exercise.hidden_suites
    return folder, [folder / p.suite for p in exercise.parts if (folder / p.suite).is_file()]


def _part_result(part, tests, failed_import, public, by_value=None) -> PartResult:
    result = PartResult(part.name, part.points)
    if failed_import is not None:
        text = failed_import.describe()
        hint = import_hint(failed_import)
        if "No module named 'grader'" in text:  # the lab notebook's check cells, saved into a .py
            hint = ("the lab notebook's check cells import grader; hand in the notebook itself, "
                    "or leave those cells out of the .py")
        text += f"\nhint: {hint}" if hint else ""
        result.tests.append(TestResult(IMPORT_TEST, False, 0.0, part.points, text, hidden=False,
                                       output=failed_import.output, hint=hint, cause=IMPORT_TEST))
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
    elif by_value and all(t.passed for t in tests):
        # Its tests passed, but a later part's arithmetic on it would fail (or,
        # for +, concatenate): the plugin has the reference stand in for it there.
        later = ("so code that calls it may fail" if public else "so later parts ran with the reference's in its place")
        result.note = (f"gives {by_value} where the lab's gives an array: judged by its numbers, but arithmetic on "
                       f"{by_value} is not an array's, {later} (np.array(...) makes one)")
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
    part = grade_quiz(exercise, submission.quiz, load_key(exercise) if exercise.questions else {},
                      bool(submission.quiz_error))
    if submission.quiz_error:
        part.note = submission.quiz_error
    elif submission.quiz is None and exercise.questions:
        part.note = f"no {exercise.quiz_file} in the submission"
    return part

