"""The warm grading process of a cluster worker (started by remote.py).

A Dask task runs in a thread of its worker, whose main thread is Dask's event
loop; grading needs a process of its own, single-threaded, whose main thread
may set signal handlers and limits. So each task thread starts one of these
once and reuses it: it loads the exercise, grades the reference (the canary:
every worker passes it before its first student) and then grades one entry
per request with `grade_entry`, as a grading process of a local batch does.

Requests and replies are frames on stdin and stdout: a JSON header line,
then `size` bytes (the entry's bytes; the results model as JSON text).
"""
from __future__ import annotations

import ctypes
import json
import os
import select
import signal
import sys
import tempfile
from pathlib import Path
from typing import BinaryIO

from ..sandbox.cleanup import remove_tree

IDLE_SECONDS = 600  # an idle helper exits: a long-lived worker should not hold a grader it no longer uses
PR_SET_PDEATHSIG = 1


def send(stream: BinaryIO, head: dict, body: bytes = b"") -> None:
    """Write one frame."""
    stream.write(json.dumps({**head, "size": len(body)}).encode() + b"\n" + body)
    stream.flush()


def receive(stream: BinaryIO) -> tuple[dict, bytes] | None:
    """Read one frame; None at the end of the stream (the other side is gone)."""
    line = stream.readline()
    if not line.endswith(b"\n"):
        return None
    head = json.loads(line)
    body = stream.read(head["size"]) if head["size"] else b""
    if len(body) != head["size"]:
        return None
    return head, body


def _die_with_parent(parent: int) -> None:
    # The signal comes when the *thread* that started this process ends: remote.py's owner thread,
    # which waits for this process as long as it lives, and dies with its worker.
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the worker died before prctl took effect
        os._exit(1)


def _private_streams() -> tuple[BinaryIO, BinaryIO]:
    """The frame streams, on descriptors of their own: a stray print goes to stderr, never into a reply."""
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return requests, replies


def main(argv: list[str]) -> None:
    """`helper COURSE_ROOT EXERCISE PARENT_PID IDENTITY`: ready after the canary (or refused), then grade
    until stdin closes. IDENTITY (JSON) is what the client graded with: checked again here, on what this
    process loaded, since a long-lived worker's files may have changed since the worker checked them."""
    from ..course import Course
    from ..errors import GraderError
    from .remote import identity
    from .run import Batch, exercise_fingerprint, run_canary

    _die_with_parent(int(argv[2]))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the client's to handle
    requests, replies = _private_streams()
    scratch = Path(tempfile.mkdtemp(prefix="grade-helper-"))
    try:
        try:
            exercise = Course(Path(argv[0])).exercise(argv[1])
            if identity(exercise) != json.loads(argv[3]):
                raise GraderError(f"the course at {argv[0]} or the grader changed while the worker ran")
            # The entries are unpacked in `scratch`, which the students' sandboxes must not see.
            batch = Batch(exercise, scratch, scratch, False, exercise_fingerprint(exercise))
            run_canary(batch)
        except GraderError as exc:
            send(replies, {"status": "refused", "message": str(exc)})
            return
        from ..sandbox import zygote

        zygote.enable()  # as in a local batch's grading processes: workers forked from a warm server
        send(replies, {"status": "ready"})
        serve(batch, requests, replies, scratch)
    finally:
        remove_tree(scratch)


def serve(batch, requests: BinaryIO, replies: BinaryIO, scratch: Path) -> None:
    """Grade one entry per request until the requests end or none comes for IDLE_SECONDS."""
    from .run import grade_entry
    from .transfer import unpack

    while select.select([requests], [], [], IDLE_SECONDS)[0]:
        frame = receive(requests)
        if frame is None:
            return
        head, data = frame
        folder = Path(tempfile.mkdtemp(dir=scratch))
        try:
            result, _ = grade_entry(batch, unpack(head, data, folder))
        except Exception as exc:  # noqa: BLE001 - the worker's trouble (a full disk), not the student's
            send(replies, {"status": "failed", "message": f"{type(exc).__name__}: {exc}"})
            continue
        finally:
            remove_tree(folder)
        send(replies, {"status": "graded"}, json.dumps(result.to_dict()).encode())
