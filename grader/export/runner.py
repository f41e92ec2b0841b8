"""What runs in Gradescope's container for each submission (`grade export run
gradescope NAME`, called by run_autograder): lock the layout down, read the
upload, grade it, and write results.json from this trusted process only,
after every student process is gone. Whatever goes wrong, results.json is
written: a wrong or missing upload scores 0 and says what was expected."""
from __future__ import annotations

import json
import os
import stat
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path

from ..course import Course, Exercise
from ..errors import GraderError
from ..results import GradeResult, write_atomic
from .gradescope import ROOT_VARIABLE


@dataclass(frozen=True)
class Layout:
    """Gradescope's folders: /autograder, or $MLGRADE_AUTOGRADER_ROOT in the grader's own tests."""

    root: Path

    @classmethod
    def here(cls) -> Layout:
        return cls(Path(os.environ.get(ROOT_VARIABLE) or "/autograder"))

    @property
    def source(self) -> Path:
        return self.root / "source"

    @property
    def submission(self) -> Path:
        return self.root / "submission"

    @property
    def metadata(self) -> Path:
        return self.root / "submission_metadata.json"

    @property
    def results(self) -> Path:
        return self.root / "results" / "results.json"


def run_gradescope(name: str, layout: Layout | None = None) -> str:
    """Grade the upload of this container and write results.json; returns the
    log for instructors (what run_autograder prints, hidden from students)."""
    layout = layout or Layout.here()
    if not layout.source.is_dir():
        raise GraderError(f"{layout.source}: no autograder here (this command runs inside Gradescope's container)")
    log = []
    try:
        log += lock_down(layout)
        exercise = Course(layout.source).exercise(name)
        result, notes = grade_upload(exercise, layout.submission, student_of(layout.metadata))
        write_results(layout, exercise, result, notes)
    except Exception:  # noqa: BLE001 - the autograder itself is broken: still tell the student something
        log.append(traceback.format_exc())
        write_atomic(layout.results, json.dumps({
            "score": 0, "output": "The autograder failed on this submission; your instructor can see why in its log.",
            "output_format": "text", "stdout_visibility": "hidden", "tests": []}, indent=2))
        return "\n".join(log)
    from ..render import terminal

    log.append(terminal.render(result))
    if result.isolation == "process":
        log.append("warning: student code ran at the process level, where it can read the solutions "
                   "(see docs/gradescope.md)")
    return "\n".join(log)


def lock_down(layout: Layout) -> list[str]:
    """Before any student code runs: the solutions and the submission's
    metadata (which holds earlier results) unreadable to other users, the
    results folder writable only by this user and emptied, and the root
    enterable, so the sandbox's throwaway users reach the interpreter."""
    log = []
    for path, change in ((layout.root, _enterable), (layout.metadata, _private)):
        if path.exists():
            change(path)
    solutions = layout.source / "solutions"
    if solutions.is_dir():
        for path in [solutions, *solutions.rglob("*")]:
            if not path.is_symlink():
                _private(path)
    layout.results.parent.mkdir(parents=True, exist_ok=True)
    layout.results.parent.chmod(0o755)
    layout.results.unlink(missing_ok=True)
    log.append(f"mlgrade: {layout.root} locked down (solutions and submission metadata private)")
    return log


def _private(path: Path) -> None:
    path.chmod(stat.S_IMODE(path.lstat().st_mode) & 0o700)


def _enterable(path: Path) -> None:
    path.chmod(stat.S_IMODE(path.lstat().st_mode) & ~0o022 | 0o111)


def student_of(metadata: Path) -> str:
    """The submitters' names from Gradescope's submission metadata ("" when it cannot be read)."""
    try:
        users = json.loads(metadata.read_text(encoding="utf-8")).get("users") or []
        return ", ".join(str(u.get("name") or u.get("email") or u.get("id")) for u in users if isinstance(u, dict))
    except (OSError, ValueError, AttributeError):
        return ""


