"""What runs on a Dask worker for `grade batch --cluster` (cluster.py is the client).

`check_worker` refuses a worker whose course copy or grader differs from the
client's; `grade_student` is the task: one student's entry in, the results
model out as JSON text. The grading itself happens in a warm helper process
(helper.py) per task thread, started by the thread's first task, because a
task's thread cannot grade: signals and limits belong to a main thread, and
the worker's main thread is Dask's. Nothing here imports Dask at load time.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from ..course import Course
from ..errors import GraderError
from .helper import receive, send
from .run import exercise_fingerprint

COURSE_ENV = "GRADER_COURSE"  # where a worker's course copy is, when not at the client's path
STDERR_TAIL = 2000


class WorkerRefused(Exception):
    """This worker cannot grade the client's batch: no course, another course or grader, or a failed canary."""


class GradingStopped(Exception):
    """The worker could not grade one student (its helper stopped twice, or failed)."""


class _HelperStopped(Exception):
    pass


@functools.lru_cache(maxsize=1)
def grader_fingerprint() -> str:
    """A hash of the grader's own code, as this process loaded it: client and workers must share it."""
    package = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        h.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def identity(exercise) -> dict:
    """What every worker must share with the client to give the same grades."""
    return {"exercise": exercise_fingerprint(exercise), "grader": grader_fingerprint()}


def worker_name(worker=None) -> str:
    """This worker's address, for messages (`worker`: the Dask worker, when Dask passes it)."""
    try:
        from distributed import get_worker

        return (worker or get_worker()).address
    except (ImportError, ValueError):
        return f"{socket.gethostname()} (pid {os.getpid()})"


def course_root(job: dict) -> Path:
    """This worker's course copy: $GRADER_COURSE, else the same path as the client's."""
    return Path(os.environ.get(COURSE_ENV) or job["root"])


_ready: set = set()  # the jobs this process has checked and found right
_ready_lock = threading.Lock()


def check_worker(job: dict, dask_worker=None) -> None:
    """Raise WorkerRefused unless this worker has the client's exercise and grader (checked once per process).

    `Client.run` passes `dask_worker`; in a task, Dask's `get_worker` finds it."""
    key = json.dumps(job, sort_keys=True)
    with _ready_lock:
        if key in _ready:
            return
        problem = _problem(job)
        if problem:
            raise WorkerRefused(f"worker {worker_name(dask_worker)} {problem}")
        _ready.add(key)


def _problem(job: dict) -> str:
    root, name = course_root(job), job["exercise"]
    try:
        exercise = Course(root).exercise(name)
    except GraderError as exc:
        return f"has no course at {root} ({exc}): give it a copy of the course, at the same path or in ${COURSE_ENV}"
    if not exercise.has_solutions():
        return f"has no solutions/{name}/ in its course at {root}"
    mine, theirs = identity(exercise), job["identity"]
    if mine["grader"] != theirs["grader"]:
        return (f"runs another version of the grader (code {mine['grader'][:12]}, the client's "
                f"{theirs['grader'][:12]}): install the same mlgrade on every worker")
    if mine["exercise"] != theirs["exercise"]:
        return (f"has another version of {name} at {root} (fingerprint {mine['exercise'][:12]}, the client's "
                f"{theirs['exercise'][:12]}): give every worker the same course folder")
    return ""


def grade_student(job: dict, head: dict, data: bytes) -> str:
    """The task: grade one entry (`head` from transfer.header, `data` its bytes) on this worker.

    Returns the results model as JSON text. A helper that stops mid-student is
    replaced and the student graded again once; GradingStopped after that.
    """
    check_worker(job)
    root = course_root(job)
    problem = ""
    for _ in range(2):
        helper = _take(root, job)
        try:
            reply = helper.grade(head, data)
        except _HelperStopped as exc:
            helper.kill()
            problem = str(exc)
            continue
        except GradingStopped:
            _give_back(helper)  # it said what went wrong, and is ready for the next student
            raise
        except BaseException:
            helper.kill()  # in an unknown state: never reused
            raise
        _give_back(helper)
        return reply
    raise GradingStopped(f"on worker {worker_name()}, the grading process stopped twice ({problem})")


