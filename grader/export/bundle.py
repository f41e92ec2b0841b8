"""What an exported autograder holds, whatever the platform: the exercise as
students have it, its solutions (reference, quiz key, hidden suites), the
grader as a wheel and its third-party packages pinned. Checked before anything
is written: no file but the solutions' may hold a solution, and the reference
must get full marks through the very grading the autograder runs."""
from __future__ import annotations

from dataclasses import dataclass

from ..course import Exercise
from ..errors import GraderError
from .pins import pinned, python_version, tested_with
from .wheel import build_wheel, project_metadata, wheel_name

REQUIREMENTS = "requirements.txt"


@dataclass
class Bundle:
    """The files of an autograder (path -> bytes) before the platform's own are added."""

    files: dict
    wheel: str  # the grader's wheel, by file name
    python: str  # major.minor of the Python the grader runs on
    texts: dict  # path -> text of every file but the solutions' (the wheel's modules too): searched for leaks


def exercise_files(exercise: Exercise) -> dict:
    """exercises/NAME/... as `grade release` hands them out, and solutions/NAME/...:
    the reference module, the quiz key and the hidden suites (nothing used only
    by `grade check` or the feedback page's figures)."""
    from ..authoring.release import bundle_files

    if not exercise.has_solutions():
        raise GraderError(f"{exercise.name}: no solutions/{exercise.name}/ folder, so there is nothing to grade with")
    files = {f"exercises/{exercise.name}/{name}": text for name, text in bundle_files(exercise).items()}
    solutions = exercise.solution_folder
    needed = [exercise.reference_file, exercise.quiz_key_file]
    needed += [p for p in sorted(exercise.hidden_suites.rglob("*")) if p.is_file() and "__pycache__" not in p.parts]
    for path in needed:
        if path.is_file():
            files[f"solutions/{exercise.name}/{path.relative_to(solutions).as_posix()}"] = path.read_text("utf-8")
    return files


def build(exercise: Exercise, command: str, platform_files) -> Bundle:
    """Every file of an autograder for `exercise`: the common ones, and the
    platform's own, `platform_files(wheel, python)` (path -> text), which are
    checked for leaks with the rest."""
    from ..authoring.release import grader_files

    package = grader_files(exercise)
    project = project_metadata(package["pyproject.toml"])
    modules = {path: text for path, text in package.items() if path.startswith("grader/")}
    wheel = wheel_name(project)
    scripts = platform_files(wheel, python_version())
    pins = "".join(f"{r}\n" for r in pinned(project["dependencies"]))
    requirements = (f"# The grader's third-party packages, at the versions it was exported and tested with\n"
                    f"# ({tested_with()}) by `{command}`.\n{pins}")
    course = exercise_files(exercise)
    texts = {**{p: t for p, t in course.items() if not p.startswith("solutions/")}, **modules, **scripts,
             REQUIREMENTS: requirements}
    files = {path: text.encode("utf-8") for path, text in {**course, **scripts, REQUIREMENTS: requirements}.items()}
    files[wheel] = build_wheel(modules, project)
    return Bundle(files, wheel, python_version(), texts)


def check(exercise: Exercise, bundle: Bundle) -> None:
    """Refuse an autograder whose other files hold a solution, or whose reference falls short of full marks."""
    from ..authoring.release import leaks
    from ..grading import canary

    found = leaks(bundle.texts, exercise.solution_folder)
    if found:
        raise GraderError(f"the autograder would leak the solutions outside solutions/: {'; '.join(found[:3])}")
    _, problems = canary.run(exercise)
    if problems:
        listed = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise GraderError(f"the reference solution does not pass its own grading, so no autograder was written: "
                          f"{listed}")