def grade_upload(exercise: Exercise, upload: Path, student: str = "") -> tuple[GradeResult, list[str]]:
    """Grade what was uploaded to `upload`; a wrong or missing upload is a result scoring 0 that says why."""
    from ..batch.run import not_graded
    from ..grading.grade import grade
    from ..submissions.load import load_submission
    from .uploads import expected, gather

    with tempfile.TemporaryDirectory(prefix="mlgrade-upload-") as scratch:
        try:
            folder, notes = gather(exercise, upload, Path(scratch))
            submission = load_submission(exercise, folder)
        except GraderError as exc:
            reason = str(exc).replace(f"{scratch}{os.sep}graded{os.sep}", "").replace(f"{scratch}{os.sep}", "")
            return not_graded(exercise, student, f"{reason}. {expected(exercise)}"), []
    notes += submission.notes
    try:
        return grade(exercise, submission, student=student), notes
    except GraderError as exc:
        return not_graded(exercise, student, str(exc)), notes


def write_results(layout: Layout, exercise: Exercise, result: GradeResult, notes: list[str]) -> None:
    """results.json as the exercise's [gradescope] options say, written atomically."""
    from ..render import gradescope
    from ..visibility import student_view

    options = exercise.gradescope
    shown = student_view(result, options.hide_hidden)
    write_atomic(layout.results, gradescope.render(shown, options.hidden_tests, options.leaderboard, tuple(notes)))


def run_prairielearn(name: str, root: Path | None = None) -> str:
    """Grade the files of this PrairieLearn grading job (`grade export run prairielearn NAME`, called by
    run.sh) and write results/results.json from this trusted process, after every student process is gone.
    A student's mistake (a missing file, a syntax error) is graded, scoring 0 and saying why; a fault of the
    grader or of the course files is `gradable: false` with `format_errors`, never a score. Returns the log:
    the job's output, which holds what the student sees and, on a fault, the traceback."""
    from ..batch.run import not_graded
    from ..grading.grade import grade
    from ..render import terminal
    from ..submissions.load import load_submission
    from ..visibility import student_view
    from . import prairielearn
    from .uploads import expected, gather

    job = prairielearn.Job(Path(root)) if root else prairielearn.Job.here()
    if not job.tests.is_dir():
        raise GraderError(f"{job.root}: no PrairieLearn grading job here (no tests/ folder)")
    try:
        # Before any student code runs: the solutions and the job's data private, the results folder
        # writable only by this user and emptied.
        for folder in (job.course(name) / "solutions", job.data):
            if folder.is_dir():
                for path in [folder, *folder.rglob("*")]:
                    if not path.is_symlink():
                        _private(path)
        job.results.parent.mkdir(parents=True, exist_ok=True)
        job.results.parent.chmod(0o755)
        job.results.unlink(missing_ok=True)
        exercise = Course(job.course(name)).exercise(name)
        problems = prairielearn.course_problems(exercise)
        if problems:
            raise GraderError(f"the course files for {name} are incomplete: {'; '.join(problems)}")
        # As grade_upload, except that an error of grade() itself propagates: on PrairieLearn a grader fault
        # is "not gradable" (Gradescope has no such thing, so grade_upload makes it a result scoring 0).
        with tempfile.TemporaryDirectory(prefix="mlgrade-upload-") as scratch:
            try:
                folder, notes = gather(exercise, job.student, Path(scratch))
                submission = load_submission(exercise, folder)
            except GraderError as exc:
                reason = str(exc).replace(f"{scratch}{os.sep}graded{os.sep}", "").replace(f"{scratch}{os.sep}", "")
                result, notes = not_graded(exercise, "", f"{reason}. {expected(exercise)}"), []
            else:
                result = grade(exercise, submission, figures=True)
                notes += submission.notes
        shown = student_view(result, prairielearn.hides_hidden(exercise))
        write_atomic(job.results, prairielearn.render(shown, tuple(notes)))
    except Exception as exc:  # noqa: BLE001 - the grader itself is broken: PrairieLearn must not score it
        write_atomic(job.results, prairielearn.not_gradable(prairielearn.fault(exc)))
        return traceback.format_exc()
    log = [terminal.render(shown)]
    if result.isolation == "process":
        log.append("warning: student code ran at the process level, where it can read the solutions "
                   "(see docs/prairielearn.md)")
    return "\n".join(log)