def helper_command(root: Path, job: dict) -> list[str]:
    """`python -I` running helper.main with the grader this worker runs (also from a checkout on PYTHONPATH)."""
    where = str(Path(__file__).resolve().parents[2])
    boot = ("import os, sys\n"
            f"where = {where!r}\n"
            "if not any(os.path.realpath(p) == where for p in sys.path):\n"
            "    sys.path.insert(0, where)\n"
            "from grader.batch.helper import main\n"
            "main(sys.argv[1:])\n")
    return [sys.executable, "-I", "-c", boot, str(root), job["exercise"], str(os.getpid()),
            json.dumps(job["identity"])]


class Helper:
    """One warm grading process, started from a thread of its own that lives exactly as long as it does
    (the process dies with that thread: see helper._die_with_parent)."""

    def __init__(self, root: Path, job: dict):
        self.key = _pool_key(root, job)
        self.proc: subprocess.Popen | None = None
        self.stderr = b""
        started = threading.Event()
        failure: list[OSError] = []
        # Dask pins a hash seed in its workers; a local batch's grading processes get a random one.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}

        def own():
            try:
                self.proc = subprocess.Popen(helper_command(root, job), stdin=subprocess.PIPE,
                                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                             start_new_session=True)  # no Ctrl-C from the client's terminal
            except OSError as exc:
                failure.append(exc)
            finally:
                started.set()
            if self.proc is not None:
                for chunk in iter(lambda: self.proc.stderr.read1(4096), b""):
                    self.stderr = (self.stderr + chunk)[-STDERR_TAIL:]
                self.proc.wait()

        threading.Thread(target=own, name="grade-helper", daemon=True).start()
        started.wait()
        if failure:
            raise WorkerRefused(f"worker {worker_name()} cannot start a grading process ({failure[0]})")
        frame = receive(self.proc.stdout)
        if frame is None or frame[0]["status"] not in ("ready", "refused"):
            self.kill()
            raise WorkerRefused(f"worker {worker_name()}: its grading process stopped while starting"
                                f"{self._last_words()}")
        if frame[0]["status"] == "refused":
            self.kill()
            raise WorkerRefused(f"worker {worker_name()}: {frame[0]['message']}")

    def grade(self, head: dict, data: bytes) -> str:
        try:
            send(self.proc.stdin, head, data)
            frame = receive(self.proc.stdout)
        except OSError:
            frame = None
        if frame is None:
            raise _HelperStopped("it stopped in the middle of a student" + self._last_words())
        if frame[0]["status"] != "graded":
            raise GradingStopped(f"on worker {worker_name()}: {frame[0].get('message', frame[0])}")
        return frame[1].decode()

    def _last_words(self) -> str:
        try:
            self.proc.wait(timeout=2)  # and let the owner thread read the rest of stderr
        except subprocess.TimeoutExpired:
            pass
        lines = self.stderr.decode(errors="replace").strip().splitlines()
        return f": {lines[-1]}" if lines else ""

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


_idle: dict[tuple, list[Helper]] = {}  # warm helpers of this worker not grading now, by course and identity
_idle_lock = threading.Lock()


def _pool_key(root: Path, job: dict) -> tuple:
    return (str(root), job["exercise"], json.dumps(job["identity"], sort_keys=True))


def _take(root: Path, job: dict) -> Helper:
    key = _pool_key(root, job)
    with _idle_lock:
        for other in [k for k in _idle if k[:2] == key[:2] and k != key]:  # the course changed under this worker
            for helper in _idle.pop(other):
                helper.kill()
        idle = _idle.setdefault(key, [])
        while idle:
            helper = idle.pop()
            if helper.alive():
                return helper
    return Helper(root, job)  # outside the lock: the canary takes seconds


def _give_back(helper: Helper) -> None:
    with _idle_lock:
        _idle.setdefault(helper.key, []).append(helper)


def dask_setup(worker) -> None:
    """Dask preload of `--cluster local:N` workers: Ctrl-C in the terminal is the client's alone to handle."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
