"""check(): grade the functions a notebook's kernel holds now, from inside the notebook.

The same grading as `grade NAME`: the student's code (read back from the
kernel, see kernel_code.py) runs only in the sandbox, against the hidden
suites when the course's solutions are there, else the public checks.
`check(sigmoid)` grades the parts up to sigmoid's and shows sigmoid's alone:
the earlier parts are judged as usual, so that the reference stands in for a
wrong earlier function (or, with the public checks, the report says that it
failed its own checks).
"""
from __future__ import annotations

import dataclasses
import os
import re
import sys
from pathlib import Path

from ..course import Course, Exercise
from ..errors import GraderError
from ..submissions.load import Submission, read_quiz
from ..submissions.notebook import QUIZ_VARIABLE
from .display import Checked
from .kernel_code import KernelCode, read_kernel

QUIZ = "quiz"


@dataclasses.dataclass
class KernelSubmission(Submission):
    """A submission read from the kernel: its line numbers are told as places in cells."""

    places: list = dataclasses.field(default_factory=list)

    def locate(self, message: str, module_file: str) -> str:
        def place(number: str) -> str:
            index = int(number) - 1
            found = self.places[index] if 0 <= index < len(self.places) else None
            return f"{found[0]}, line {found[1]}" if found else f"line {number} of the code checked"

        message = re.sub(r"\bat line (\d+):", lambda m: f"at {place(m.group(1))}:", message)
        return re.sub(rf"\({re.escape(module_file)}, line (\d+)\)", lambda m: f"({place(m.group(1))})", message)


def check(function=None, *, exercise: str | None = None) -> Checked:
    """Grade `function` (a function, or the name of one or of its part, or
    "quiz") as the notebook's kernel defines it now; with no argument, the
    whole exercise. Shown in the notebook as HTML, in a console as text.

    The exercise is `exercise`, else the one whose folder holds the notebook or
    the kernel's current folder, else the only exercise of the course with
    this function.
    """
    namespace = sys._getframe(1).f_globals
    return check_in(namespace, function, exercise)


def check_in(namespace: dict, function=None, exercise: str | None = None) -> Checked:
    """check() with the notebook's namespace given (the caller's globals in check())."""
    asked = _asked_name(function)
    try:
        found = find_exercise(namespace, exercise, asked)
        return _grade(found, namespace, asked, function if callable(function) else None)
    except GraderError as exc:
        return Checked(error=str(exc), asked=asked)


def _asked_name(function) -> str | None:
    if function is None:
        return None
    if isinstance(function, str):
        return function
    name = getattr(function, "__name__", None)
    if not isinstance(name, str):
        raise TypeError(f"check() takes a function or its name, not a {type(function).__name__}")
    return name


def notebook_path(namespace: dict) -> Path | None:
    """The notebook this kernel runs, where the front end says so (VS Code; Jupyter Server sets
    JPY_SESSION_NAME)."""
    for hint in (namespace.get("__vsc_ipynb_file__"), os.environ.get("JPY_SESSION_NAME")):
        if isinstance(hint, str) and hint.endswith(".ipynb") and Path(hint).is_absolute():
            return Path(hint)
    return None


def find_exercise(namespace: dict, name: str | None, asked: str | None) -> Exercise:
    """The exercise being checked (see check())."""
    notebook = notebook_path(namespace)
    course = None
    if notebook is not None:
        try:
            course = Course.find(notebook.parent)
        except GraderError:
            pass
    course = course or Course.find()
    if name:
        return course.exercise(name)
    for place in (notebook, Path.cwd()):
        if place is None:
            continue
        try:
            inside = place.resolve().relative_to(course.root / "exercises").parts
        except ValueError:
            continue
        if inside and inside[0] in course.names():
            return course.exercise(inside[0])
    candidates = [known for known in course.names() if _could_be(course.exercise(known), namespace, asked)]
    if len(candidates) == 1:
        return course.exercise(candidates[0])
    example = f'check("{asked}", exercise="NAME")' if asked else 'check(exercise="NAME")'
    raise GraderError(f"cannot tell which exercise of {course.root} this notebook is for: name it, as in {example} "
                      f"(exercises: {', '.join(course.names()) or 'none'})")


