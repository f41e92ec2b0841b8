"""`grade batch NAME SUBMISSIONS --out DIR`: grade a class, in parallel, losing nothing.

Before any student, the canary grades the reference through the same path; if
it falls short, nothing is graded. Then forked copies of this warm process
grade the entries, each writing the student's files atomically as soon as it
is done, and last a small state file recording what was graded (the entry's
content hash and the exercise's). A re-run, also after Ctrl-C or kill -9,
skips every student whose state matches and grades the rest.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import click

from ..course import Exercise
from ..errors import GraderError
from ..results import GradeResult, PartResult, class_statistics, load_json, write_atomic
from ..submissions import entries as entry_files
from ..submissions.entries import Entry
from .outputs import (
    FEEDBACK,
    GRADEBOOK,
    GRADESCOPE,
    REPORT,
    SUMMARY,
    read_reports,
    write_class,
    write_student,
    write_student_views,
)

STATE = ".batch.json"
OUTPUTS = (REPORT, FEEDBACK, GRADESCOPE, STATE)


@dataclass
class Batch:
    """What every grading process needs to know (inherited through fork)."""

    exercise: Exercise
    submissions: Path
    out: Path
    hide_hidden: bool
    fingerprint: str

    @property
    def private(self) -> tuple:
        # One student's worker must see neither the other submissions nor the reports.
        return (str(self.submissions), str(self.out))


def exercise_fingerprint(exercise: Exercise) -> str:
    """A hash of everything that decides a grade: the manifest and the solutions folder."""
    h = hashlib.sha256()
    files = [exercise.folder / "exercise.toml"]
    if exercise.solution_folder:
        files += sorted(p for p in exercise.solution_folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in files:
        h.update(str(path.relative_to(exercise.folder.parent.parent)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def not_graded(exercise: Exercise, student: str, reason: str) -> GradeResult:
    """The report of an entry that could not be graded: every part 0, with the reason."""
    parts = [PartResult(p.name, p.points) for p in exercise.parts] + [PartResult("quiz", exercise.quiz_points)]
    return GradeResult(exercise.name, exercise.max_score, parts, student=student, status="error", error=reason)


def _readable(reason: str, entry: Entry, scratch: str) -> str:
    """A reason without the grader's paths: the report is about this entry anyway."""
    for prefix in (f"{entry.path}: ", f"{scratch}: "):
        reason = reason.removeprefix(prefix)
    return reason.replace(scratch + os.sep, "").replace(entry.path + os.sep, "")


def grade_entry(batch: Batch, entry: Entry) -> GradeResult:
    """Grade one entry; anything wrong with it becomes that student's report."""
    from ..grading.grade import grade
    from ..submissions.load import load_submission

    with tempfile.TemporaryDirectory(prefix="grade-entry-") as scratch:
        try:
            path = entry_files.open_entry(entry, Path(scratch))
            submission = load_submission(batch.exercise, path)
        except GraderError as exc:
            return not_graded(batch.exercise, entry.id, _readable(str(exc), entry, scratch))
    try:
        return grade(batch.exercise, submission, student=entry.id, hide=batch.private, figures=True)
    except GraderError as exc:
        return not_graded(batch.exercise, entry.id, str(exc))
    except Exception as exc:  # noqa: BLE001 - one submission must never stop the batch
        return not_graded(batch.exercise, entry.id,
                          f"the grader failed on this submission ({type(exc).__name__}: {exc})")


def _state(batch: Batch, digest: str) -> dict:
    return {"entry": digest, "exercise": batch.fingerprint, "hide_hidden": batch.hide_hidden}


def work(batch: Batch, task: dict) -> dict:
    """One task in a grading process: grade (or only re-render) a student and write the files."""
    entry = Entry(**task["entry"])
    folder = batch.out / entry.id
    if task["render_only"]:
        result = load_json(folder / REPORT)
        write_student_views(folder, result, batch.hide_hidden)
        return _done(batch, task, result)
    return record(batch, task, grade_entry(batch, entry))


def record(batch: Batch, task: dict, result: GradeResult) -> dict:
    """Write a graded student's files (also those graded elsewhere: cluster.py); returns the task's reply."""
    write_student(batch.out / task["entry"]["id"], result, batch.hide_hidden)
    return _done(batch, task, result)


def _done(batch: Batch, task: dict, result: GradeResult) -> dict:
    # Written last: only a student whose files are all complete counts as done.
    write_atomic(batch.out / task["entry"]["id"] / STATE, json.dumps(_state(batch, task["digest"])))
    return {"status": result.status}


def plan(batch: Batch, found: list[Entry], force: bool) -> tuple[list[dict], int]:
    """The tasks to run, and how many students are skipped as already graded."""
    tasks, skipped = [], 0
    for entry in found:
        digest = entry_files.digest(entry)
        folder = batch.out / entry.id
        for name in OUTPUTS:  # leftovers of an interrupted write_atomic
            for stale in folder.glob(f".{name}.*"):
                stale.unlink()
        state = _read_state(folder)
        same = (not force and (folder / REPORT).is_file() and state.get("entry") == digest
                and state.get("exercise") == batch.fingerprint)
        if same and state.get("hide_hidden") == batch.hide_hidden:
            skipped += 1
            continue
        tasks.append({"entry": entry.to_dict(), "digest": digest, "render_only": same})
    return tasks, skipped


