"""`grade batch NAME SUBMISSIONS --out DIR`: grade a class, in parallel, losing nothing.

Before any student, the canary grades the reference through the same path; if
it falls short, nothing is graded. Then forked copies of this warm process
grade the entries, each from a copy of the entry taken in one read, writing
the student's files atomically as soon as it is done, and last a small state
file recording what was graded (the copy's content hash and the exercise's).
A re-run, also after Ctrl-C, SIGTERM or kill -9, skips every student whose
state matches and grades the rest. A grading process killed mid-student is
replaced and that student graded once more; a folder that cannot be written
(a full disk) stops the batch with one line, keeping every finished student.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import sys
import tempfile
import threading
import time
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import click

from ..course import Exercise
from ..errors import GraderError
from ..grading.forkpool import OVERTIME
from ..results import GradeResult, PartResult, class_statistics, load_json, unwritable, write_atomic
from ..sandbox.cleanup import remove_tree
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
RETRIES = 1  # more attempts for a student whose grading process died (the OOM killer, a stray kill)
KILLED_HINT = ": from outside, as the out-of-memory killer does"
STOPPED = "; the batch stopped, and the students finished before are kept: {} and run the same command again"


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C raises KeyboardInterrupt, so that both stop a batch the same way."""


@dataclass
class Batch:
    """What every grading process needs to know (inherited through fork)."""

    exercise: Exercise
    submissions: Path
    out: Path
    hide_hidden: bool
    fingerprint: str
    student_seconds: float | None = None  # wall-clock limit of one student's grading (local pool)

    @property
    def private(self) -> tuple:
        # One student's worker must see neither the other submissions nor the reports.
        return (str(self.submissions), str(self.out))