def _could_be(exercise: Exercise, namespace: dict, asked: str | None) -> bool:
    """Whether `exercise` has the function asked for (or, for check() and the quiz, any function defined)."""
    if asked in (None, QUIZ):
        return any(p.function in namespace for p in exercise.parts)
    return any(asked in (p.function, p.name) for p in exercise.parts)


def _part_asked(exercise: Exercise, asked: str):
    for part in exercise.parts:
        if asked in (part.function, part.name):
            return part
    functions = ", ".join(p.function for p in exercise.parts)
    raise GraderError(f"{asked} is not a function of {exercise.name} (its functions: {functions}; "
                      "check() with no argument checks them all)")


def _grade(exercise: Exercise, namespace: dict, asked: str | None, given) -> Checked:
    from ..grading.grade import grade
    from ..sandbox import zygote

    part = _part_asked(exercise, asked) if asked not in (None, QUIZ) else None
    history = [t for t in namespace.get("_ih", []) if isinstance(t, str)]
    code = read_kernel([p.function for p in exercise.parts], namespace, history, _cell_numbers(),
                       {part.function: given} if part is not None and given is not None else None)
    if part is not None and part.function in code.missing:
        return Checked(error=code.missing[part.function], asked=asked, exercise=exercise.name)
    submission = _submission(exercise, namespace, code)
    graded = _sliced(exercise, part) if part is not None else \
        dataclasses.replace(exercise, parts=[], plots=[]) if asked == QUIZ else exercise
    # A student checks again after every edit: workers forked from a warm fork server (numpy
    # imported) start in a fraction of the time. It ends with the kernel (its socket closes).
    zygote.enable()
    result = grade(graded, submission, figures=True)
    notes = []
    if part is not None:
        result = _only(result, part.name)
        # An earlier function that is not there fails its own checks: say why, as this part may call it.
        notes = [code.missing[p.function] for p in graded.parts[:-1] if p.function in code.missing]
    folded = set()
    for shown in result.parts:  # a function missing from the kernel: its part says why instead
        why = code.missing.get(next((p.function for p in exercise.parts if p.name == shown.name), ""))
        if why:
            shown.note = why
            folded.add(shown.name)
    notes += code.notes
    if asked != QUIZ and submission.quiz_error:
        notes.append(submission.quiz_error)
    return Checked(result=result, notes=notes, asked=asked, exercise=exercise.name, folded=folded)


def _sliced(exercise: Exercise, part) -> Exercise:
    """The exercise up to `part`, without the quiz and with `part`'s figures only: the
    earlier parts are graded too, so that a wrong earlier function is judged as such."""
    return dataclasses.replace(exercise, parts=exercise.parts[: exercise.parts.index(part) + 1], questions=[],
                               quiz_points=0.0, plots=[p for p in exercise.plots if p.get("part") == part.name])


def _submission(exercise: Exercise, namespace: dict, code: KernelCode) -> KernelSubmission:
    """The kernel's code, and the quiz answers of the notebook's quiz cell when it was
    run and answers anything, else those of quiz.toml (as for a saved notebook)."""
    answers, problem = None, ""
    value = namespace.get(QUIZ_VARIABLE)
    if isinstance(value, dict):
        answers = {str(k): str(v) for k, v in value.items()}
    elif value is not None:
        problem = f"the quiz cell: {QUIZ_VARIABLE} must be a plain dict like {{\"q1\": \"B\"}}"
    if not any(a.strip() for a in (answers or {}).values()):
        from_file, file_problem = read_quiz(exercise.folder / exercise.quiz_file)
        if from_file is not None or file_problem:
            answers, problem = from_file, file_problem
    origin = exercise.folder / exercise.notebook_file
    return KernelSubmission(code.source, origin, answers, problem, places=code.places)


def _only(result, name: str):
    """The result of one part alone, with its figures."""
    from ..results import GradeResult

    part = result.part(name)
    figures = [f for f in result.artifacts.get("figures", []) if f.get("part") == name]
    return GradeResult(result.exercise, part.max_score, [part], student=result.student, status=result.status,
                       error=result.error, public_only=result.public_only, isolation=result.isolation,
                       seconds=result.seconds, student_seconds=result.student_seconds,
                       artifacts={"figures": figures} if figures else {})


def _cell_numbers() -> dict:
    """IPython's map from a cell's code file name to the cell's number (In[N]), when IPython runs us."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    names = getattr(getattr(shell, "compile", None), "_filename_map", None)
    return dict(names) if isinstance(names, dict) else {}
