"""A pool of trusted grading processes forked from a warm parent.

Each child is a copy of the parent taken after the slow imports (pytest,
numpy, the reference, matplotlib) and the canary, so a task pays none of that
again. Tasks and replies are JSON lines over pipes. A child that dies mid-task
(killed from outside, as by the out-of-memory killer) is replaced; its task is
given again up to `retries` times, then gets a `None` reply, so one crash never
stops the rest. Children ignore Ctrl-C (the parent handles it), die at once on
SIGTERM, and die with the parent, also when the parent is killed with SIGKILL.
"""
from __future__ import annotations

import ctypes
import json
import os
import select
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

PR_SET_PDEATHSIG = 1
OVERTIME = "stopped at the time limit per task"  # how a child killed by the limit ended


@dataclass
class _Child:
    pid: int
    tasks: int  # write end: tasks to the child
    replies: int  # read end: replies from the child
    task: dict | None = None
    buffer: bytes = b""
    deadline: float = 0.0  # monotonic time by which its task must be done (with a time limit)


def death(status: int) -> str:
    """How a child ended, from its wait status, in words."""
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return f"killed by {name}"
    return f"exited with status {os.WEXITSTATUS(status)}"


def cores() -> int:
    """The CPUs this process may run on: the default number of grading processes."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data):]


class ForkPool:
    """`jobs` forked children, each running `work(task) -> reply` on one task at a time;
    a task whose child dies is given to a fresh child up to `retries` more times.
    With `task_seconds`, a child still on its task after that much wall-clock
    time is killed and the task given up (not retried: it would stall again)."""

    def __init__(self, jobs: int, work: Callable[[dict], dict], retries: int = 0, task_seconds: float | None = None):
        self.jobs = max(1, jobs)
        self.work = work
        self.retries = retries
        self.task_seconds = task_seconds
        self.children: dict[int, _Child] = {}  # by reply fd
        self.deaths: list[tuple[dict, str]] = []  # (task, how its child ended), for every child that died mid-task

    def run(self, tasks: Iterable[dict]) -> Iterator[tuple[dict, dict | None]]:
        """Yield (task, reply) as tasks finish, in any order; reply None when the child died."""
        pending = list(tasks)[::-1]
        finished = False
        try:
            for _ in range(min(self.jobs, len(pending))):
                self._give(self._spawn(), pending)
            while any(c.task is not None for c in self.children.values()):
                busy = [c for c in self.children.values() if c.task is not None]
                wait = None
                if self.task_seconds is not None:
                    wait = max(0.0, min(c.deadline for c in busy) - time.monotonic())
                for fd in select.select([c.replies for c in busy], [], [], wait)[0]:
                    yield from self._read(self.children[fd], pending)
                if self.task_seconds is not None:
                    yield from self._overtime(pending)
            finished = True
        finally:
            self._stop(kill=not finished)

    def _read(self, child: _Child, pending: list):
        data = os.read(child.replies, 1 << 16)
        if not data:
            task = child.task
            self.deaths.append((task, death(self._reap(child))))
            retry = sum(t is task for t, _ in self.deaths) <= self.retries
            if retry:
                pending.append(task)  # next in line
            if pending:
                self._give(self._spawn(), pending)
            if not retry:
                yield task, None
            return
        child.buffer += data
        while b"\n" in child.buffer:
            line, child.buffer = child.buffer.split(b"\n", 1)
            task, child.task = child.task, None
            self._give(child, pending)
            yield task, json.loads(line)

    def _overtime(self, pending: list):
        """Kill the children whose task outlived the time limit; their tasks get a None reply."""
        now = time.monotonic()
        for child in [c for c in self.children.values() if c.task is not None and now >= c.deadline]:
            task = child.task
            try:
                os.kill(child.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._reap(child)
            self.deaths.append((task, OVERTIME))
            if pending:
                self._give(self._spawn(), pending)
            yield task, None

    def _give(self, child: _Child, pending: list) -> None:
        if pending:
            child.deadline = time.monotonic() + (self.task_seconds or 0.0)
            child.task = pending.pop()
            _write_all(child.tasks, (json.dumps(child.task) + "\n").encode())

    def _spawn(self) -> _Child:
        task_r, task_w = os.pipe()
        reply_r, reply_w = os.pipe()
        parent = os.getpid()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.close(task_w)
                os.close(reply_r)
                for other in self.children.values():  # or their EOFs would never come
                    os.close(other.tasks)
                    os.close(other.replies)
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler
                _die_with_parent(parent)
                self._serve(task_r, reply_w)
                code = 0
            except BaseException:  # noqa: BLE001 - a child must never return into the parent's code
                traceback.print_exc()
            finally:
                os._exit(code)
        os.close(task_r)
        os.close(reply_w)
        child = _Child(pid, task_w, reply_r)
        self.children[reply_r] = child
        return child

    def _serve(self, task_fd: int, reply_fd: int) -> None:
        from ..sandbox import zygote

        zygote.enable()  # this child starts many workers: fork them from a warm server
        try:
            with os.fdopen(task_fd, "rb") as tasks:
                for line in tasks:
                    reply = self.work(json.loads(line))
                    _write_all(reply_fd, (json.dumps(reply) + "\n").encode())
        finally:
            zygote.disable()  # stopped and reaped here: this child ends with os._exit, which reaps nothing

    def _reap(self, child: _Child) -> int:
        """Close a child's pipes and wait for it; returns its wait status."""
        self.children.pop(child.replies, None)
        for fd in (child.tasks, child.replies):
            try:
                os.close(fd)
            except OSError:
                pass
        return os.waitpid(child.pid, 0)[1]

    def _stop(self, kill: bool) -> None:
        """Let idle children exit (their task pipe closes), or kill them all when interrupted."""
        for child in list(self.children.values()):
            if kill:
                try:
                    os.kill(child.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self._reap(child)