def exercise_fingerprint(exercise: Exercise) -> str:
    """A hash of everything that decides a grade: the manifest, the support
    files copied beside every submission (student code imports them) and the
    solutions folder."""
    h = hashlib.sha256()
    files = [exercise.folder / "exercise.toml"]
    files += [exercise.folder / name for name in exercise.support if (exercise.folder / name).is_file()]
    if exercise.solution_folder:
        files += sorted(p for p in exercise.solution_folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in files:
        h.update(str(path.relative_to(exercise.folder.parent.parent)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def not_graded(exercise: Exercise, student: str, reason: str) -> GradeResult:
    """The report of an entry that could not be graded: every part 0, with the reason (a file name in it that
    is not UTF-8 shown escaped, so that the reason can be written and printed)."""
    parts = [PartResult(p.name, p.points) for p in exercise.parts] + [PartResult("quiz", exercise.quiz_points)]
    reason = reason.encode("utf-8", "backslashreplace").decode("utf-8")
    return GradeResult(exercise.name, exercise.max_score, parts, student=student, status="error", error=reason)


def _readable(reason: str, entry: Entry, scratch: str) -> str:
    """A reason without the grader's paths: the report is about this entry anyway."""
    for folder in ("snapshot", "unpacked"):
        reason = reason.replace(os.path.join(scratch, folder) + os.sep, "")
    for prefix in (f"{os.path.basename(entry.path)}: ", f"{entry.path}: "):
        reason = reason.removeprefix(prefix)
    return reason.replace(scratch + os.sep, "").replace(entry.path + os.sep, "")


def grade_entry(batch: Batch, entry: Entry) -> tuple[GradeResult, str | None]:
    """Grade one entry from a copy taken in one read (entries.snapshot); anything wrong with it
    becomes that student's report. Returns the result and the digest of the content graded
    (None when not even a copy could be taken)."""
    from ..grading.grade import grade
    from ..submissions.load import load_submission

    taken = None
    scratch = tempfile.mkdtemp(prefix="grade-entry-")
    try:
        copy, taken = entry_files.snapshot(entry, Path(scratch, "snapshot"))
        path = entry_files.open_entry(copy, Path(scratch, "unpacked"))
        submission = load_submission(batch.exercise, path)
    except GraderError as exc:
        return not_graded(batch.exercise, entry.id, _readable(str(exc), entry, scratch)), taken
    finally:
        remove_tree(scratch)  # a zip of thousands of nested folders must not cost the report
    try:
        return grade(batch.exercise, submission, student=entry.id, hide=batch.private, figures=True), taken
    except GraderError as exc:
        return not_graded(batch.exercise, entry.id, str(exc)), taken
    except Exception as exc:  # noqa: BLE001 - one submission must never stop the batch
        return not_graded(batch.exercise, entry.id,
                          f"the grader failed on this submission ({type(exc).__name__}: {exc})"), taken


def _state(batch: Batch, digest: str) -> dict:
    return {"entry": digest, "exercise": batch.fingerprint, "hide_hidden": batch.hide_hidden}


def work(batch: Batch, task: dict) -> dict:
    """One task in a grading process: grade (or only re-render) a student and write the files.
    A file that cannot be written (a full disk) is told in the reply, for the batch to stop."""
    entry = Entry(**task["entry"])
    folder = batch.out / entry.id
    try:
        if task["render_only"]:
            result = load_json(folder / REPORT)
            write_student_views(folder, result, batch.hide_hidden)
            return _done(batch, task, result, task["digest"])
        result, taken = grade_entry(batch, entry)
        return record(batch, task, result, taken)
    except OSError as exc:
        return {"status": "unwritten", "unwritable": unwritable(exc, folder), "remedy": _remedy(exc)}


def record(batch: Batch, task: dict, result: GradeResult, digest: str | None = None) -> dict:
    """Write a graded student's files (also those graded elsewhere: cluster.py); returns the task's reply.
    `digest`: of the content graded, when known (default: the task's, hashed when planned)."""
    write_student(batch.out / task["entry"]["id"], result, batch.hide_hidden)
    return _done(batch, task, result, digest or task["digest"])


def _done(batch: Batch, task: dict, result: GradeResult, digest: str) -> dict:
    # Written last: only a student whose files are all complete counts as done.
    write_atomic(batch.out / task["entry"]["id"] / STATE, json.dumps(_state(batch, digest)))
    return {"status": result.status}


def _remedy(exc: OSError) -> str:
    return "make room" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else "fix that"


def plan(batch: Batch, found: list[Entry], force: bool) -> tuple[list[dict], int]:
    """The tasks to run, and how many students are skipped as already graded."""
    tasks, skipped = [], 0
    for entry in found:
        digest = entry_files.digest(entry)
        folder = batch.out / entry.id
        remove_leftovers(folder)
        state = _read_state(folder)
        same = (not force and (folder / REPORT).is_file() and state.get("entry") == digest
                and state.get("exercise") == batch.fingerprint)
        if same and state.get("hide_hidden") == batch.hide_hidden:
            skipped += 1
            continue
        tasks.append({"entry": entry.to_dict(), "digest": digest, "render_only": same})
    return tasks, skipped


def remove_leftovers(folder: Path) -> None:
    """Remove the temporary files of a write_atomic that was interrupted (killed, or the disk full)."""
    for name in OUTPUTS:
        for stale in folder.glob(f".{name}.*"):
            stale.unlink(missing_ok=True)


def _read_state(folder: Path) -> dict:
    try:
        data = json.loads((folder / STATE).read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def run_batch(exercise: Exercise, submissions: Path, out: Path, jobs: int | None = None, force: bool = False,
              hide_hidden: bool = False, cluster: str | None = None, student_seconds: float | None = None) -> str:
    """Grade every entry of `submissions` into `out`; returns the closing summary.

    With `cluster` (an address, or local:N), students are graded on a Dask cluster (cluster.py)."""
    from ..grading.forkpool import cores

    if not exercise.has_solutions():
        raise GraderError(f"batch grading needs the solutions: no solutions/{exercise.name}/ in the course")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GraderError(unwritable(exc, out)) from None
    batch = Batch(exercise, submissions.resolve(), out.resolve(), hide_hidden, exercise_fingerprint(exercise),
                  student_seconds)
    found = entry_files.scan(batch.submissions, skip=(batch.out,))
    if not found:
        raise GraderError(f"{submissions}: no entries to grade (expected a folder, .py, .ipynb or .zip per student)")
    # An id named like a class file would put its folder where that file goes: reported in the class files only.
    clashing = [e for e in found if e.id.lower() in (GRADEBOOK, SUMMARY)]
    tasks, skipped = plan(batch, [e for e in found if e not in clashing], force)
    jobs = min(jobs or cores(), max(len(tasks), 1))
    started = time.monotonic()
    counts = {"graded": 0, "not graded": 0, "re-rendered": 0}
    deaths: list[str] = []
    with _sigterm_as_interrupt():
        if tasks:
            if any(not t["render_only"] for t in tasks):
                try:
                    run_canary(batch)
                except KeyboardInterrupt as exc:
                    _stop(exc, "no student was graded yet")
            from ..render import charts

            charts.preload()  # once here rather than once in every grading process
            if cluster:
                from .cluster import run_on_cluster

                counts, jobs = run_on_cluster(batch, tasks, cluster, counts)
            else:
                counts, deaths = _run(batch, tasks, jobs, counts)
        try:
            reports = read_reports(batch.out) + [
                (None, not_graded(exercise, e.id, f"its name is that of the class's {e.id.lower()}: rename the entry"))
                for e in clashing]
            if tasks or clashing or not all((batch.out / name).is_file() for name in (GRADEBOOK, SUMMARY)):
                write_class(batch.out, [r for _, r in reports])
        except KeyboardInterrupt as exc:
            _stop(exc, f"every student is done, but not {GRADEBOOK} and {SUMMARY}")
        except OSError as exc:
            raise GraderError(f"{unwritable(exc, batch.out)}; every student's files are written: "
                              f"{_remedy(exc)} and run `grade publish {batch.out}`") from None
    return closing_summary(batch, found, reports, counts, skipped, time.monotonic() - started, jobs, deaths)


@contextmanager
def _sigterm_as_interrupt():
    """While grading, SIGTERM stops the batch as Ctrl-C does (children killed, finished students kept)."""
    def terminate(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the clean-up short
        raise Terminated()

    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return
    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stop(exc: KeyboardInterrupt, progress: str) -> None:
    """Leave after Ctrl-C (exit status 130) or SIGTERM (143), saying how to go on."""
    terminated = isinstance(exc, Terminated)
    click.echo(f"{'terminated' if terminated else 'interrupted'}: {progress}; run the same command again to go on "
               "(finished students are kept)", err=True)
    sys.exit(128 + (signal.SIGTERM if terminated else signal.SIGINT))


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


def _run(batch: Batch, tasks: list[dict], jobs: int, counts: dict) -> tuple[dict, list[str]]:
    """Grade the tasks in `jobs` forked processes; returns the counts and how each process that died mid-student
    ended (its student was graded again, up to RETRIES times, then reported as not graded)."""
    from ..grading.forkpool import ForkPool
    from .progress import Progress

    progress = Progress(len(tasks))
    pool = ForkPool(jobs, lambda task: work(batch, task), retries=RETRIES, task_seconds=batch.student_seconds)
    try:
        with closing(pool.run(tasks)) as finished:  # closing it kills the children at once
            for task, reply in finished:
                counts[_handle(batch, task, reply, pool.deaths)] += 1
                progress.advance(**counts)
    except KeyboardInterrupt as exc:
        progress.close()
        _remove_all_leftovers(batch, tasks)
        _stop(exc, f"{progress.done} of {len(tasks)} done")
    except GraderError:
        progress.close()
        _remove_all_leftovers(batch, tasks)
        raise
    progress.close()
    return counts, [how for _, how in pool.deaths if how != OVERTIME]


def _remove_all_leftovers(batch: Batch, tasks: list[dict]) -> None:
    """After the children were killed: no half-written file of theirs stays behind."""
    for task in tasks:
        remove_leftovers(batch.out / task["entry"]["id"])


def _handle(batch: Batch, task: dict, reply: dict | None, deaths: list[tuple[dict, str]] = ()) -> str:
    """Book one finished task; returns the count it adds to. GraderError when outputs cannot be written.
    `deaths`: (task, how) of every grading process that died mid-task."""
    if reply is not None and reply.get("unwritable"):
        raise GraderError(reply["unwritable"] + STOPPED.format(reply["remedy"]))
    if reply is None:
        sid = task["entry"]["id"]
        how = [why for t, why in deaths if t is task]
        times = {1: "once", 2: "twice"}.get(len(how), f"{len(how)} times")
        if how[-1] == OVERTIME:
            # Recorded as done: the same submission would stall again; --force or a new version grades it.
            result = not_graded(batch.exercise, sid, f"its grading took longer than {batch.student_seconds:g} s of "
                                "wall-clock time (--student-seconds) and was stopped; the batch went on")
        else:  # no state file is written, so the next run grades this student again
            result = not_graded(batch.exercise, sid, f"the grading process stopped while grading it, {times} "
                                f"({how[-1]}{KILLED_HINT if how[-1] == 'killed by SIGKILL' else ''}); "
                                "run the batch again to grade it")
        try:
            if how[-1] == OVERTIME:
                record(batch, task, result)
            else:
                write_student(batch.out / sid, result, batch.hide_hidden)
        except OSError as exc:
            raise GraderError(unwritable(exc, batch.out / sid) + STOPPED.format(_remedy(exc))) from None
        reply = {"status": result.status}
    if task["render_only"]:
        return "re-rendered"
    return "graded" if reply["status"] == "graded" else "not graded"


def closing_summary(batch: Batch, found: list[Entry], reports, counts: dict, skipped: int, seconds: float,
                    jobs: int, deaths: list[str] = ()) -> str:
    """The one-screen summary at the end of a batch (`deaths`: how each grading process that died mid-student
    ended)."""
    results = [r for _, r in reports]
    lines = [f"{batch.exercise.name}: {len(found)} {'entry' if len(found) == 1 else 'entries'} in {batch.submissions}",
             f"  graded {counts['graded']}, not graded {counts['not graded']}, unchanged {skipped} (skipped)"
             + (f", re-rendered {counts['re-rendered']}" if counts["re-rendered"] else "")
             + f"  [{seconds:.1f} s" + (f", {jobs} {'job' if jobs == 1 else 'jobs'}]" if sum(counts.values()) else "]")]
    if deaths:
        lines.append(f"  {len(deaths)} grading {'process' if len(deaths) == 1 else 'processes'} stopped mid-student "
                     f"({', '.join(sorted(set(deaths)))}): each such student was given to a fresh one "
                     f"(up to {1 + RETRIES} attempts)")
    stats = class_statistics(results)
    if stats.graded:
        lines.append(f"  scores of {stats.graded} graded: mean {stats.mean:.1f}, median {stats.median:g}, "
                     f"lowest {stats.lowest:g}, highest {stats.highest:g} (of {batch.exercise.max_score:g})")
        for part in stats.parts:
            lines.append(f"    {part.name:<28} mean {part.mean:6.1f} / {part.max_score:<4g}"
                         f" full marks {part.full}/{part.count}")
    errors = sorted((r for r in results if r.status != "graded"), key=lambda r: r.student)
    if errors:
        earlier = len(errors) - counts["not graded"]  # the skipped entries' records say so too
        lines.append(f"  not graded ({len(errors)}" + (f"; {earlier} as an earlier run recorded" if earlier > 0 else "")
                     + "):")
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