def _read_state(folder: Path) -> dict:
    try:
        data = json.loads((folder / STATE).read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def run_batch(exercise: Exercise, submissions: Path, out: Path, jobs: int | None = None, force: bool = False,
              hide_hidden: bool = False, cluster: str | None = None) -> str:
    """Grade every entry of `submissions` into `out`; returns the closing summary.

    With `cluster` (an address, or local:N), students are graded on a Dask cluster (cluster.py)."""
    from ..grading.forkpool import cores

    if not exercise.has_solutions():
        raise GraderError(f"batch grading needs the solutions: no solutions/{exercise.name}/ in the course")
    out.mkdir(parents=True, exist_ok=True)
    batch = Batch(exercise, submissions.resolve(), out.resolve(), hide_hidden, exercise_fingerprint(exercise))
    found = entry_files.scan(batch.submissions, skip=(batch.out,))
    if not found:
        raise GraderError(f"{submissions}: no entries to grade (expected a folder, .py, .ipynb or .zip per student)")
    tasks, skipped = plan(batch, found, force)
    jobs = min(jobs or cores(), max(len(tasks), 1))
    started = time.monotonic()
    counts = {"graded": 0, "not graded": 0, "re-rendered": 0}
    if tasks:
        if any(not t["render_only"] for t in tasks):
            run_canary(batch)
        from ..render import charts

        charts.preload()  # once here rather than once in every grading process
        if cluster:
            from .cluster import run_on_cluster

            counts, jobs = run_on_cluster(batch, tasks, cluster, counts)
        else:
            counts = _run(batch, tasks, jobs, counts)
    reports = read_reports(batch.out)
    if tasks or not all((batch.out / name).is_file() for name in (GRADEBOOK, SUMMARY)):
        write_class(batch.out, [r for _, r in reports])
    return closing_summary(batch, found, reports, counts, skipped, time.monotonic() - started, jobs)


def run_canary(batch: Batch) -> None:
    """Grade the reference as a student; stop with a configuration error unless it gets full marks.

    It also warms this process (pytest, the reference, the figures' reference data) before the pool forks.
    """
    from ..grading import canary

    _, problems = canary.run(batch.exercise, hide=batch.private, figures=True)
    if problems:
        listed = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise GraderError(f"grader configuration error: the reference solution does not pass its own grading, "
                          f"so no student was graded: {listed}")


def _run(batch: Batch, tasks: list[dict], jobs: int, counts: dict) -> dict:
    from ..grading.forkpool import ForkPool
    from .progress import Progress

    progress = Progress(len(tasks))
    pool = ForkPool(jobs, lambda task: work(batch, task))
    try:
        with closing(pool.run(tasks)) as finished:  # closing it kills the children at once
            for task, reply in finished:
                counts[_handle(batch, task, reply)] += 1
                progress.advance(**counts)
    except KeyboardInterrupt:
        progress.close()
        click.echo(f"interrupted: {progress.done} of {len(tasks)} done; run the same command again to go on "
                   "(finished students are kept)", err=True)
        sys.exit(130)
    progress.close()
    return counts


def _handle(batch: Batch, task: dict, reply: dict | None) -> str:
    """Book one finished task; returns the count it adds to."""
    if reply is None:  # no state file is written, so the next run grades this student again
        sid = task["entry"]["id"]
        result = not_graded(batch.exercise, sid, "the grading process stopped unexpectedly; run the batch again")
        write_student(batch.out / sid, result, batch.hide_hidden)
        reply = {"status": result.status}
    if task["render_only"]:
        return "re-rendered"
    return "graded" if reply["status"] == "graded" else "not graded"


def closing_summary(batch: Batch, found: list[Entry], reports, counts: dict, skipped: int, seconds: float,
                    jobs: int) -> str:
    """The one-screen summary at the end of a batch."""
    results = [r for _, r in reports]
    lines = [f"{batch.exercise.name}: {len(found)} {'entry' if len(found) == 1 else 'entries'} in {batch.submissions}",
             f"  graded {counts['graded']}, not graded {counts['not graded']}, unchanged {skipped} (skipped)"
             + (f", re-rendered {counts['re-rendered']}" if counts["re-rendered"] else "")
             + f"  [{seconds:.1f} s" + (f", {jobs} {'job' if jobs == 1 else 'jobs'}]" if sum(counts.values()) else "]")]
    stats = class_statistics(results)
    if stats.graded:
        lines.append(f"  scores of {stats.graded} graded: mean {stats.mean:.1f}, median {stats.median:g}, "
                     f"lowest {stats.lowest:g}, highest {stats.highest:g} (of {batch.exercise.max_score:g})")
        for part in stats.parts:
            lines.append(f"    {part.name:<28} mean {part.mean:6.1f} / {part.max_score:<4g}"
                         f" full marks {part.full}/{part.count}")
    errors = sorted((r for r in results if r.status != "graded"), key=lambda r: r.student)
    if errors:
        lines.append(f"  not graded ({len(errors)}):")
        lines += [f"    {r.student}: {r.error}" for r in errors[:10]]
        if len(errors) > 10:
            lines.append(f"    ... and {len(errors) - 10} more (see {GRADEBOOK})")
    gone = sorted({r.student for r in results} - {e.id for e in found})
    if gone:
        lines.append(f"  {len(gone)} reports in {batch.out} have no entry in SUBMISSIONS any more (kept): "
                     f"{', '.join(gone[:8])}")
    lines.append(f"  wrote {batch.out / GRADEBOOK}, {batch.out / SUMMARY}, "
                 "and <id>/report.json, feedback.html, results.json")
    return "\n".join(lines)
