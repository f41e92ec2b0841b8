"""A fork server per grading process, for graders that start many workers.

A fresh worker costs an interpreter and a numpy import (about 0.1 s of CPU).
A process that grades many submissions (a batch, a mutation analysis) calls
`enable()` once; from then on each Sandbox is a fork of a warm interpreter that
has numpy imported, isolated exactly as a spawned worker is. Where the fork
server cannot start or dies, sandboxes fall back to spawning.
"""
from __future__ import annotations

import atexit
import os
import socket
import struct
import subprocess
import sys

from . import FORKSERVER, command, isolation

SPAWN_SECONDS = 10.0  # the fork server forks and answers in milliseconds; this only bounds a wait on it


class Zygote:
    """The grader's end of one fork server."""

    def __init__(self):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.proc = subprocess.Popen(
            [*command(*FORKSERVER), str(theirs.fileno())],
            pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, env=isolation.worker_env("/tmp"), start_new_session=True,
        )
        theirs.close()
        # A fork server that stops answering is given up (OSError: workers are spawned from then on).
        ours.settimeout(SPAWN_SECONDS)
        self.sock = ours

    def spawn(self, fds) -> int:
        """Fork a worker holding `fds` (its pipe ends, read, write and output); returns its pid."""
        socket.send_fds(self.sock, [b"f"], list(fds))
        data = b""
        while len(data) < 4:
            chunk = self.sock.recv(4 - len(data))
            if not chunk:
                raise OSError("the fork server stopped")
            data += chunk
        return struct.unpack("=i", data)[0]

    def close(self):
        self.sock.close()
        self.proc.kill()
        self.proc.wait()


_SHARED: Zygote | None = None
_OWNER = 0  # the pid that started _SHARED: a forked child must start its own
_GAVE_UP = 0  # a pid whose fork server died: it spawns its workers from then on


def enable() -> None:
    """Fork this process's workers from a warm fork server from now on."""
    global _SHARED, _OWNER
    if sys.platform.startswith("linux") and (_SHARED is None or _OWNER != os.getpid()):
        if not _OWNER:
            atexit.register(disable)  # a grader that ends reaps its fork server
        _SHARED, _OWNER = Zygote(), os.getpid()


def shared() -> Zygote | None:
    """This process's fork server, if it has one (GRADER_FORKSERVER=1 starts one for any grade)."""
    pid = os.getpid()
    if (_SHARED is None or _OWNER != pid) and os.environ.get("GRADER_FORKSERVER") == "1" and _GAVE_UP != pid:
        enable()
    return _SHARED if _OWNER == pid else None


def disable() -> None:
    """Stop this process's fork server. One that died is not replaced (workers
    are spawned from then on); otherwise `enable` starts another."""
    global _SHARED, _GAVE_UP
    if _SHARED is not None and _OWNER == os.getpid():
        if _SHARED.proc.poll() is not None:
            _GAVE_UP = os.getpid()
        _SHARED.close()
    _SHARED = None


class Forked:
    """Stands in for a Popen of a worker the fork server made (not our child:
    the fork server reaps it, so how it ended comes from its 'died' message)."""

    def __init__(self, pid: int, out_fd: int):
        self.pid = pid
        self.stdout = os.fdopen(out_fd, "rb", buffering=0)
        self.returncode = None

    def wait(self, timeout: float | None = None):
        import time

        end = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return self.returncode
            if end is not None and time.monotonic() >= end:
                raise subprocess.TimeoutExpired("worker", timeout)
            time.sleep(0.001)
