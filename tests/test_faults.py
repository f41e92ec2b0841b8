"""Faults during `grade batch`, each made for real: the output disk fills up,
a grading process is killed from outside mid-student, the batch gets SIGTERM
or Ctrl-C, and a submission changes while the class is graded. Plus a student
who names their folder like a spreadsheet formula.

No test here depends on timing: a "blocker" student's gradient_descent waits
for SIGUSR1 (in sigwait), so the tests know exactly when a student is
mid-grading (a thread of its worker sleeps in the kernel's sigtimedwait) and
release it when they are done.
"""
from __future__ import annotations

import csv
import ctypes
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REFERENCE, ROOT, quiz_key_text
from report_checks import check_page

from grader.submissions import entries

BLOCKER = REFERENCE.read_text() + '''

import signal as _signal

_reference_descent = gradient_descent
_released = []


def gradient_descent(*args, **kwargs):
    """The reference's, once the test sends SIGUSR1: until then this student is being graded."""
    if not _released:
        _signal.pthread_sigmask(_signal.SIG_BLOCK, {_signal.SIGUSR1})
        _signal.sigwait({_signal.SIGUSR1})
        _released.append(True)
    return _reference_descent(*args, **kwargs)
'''
WAIT = 180  # seconds: generous, for a loaded machine; every wait polls for a condition
PARTS = ["sigmoid", "compute_cost_logistic", "compute_gradient_logistic", "gradient_descent", "quiz"]
FULL = ["15", "20", "25", "20", "20"]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A copy of the course where a call may take long enough for the blocker to wait on the test."""
    root = tmp_path_factory.mktemp("course")
    for folder in ("exercises", "solutions"):
        shutil.copytree(ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    manifest = root / "exercises" / "exercise3" / "exercise.toml"
    manifest.write_text(manifest.read_text().replace("call_seconds = 5", "call_seconds = 300"))
    return root


def student(folder: Path, source: str = "", quiz: str | None = None) -> Path:
    folder.mkdir(parents=True)
    (folder / "logistic_regression.py").write_text(source or REFERENCE.read_text())
    (folder / "quiz.toml").write_text(quiz_key_text() if quiz is None else quiz)
    return folder


def batch_args(course: Path, submissions: Path, out: Path, *more) -> list[str]:
    return [sys.executable, "-m", "grader", "batch", "exercise3", str(submissions), "--out", str(out),
            "--jobs", "1", "--root", str(course), *map(str, more)]


STARTED: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def no_batch_left_running():
    """A test that fails midway must not leave a batch (and a blocked student) behind."""
    yield
    while STARTED:
        proc = STARTED.pop()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def run_batch(course, submissions, out, *more, release: int = 0):
    """Run `grade batch` to the end, releasing the blocker `release` times as it reaches it."""
    proc = start_batch(course, submissions, out, *more)
    for _ in range(release):
        release_blocker(proc)
    stdout, stderr = proc.communicate(timeout=WAIT)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def start_batch(course, submissions, out, *more, **popen) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    STARTED.append(subprocess.Popen(batch_args(course, submissions, out, *more), cwd=ROOT, env=env, text=True,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_interruptible,
                                    **popen))
    return STARTED[-1]


def _interruptible():
    # A test run started in the background by a script ignores SIGINT, and so
    # would the batch (Python keeps an inherited SIG_IGN): Ctrl-C must reach it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


# -- the process tree -------------------------------------------------------------------

def tasks(pid: int) -> list[Path]:
    """The threads of `pid`; none when it has just ended (processes come and go while we look)."""
    try:
        return list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return []


def children(pid: int) -> list[int]:
    found = []
    for task in tasks(pid):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def descendants(pid: int) -> list[int]:
    found, todo = [], children(pid)
    while todo:
        found.append(todo.pop())
        todo += children(found[-1])
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def wait_for(condition, what: str, proc: subprocess.Popen | None = None):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the batch ended before {what}: {proc.returncode}\n{proc.stderr.read()}")
        time.sleep(0.02)
    raise AssertionError(f"not within {WAIT} s: {what}")


def blocked_threads(pid: int) -> list[tuple[int, int]]:
    """(process, thread) of every thread under `pid` waiting in sigwait: the blocker, mid-grading
    (nothing else the grader runs calls sigwait)."""
    found = []
    for process in descendants(pid):
        for task in tasks(process):
            try:
                waiting = (task / "wchan").read_text().startswith("do_sigtimedwait")
            except OSError:
                continue
            if waiting:
                found.append((process, int(task.name)))
    return found


def grading_process(batch_pid: int, worker: int) -> int:
    """The grading process (a child of the batch) that `worker` descends from."""
    return next(p for p in children(batch_pid) if worker in descendants(p))


SYS_TGKILL = {"x86_64": 234, "aarch64": 131}


def release_blocker(proc: subprocess.Popen, gone: set = frozenset()) -> None:
    """Wait until the blocker is being graded (by a process not in `gone`: a killed one may linger for a moment),
    then let its gradient_descent go on (SIGUSR1 to that very thread)."""
    process, thread = wait_for(lambda: [b for b in blocked_threads(proc.pid) if b[0] not in gone],
                               "the blocker is graded", proc)[0]
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.syscall(SYS_TGKILL[os.uname().machine], process, thread, signal.SIGUSR1) == 0


def gradebook(out: Path) -> dict:
    return {row["id"]: row for row in csv.DictReader((out / "gradebook.csv").open())}


def states(out: Path) -> dict:
    return {p.parent.name: json.loads(p.read_text()) for p in out.glob("*/.batch.json")}


def everything_written_is_whole(out: Path) -> None:
    """Every report parses, every page is complete, no temporary file is left, and a student with a state
    file has all of its files."""
    for path in out.rglob("*"):
        assert not (path.name.startswith(".") and path.name != ".batch.json"), f"left behind: {path}"
        if path.suffix == ".json":
            json.loads(path.read_text())
        elif path.name == "feedback.html":
            check_page(path.read_text())
    for sid in states(out):
        assert all((out / sid / name).is_file() for name in ("report.json", "feedback.html", "results.json"))


# -- the output disk fills up -----------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    """A 4 MB tmpfs (root only; skipped where mounting is not permitted), unmounted afterwards."""
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_full_disk_stops_the_batch_with_one_line_and_a_rerun_completes(course, tmp_path, small_disk):
    submissions = tmp_path / "submissions"
    for sid in "abcdefgh":
        student(submissions / sid)
    # Room for about two students' files (some 130 KB each), not for eight.
    ballast = small_disk / "ballast"
    free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
    ballast.write_bytes(b"\0" * (free - 300 * 1024))
    out = small_disk / "out"

    full = run_batch(course, submissions, out)
    assert full.returncode == 2, full.stdout + full.stderr
    error = full.stderr.strip().splitlines()[-1]
    assert error.startswith(f"grade: error: cannot write {out}/") and "No space left on device" in error
    assert error.endswith("the batch stopped, and the students finished before are kept: "
                          "make room and run the same command again")
    assert "Traceback" not in full.stderr
    done = states(out)
    assert 1 <= len(done) < 8, sorted(done)
    everything_written_is_whole(out)

    ballast.unlink()
    again = run_batch(course, submissions, out)
    assert again.returncode == 0, again.stderr
    assert f"graded {8 - len(done)}, not graded 0, unchanged {len(done)} (skipped)" in again.stdout
    assert all(row["total"] == "100" for row in gradebook(out).values()) and len(gradebook(out)) == 8
    everything_written_is_whole(out)


def test_full_disk_for_the_class_files_says_to_publish(course, tmp_path, small_disk):
    submissions = tmp_path / "submissions"
    student(submissions / "ann")
    out = small_disk / "out"
    assert run_batch(course, submissions, out).returncode == 0
    (out / "gradebook.csv").unlink()
    free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
    (small_disk / "ballast").write_bytes(b"\0" * free)
    done = run_batch(course, submissions, out)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip() == (f"grade: error: cannot write {out}/gradebook.csv: No space left on device; every "
                                   f"student's files are written: make room and run `grade publish {out}`")
    everything_written_is_whole(out)


# -- a grading process killed from outside ----------------------------------------------

def test_grading_process_killed_mid_student_is_graded_again(course, tmp_path):
    submissions = tmp_path / "submissions"
    student(submissions / "ann")
    student(submissions / "blocker", BLOCKER)
    out = tmp_path / "out"
    proc = start_batch(course, submissions, out)
    process, _ = wait_for(lambda: blocked_threads(proc.pid), "the blocker is graded", proc)[0]
    os.kill(grading_process(proc.pid, process), signal.SIGKILL)  # as the out-of-memory killer would
    release_blocker(proc, gone={process})  # graded again, in a fresh process
    stdout, stderr = proc.communicate(timeout=WAIT)
    assert proc.returncode == 0, stderr
    assert "graded 2, not graded 0" in stdout
    assert ("  1 grading process stopped mid-student (killed by SIGKILL): each such student was given to a fresh one "
            "(up to 2 attempts)\n") in stdout
    assert [gradebook(out)["blocker"][p] for p in PARTS] == FULL
    assert set(states(out)) == {"ann", "blocker"}
    everything_written_is_whole(out)


def test_student_whose_grading_process_dies_twice_is_reported_then_graded_by_a_rerun(course, tmp_path):
    submissions = tmp_path / "submissions"
    student(submissions / "blocker", BLOCKER)
    out = tmp_path / "out"
    proc = start_batch(course, submissions, out)
    killed = set()
    for attempt in range(2):
        process, _ = wait_for(lambda: [b for b in blocked_threads(proc.pid) if b[0] not in killed],
                              f"attempt {attempt + 1} at the blocker", proc)[0]
        killed.add(process)
        os.kill(grading_process(proc.pid, process), signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=WAIT)
    assert proc.returncode == 0, stderr
    row = gradebook(out)["blocker"]
    assert (row["status"], row["total"]) == ("error", "0")  # reported as not graded, never a silent 0
    assert row["note"] == ("the grading process stopped while grading it, twice (killed by SIGKILL: from outside, "
                           "as the out-of-memory killer does); run the batch again to grade it")
    assert "blocker: the grading process stopped while grading it, twice" in stdout
    assert states(out) == {}  # so the next run grades it again
    again = run_batch(course, submissions, out, release=1)
    assert again.returncode == 0, again.stderr
    assert "graded 1, not graded 0, unchanged 0" in again.stdout
    assert gradebook(out)["blocker"]["total"] == "100"


# -- SIGTERM and Ctrl-C ---------------------------------------------------------------------

@pytest.mark.parametrize("how, status, word", [("SIGTERM to the batch", 143, "terminated"),
                                               ("Ctrl-C (SIGINT to its process group)", 130, "interrupted")])
def test_stopped_batch_leaves_no_process_and_resumes(course, tmp_path, how, status, word):
    submissions = tmp_path / "submissions"
    for sid in ("ann", "zed"):
        student(submissions / sid)
    student(submissions / "blocker", BLOCKER)  # graded second: ann < blocker < zed
    out = tmp_path / "out"
    proc = start_batch(course, submissions, out, start_new_session=True)
    wait_for(lambda: blocked_threads(proc.pid), "the blocker is graded", proc)
    tree = descendants(proc.pid)  # the grading process, its fork server, the worker and the student's process
    assert len(tree) >= 3
    if how.startswith("SIGTERM"):
        os.kill(proc.pid, signal.SIGTERM)
    else:
        os.killpg(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=WAIT)
    assert proc.returncode == status, stderr
    assert stderr.strip().splitlines()[-1] == (f"{word}: 1 of 3 done; run the same command again to go on "
                                               "(finished students are kept)")
    assert "Traceback" not in stderr
    # The batch waits for its grading processes; what they started dies with them (parent-death signal).
    wait_for(lambda: not any(alive(p) for p in tree), "every process of the batch is gone")
    assert set(states(out)) == {"ann"}
    everything_written_is_whole(out)

    again = run_batch(course, submissions, out, release=1)
    assert again.returncode == 0, again.stderr
    assert "graded 2, not graded 0, unchanged 1 (skipped)" in again.stdout
    assert {sid: row["total"] for sid, row in gradebook(out).items()} == {"ann": "100", "blocker": "100", "zed": "100"}


# -- a submission that changes while the class is graded --------------------------------

def test_entries_changing_during_the_batch_are_recorded_as_graded(course, tmp_path):
    submissions = tmp_path / "submissions"
    blocker = student(submissions / "blocker", BLOCKER)
    zed = student(submissions / "zed")
    proc = start_batch(course, submissions, tmp_path / "out")
    wait_for(lambda: blocked_threads(proc.pid), "the blocker is graded", proc)
    graded_blocker = entries.digest(entries.Entry("blocker", str(blocker), "folder"))
    # Mid-grading, the blocker's own folder changes (after its copy was taken), and so does zed's, which was
    # hashed when the batch started but is read only now.
    (blocker / "quiz.toml").write_text("".join(f'q{i} = "A"\n' for i in range(1, 6)))
    (blocker / "notes.md").write_text("new")
    (zed / "quiz.toml").unlink()
    release_blocker(proc)
    stdout, stderr = proc.communicate(timeout=WAIT)
    assert proc.returncode == 0, stderr
    out = tmp_path / "out"
    rows, recorded = gradebook(out), states(out)
    assert rows["blocker"]["total"] == "100"  # graded as it was when its grading began
    assert recorded["blocker"]["entry"] == graded_blocker
    assert rows["zed"]["quiz"] == "0"  # graded as it was when read, without quiz.toml ...
    assert recorded["zed"]["entry"] == entries.digest(entries.Entry("zed", str(zed), "folder"))  # ... and so recorded

    again = run_batch(course, submissions, out, release=1)  # the blocker changed since its copy: graded again
    assert "graded 1, not graded 0, unchanged 1 (skipped)" in again.stdout
    assert gradebook(out)["blocker"]["quiz"] == "8"  # of the key, q3 and q5 are A


def test_snapshot_is_one_read_of_what_grading_reads(tmp_path):
    folder = student(tmp_path / "submissions" / "ann")
    (folder / "data.csv").write_text("1,2\n")
    (folder / "work").mkdir()
    (folder / "work" / "draft.py").write_text("x = 1\n")
    (folder / "answers.toml").symlink_to("quiz.toml")
    entry = entries.Entry("ann", str(folder), "folder")
    before = entries.digest(entry)
    copy, taken = entries.snapshot(entry, tmp_path / "copy")
    assert taken == before and copy.path == str(tmp_path / "copy" / "ann") and copy.kind == "folder"
    copied = sorted(p.relative_to(copy.path).as_posix() for p in Path(copy.path).rglob("*") if p.is_file())
    assert copied == ["answers.toml", "logistic_regression.py", "quiz.toml", "work/draft.py"]  # not data.csv
    assert not Path(copy.path, "answers.toml").is_symlink()
    (folder / "logistic_regression.py").write_text("changed")
    assert Path(copy.path, "logistic_regression.py").read_text() == REFERENCE.read_text()
    assert entries.digest(entry) != before
    (folder / "data.csv").write_text("3,4\n")  # hashed, though never copied
    assert entries.snapshot(entry, tmp_path / "again")[1] == entries.digest(entry)
    (folder / "outside.py").symlink_to(REFERENCE)
    with pytest.raises(entries.GraderError, match="^outside.py is a symbolic link to a place outside the submission$"):
        entries.snapshot(entry, tmp_path / "third")


# -- gradebook.csv and spreadsheet formulas ------------------------------------------------

def test_formula_like_and_non_utf8_names_in_the_gradebook(course, tmp_path):
    submissions = tmp_path / "submissions"
    student(submissions / "=1+2")
    (submissions / os.fsdecode(b"caf\xe9.py")).write_text(REFERENCE.read_text())  # a Latin-1 name: was a traceback
    (submissions / "@SUM(A1)").mkdir()
    (submissions / "@SUM(A1)" / "logistic_regression.py").write_text(REFERENCE.read_text())
    (submissions / "@SUM(A1)" / '=HYPERLINK("x")').symlink_to(REFERENCE)  # its note starts with this name
    (submissions / "-2+3.py").write_text(REFERENCE.read_text())
    (submissions / "summary.html.py").write_text(REFERENCE.read_text())  # its folder would be the class summary's
    out = tmp_path / "out"
    done = run_batch(course, submissions, out)
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader((out / "gradebook.csv").open()))
    assert [row[0] for row in rows] == ["id", "'-2+3", "'=1+2", "'@SUM(A1)", "caf\ufffd", "summary.html"]
    assert rows[4][1:] == ["80", *FULL[:4], "0", "graded", "quiz: no quiz.toml in the submission"]
    assert rows[5][1:] == ["0"] * 6 + ["error", "its name is that of the class's summary.html: rename the entry"]
    check_page((out / "summary.html").read_text())
    assert rows[2][1] == "100" and rows[1][1] == "80"
    assert rows[3][-1] == ("'=HYPERLINK(\"x\") is a symbolic link to a place outside the submission")
    assert json.loads((out / "=1+2" / "report.json").read_text())["student"] == "=1+2"  # the record keeps the id

    from grader.render import gradebook as render
    from grader.results import GradeResult

    for start in ("=", "+", "-", "@", "\t", "\r"):
        result = GradeResult("exercise3", 1, student=f"{start}x", status="error", error=f"{start}y")
        row = list(csv.reader(io.StringIO(render.render([result]), newline="")))[1]
        assert (row[0], row[-1]) == (f"'{start}x", f"'{start}y") if start != "\r" else ("'\nx", "'\ny")
        assert len(row) == 4  # id, total, status, note: the row is whole
    assert render.text_cell("ann") == "ann" and render.text_cell("a=b") == "a=b"
