"""The canary: grade the reference solution through the very path students
take. Anything short of full marks is a grader configuration error (a broken
suite, a sandbox that cannot start, a wrong key), never a student's zero."""
from __future__ import annotations

from ..course import Exercise, load_toml
from ..errors import GraderError
from ..results import GradeResult
from ..submissions.load import Submission
from .grade import grade


def reference_submission(exercise: Exercise) -> Submission:
    """The reference module with the quiz key as answers."""
    if not exercise.has_solutions():
        raise GraderError(f"{exercise.name}: no solutions/{exercise.name}/ folder, so no canary can run")
    key = load_toml(exercise.quiz_key_file) if exercise.questions else {}
    source = exercise.reference_file.read_text(encoding="utf-8")
    return Submission(source, exercise.reference_file, {str(k): str(v) for k, v in key.items()})


def canary_problems(result: GradeResult) -> list[str]:
    """Every way in which the reference's result falls short of full marks."""
    problems = []
    for part in result.parts:
        for test in part.tests:
            if not test.passed:
                first = test.message.splitlines()[0] if test.message else "failed"
                problems.append(f"{part.name} / {test.name}: {first}")
        if not part.tests and part.max_score:
            problems.append(f"{part.name}: no tests ran")
    if result.score != result.max_score and not problems:
        problems.append(f"scored {result.score:g} of {result.max_score:g}")
    return problems


def run(exercise: Exercise, hide: tuple = (), figures: bool = False) -> tuple[GradeResult, list[str]]:
    """Grade the reference as a student would be; returns the result and every
    problem found (empty when all is well), the figures' too when drawn."""
    # Early calls always: whether each is one a test makes is part of the check.
    result = grade(exercise, reference_submission(exercise), student="(reference canary)", hide=hide, figures=figures,
                   early_calls=True)
    problems = canary_problems(result)
    if figures:
        from .figures import figure_problems

        problems += figure_problems(result)
    return result, problems
