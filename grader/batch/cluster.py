"""`grade batch --cluster ADDRESS`: a class graded on a Dask cluster, recorded here.

Only the grading moves. This process plans, runs the canary, and writes every
file as in a local batch (run.py): each student is one Dask task
(remote.grade_student) that takes the entry as bytes (transfer.py) and gives
back the results model as JSON text, never a pickle of anything the student
made. Each result is written atomically as it arrives, then its state file,
so local and cluster runs of a class share resume state.

Execution is at least once, recording exactly once. When a worker dies, the
scheduler grades its student again on another one; each task is recorded
the one time `as_completed` yields it, and released at once (a result still
held would be computed again if its worker died later). A student whose
task fails for good (its workers kept dying) gets the local batch's "stopped
unexpectedly" report and no state file, so the next run grades it again.

Dask is imported only here and in remote.py, and only with --cluster.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sys
import time
from concurrent.futures import CancelledError
from contextlib import contextmanager
from pathlib import Path

from ..errors import GraderError
from ..results import GradeResult
from ..submissions.entries import Entry
from .progress import Progress
from .remote import WorkerRefused, check_worker, grade_student, identity
from .run import Batch, _handle, _stop, record, work
from .transfer import header, pack

LOCAL_WORKERS = 64  # at most, for local:N
ALLOWED_FAILURES = 2  # local:N: a student whose grading kills its worker costs three workers, then is reported
CONNECT_TIMEOUT = "10s"
WORKER_WAIT = 600  # seconds for a first worker to join (a batch queue may take a while to start them)
WINDOW = 64  # tasks in flight at least (4 per worker thread when more): submissions are read as they go
ADDRESS = re.compile(r"([a-z0-9+]+://)?[^\s/]+:\d+")


def parse_address(value: str) -> str:
    """`value` if it is local:N, a scheduler address or a scheduler file; GraderError otherwise."""
    if value.startswith("local:"):
        count = value.removeprefix("local:")
        if not count.isdigit() or not 1 <= int(count) <= LOCAL_WORKERS:
            raise GraderError(f"--cluster {value}: local:N takes a number of workers from 1 to {LOCAL_WORKERS}")
        return value
    if ADDRESS.fullmatch(value) or Path(value).is_file():
        return value
    raise GraderError(f"--cluster {value}: expected local:N, a scheduler address such as tcp://host:8786, "
                      "or a scheduler file")


def run_on_cluster(batch: Batch, tasks: list[dict], address: str, counts: dict) -> tuple[dict, int]:
    """Grade `tasks` on the cluster at `address`; returns the counts and how many students it graded at once."""
    address = parse_address(address)
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise GraderError("--cluster needs Dask's distributed scheduler: pip install 'mlgrade[cluster]'") from None
    run = _ClusterRun(batch, counts, Progress(len(tasks)))
    try:
        # Re-rendering, and entries refused before any grading, need no cluster: the local batch's code does them.
        remote = []
        for task in tasks:
            if task["render_only"] or task["entry"]["problem"]:
                run.book(task, work(batch, task))
            else:
                remote.append(task)
        if remote:
            with connect(address) as client:
                run.grade(client, address, remote)
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (run.Terminated): as in a local batch
        run.progress.close()
        _stop(exc, f"{run.progress.done} of {len(tasks)} done")
    finally:
        run.progress.close()  # before any error message, on a line of its own
    return counts, max(run.threads, 1)


@contextmanager
def connect(address: str):
    """A Dask client of the cluster at `address`, or of a LocalCluster started here for local:N."""
    import dask
    from distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.CRITICAL)  # the scheduler and nannies of local:N log here
    cluster = client = None
    try:
        if address.startswith("local:"):
            _share_grader_path()
            dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES})
            cluster = LocalCluster(n_workers=int(address.removeprefix("local:")), threads_per_worker=1,
                                   processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0",
                                   silence_logs=logging.CRITICAL, memory_limit=0,  # the sandbox limits memory
                                   preload=["grader.batch.remote"])  # its dask_setup: workers ignore Ctrl-C
            client = Client(cluster)
        elif Path(address).is_file():
            client = Client(scheduler_file=address, timeout=CONNECT_TIMEOUT)
        else:
            client = Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        _close(client, cluster)
        raise GraderError(f"cannot reach the Dask scheduler at {address} ({exc})") from None
    except RuntimeError as exc:  # a local worker that failed to start: say why, in one line
        _close(client, cluster)
        cause = exc.__cause__ or exc
        raise GraderError(f"cannot start the workers of {address} ({type(cause).__name__}: {cause})") from None
    try:
        yield client
    finally:
        _close(client, cluster)


def _share_grader_path() -> None:
    """Let local workers import this very grader: they start with this process's sys.path, from which
    `python -m grader` removed the current folder (where a checkout's grader is found)."""
    where = str(Path(__file__).resolve().parents[2])
    if not any(os.path.realpath(p) == where for p in sys.path):
        sys.path.insert(0, where)


def _close(client, cluster) -> None:
    if client is not None:
        client.close()  # never shutdown(): an external cluster is not ours to stop
    if cluster is not None:
        try:
            cluster.close()
        except Exception:  # noqa: BLE001 - a nanny caught restarting a worker; the workers die with us anyway
            pass


class _ClusterRun:
    """The client's side of one batch: submit, record as results come, count."""

    def __init__(self, batch: Batch, counts: dict, progress: Progress):
        self.batch, self.counts, self.progress = batch, counts, progress
        exercise = batch.exercise
        self.job = {"root": str(exercise.folder.parent.parent), "exercise": exercise.name,
                    "identity": identity(exercise)}
        self.threads = 0

    def book(self, task: dict, reply: dict | None) -> None:
        self.counts[_handle(self.batch, task, reply)] += 1
        self.progress.advance(**self.counts)

    def grade(self, client, address: str, tasks: list[dict]) -> None:
        from distributed import as_completed

        self._check_workers(client, address)
        waiting, running, finished = iter(tasks), {}, as_completed()
        window, refreshed = max(WINDOW, 4 * self.threads), time.monotonic()
        self._submit(client, waiting, running, finished, window)
        for future in finished:
            task = running.pop(future.key, None)
            if task is None:  # yielded before and recorded: a student is recorded once
                continue
            try:
                reply = self._receive(future, task)
            finally:
                future.release()
            self.book(task, reply)
            if time.monotonic() - refreshed > 10:  # workers come and go
                window, refreshed = max(WINDOW, 4 * sum(client.nthreads().values())), time.monotonic()
            self._submit(client, waiting, running, finished, window)

    def _submit(self, client, waiting, running: dict, finished, window: int) -> None:
        """Send tasks until `window` are in flight (or none is left)."""
        while len(running) < window:
            task = next(waiting, None)
            if task is None:
                return
            entry = Entry(**task["entry"])
            try:
                data = pack(entry)
            except (GraderError, OSError):  # a folder the local batch refuses, a file gone: its report, made here
                self.book(task, work(self.batch, task))
                continue
            key = f"grade-{entry.id}-" + hashlib.sha256(
                json.dumps(self.job["identity"], sort_keys=True).encode() + task["digest"].encode()).hexdigest()[:16]
            future = client.submit(grade_student, self.job, header(entry), data, key=key, pure=False)
            running[key] = task
            finished.add(future)

    def _receive(self, future, task: dict) -> dict | None:
        """Record a finished task; None when the student could not be graded (reported, graded next run)."""
        sid = task["entry"]["id"]
        try:
            text = future.result()  # a result lost with its worker before it got here is computed again first
        except CancelledError:  # the scheduler restarted, or the connection to it broke
            raise GraderError(f"the cluster dropped the task of {sid}; the students recorded so far are kept: "
                              "run the same command again") from None
        except WorkerRefused as exc:
            raise GraderError(f"{exc} (the students recorded so far are kept; run the same command again "
                              "once every worker is right)") from None
        except Exception as exc:  # noqa: BLE001 - its workers kept dying, or its grading stopped: not this batch's end
            why = f"{type(exc).__name__}: {exc}".splitlines()[0]
            self.progress.note(f"{sid}: not graded on the cluster ({why}); the next run grades it again")
            return None
        try:
            result = GradeResult.from_dict(json.loads(text))
        except (ValueError, KeyError, TypeError) as exc:
            self.progress.note(f"{sid}: a worker sent an unreadable result ({exc}); the next run grades it again")
            return None
        try:
            return record(self.batch, task, result)
        except OSError as exc:
            raise GraderError(f"cannot write the reports of {sid} in {self.batch.out} ({exc}); "
                              "the students recorded so far are kept") from None

    def _check_workers(self, client, address: str) -> None:
        """Refuse, before any student, a cluster whose workers lack the course or grader, or cannot run tasks."""
        try:
            client.wait_for_workers(1, timeout=WORKER_WAIT)
        except TimeoutError:
            raise GraderError(f"no Dask worker joined the scheduler at {address} within {WORKER_WAIT} s") from None
        problems = [_worker_problem(worker, reply)
                    for worker, reply in client.run(check_worker, self.job, on_error="return").items()
                    if isinstance(reply, Exception)]
        if not problems:  # one task through the scheduler too: it must be able to read the grader's tasks
            try:
                client.submit(check_worker, self.job, pure=False).result()
            except Exception as exc:  # noqa: BLE001 - any failure here is the cluster's set-up, said in one line
                problems.append(_worker_problem(None, exc))
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise GraderError(problems[0] + more)
        workers = client.nthreads()
        self.threads = sum(workers.values())
        self.progress.note(f"cluster {address}: {len(workers)} {'worker' if len(workers) == 1 else 'workers'}, "
                           f"grading {self.threads} at once")


def _worker_problem(worker: str | None, problem: Exception) -> str:
    """One line on why the cluster (or `worker` in it) cannot grade this batch."""
    if isinstance(problem, WorkerRefused):
        return str(problem)
    first = str(problem).split("\n")[0].split(". ")[0]  # Dask's messages go on for lines
    who = f"worker {worker}" if worker else "the cluster"
    return (f"{who} cannot run the grader's tasks ({type(problem).__name__}: {first}): "
            "install the same mlgrade where the scheduler and every worker run")
