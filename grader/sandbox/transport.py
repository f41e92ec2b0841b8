"""The grader's ends of one worker's pipes, and the deadlines of every wait on them.

Nothing here waits without a deadline. Requests go into an outbox that is
written only as far as the worker takes it (the pipe never blocks the
grader); the rest is written while the grader waits for a reply, under that
wait's deadlines. A worker that stops reading, stops answering or stops
computing is found out by those deadlines (`Watch`): the CPU time of its
session, and a wall-clock time after which a call that waits rather than
computes is given up.
"""
import fcntl
import os
import select
import sys
import termios
import time

from . import wire
from .outcome import clean

# How often the grader reads the worker's CPU time while it waits (seconds).
POLL = 0.2


def wall_net(cpu_seconds, wait_seconds):
    """Wall-clock seconds after which a wait is given up whatever the CPU time:
    generous enough that a computing call reaches its CPU limit first on any
    machine load it could meet; what it stops is a call that sleeps or waits.
    `wait_seconds`: the exercise's Limits.wait_seconds."""
    return wait_seconds + 5 * cpu_seconds


class Link:
    """Requests to one worker, and its messages and printed output back."""

    def __init__(self, wfd, rfd, out_fd, worker_pid):
        os.set_blocking(wfd, False)
        self.wfd, self.rfd, self.out_fd = wfd, rfd, out_fd
        self.worker_pid = worker_pid
        self.out_open = True
        self.outbox = bytearray()
        self.unpacker = wire.Unpacker()
        self.pending = []
        self.broken = ""  # why the worker's messages can no longer be read
        self.init_pid = None  # its PID namespace's init, once it says so
        self.exit_code = None  # how the student's process ended, as that init saw it

    def send(self, message):
        """Queue a request; written now as far as the pipe takes it, the rest while waiting."""
        self.outbox += wire.pack(message)
        self._flush()

    def _flush(self):
        try:
            while self.outbox:
                del self.outbox[:os.write(self.wfd, self.outbox)]
        except BlockingIOError:
            pass  # the pipe is full: the rest goes when the worker reads
        except OSError:
            self.outbox.clear()  # a dead worker is noticed when its reply never comes

    @property
    def stalled(self):
        """Whether requests are still waiting for the worker to read them (in the outbox, or in the pipe)."""
        if self.outbox:
            return True
        try:
            unread = fcntl.ioctl(self.wfd, termios.FIONREAD, b"\0\0\0\0")
        except OSError:
            return False
        return int.from_bytes(unread, sys.byteorder) > 0

    def next_message(self, watch, output):
        """The next protocol message, or None on timeout (`watch.stopped` says
        which), worker death or a broken protocol. Printed output goes to `output`."""
        while not self.pending:
            remaining = watch.deadline - time.monotonic()
            if remaining <= 0:
                watch.stopped = "wall"
                return None
            if self.broken:
                return None
            watched = [self.rfd, self.out_fd] if self.out_open else [self.rfd]
            readable, writable, _ = select.select(watched, [self.wfd] if self.outbox else [], [],
                                                  min(remaining, POLL))
            if writable:
                self._flush()
            if not readable:
                if not writable and watch.over():
                    return None
                continue
            if self.out_fd in readable:
                chunk = os.read(self.out_fd, 1 << 16)
                if chunk:
                    output.add(chunk)
                else:
                    self.out_open = False  # the student closed stdout and stderr
            if self.rfd in readable:
                chunk = os.read(self.rfd, 1 << 16)
                if not chunk:
                    return None
                # What arrived before any garbage still counts (the module's
                # "ready", say, ahead of an early call that wrote into the pipe).
                messages, error = self.unpacker.feed_partly(chunk)
                for message in messages:
                    self._route(message)
                if error is not None:
                    self.broken = (f"the worker's messages became unreadable ({clean(error, 120)}): "
                                   "did student code write to the grader's pipe?")
                    if not self.pending:
                        return None
        return self.pending.pop(0)

    def _route(self, message):
        op = message.get("op")
        if op == "init" and self.init_pid is None and _is_child(message.get("pid"), self.worker_pid):
            self.init_pid = message["pid"]
        elif op == "died":
            code = message.get("code")
            self.exit_code = code if type(code) is int else None
        elif op != "init":
            self.pending.append(message)

    def read_output(self):
        """Whatever printed output is waiting, without blocking."""
        return read_available(self.out_fd)

    def close(self):
        for fd in (self.wfd, self.rfd):
            os.close(fd)


class Watch:
    """What the grader watches while it waits: the CPU time of the worker's
    session as the kernel counts it (every process student code started
    included, so a fork bomb's work counts too), against a cap, and a
    wall-clock deadline."""

    def __init__(self, session, cap, deadline):
        self.session, self.cap, self.deadline = session, cap, deadline
        # Read at the first look, not now: most calls end long before it, and
        # reading means a pass over /proc. The cap is a backstop; that first
        # stretch (POLL seconds at most) is never the difference.
        self.start = None
        self.stopped = ""  # "cpu" or "wall" once the watch stopped the wait

    def pause(self, seconds):
        """The grader itself worked `seconds` (serving a helper): not the student's time."""
        self.deadline += seconds

    def grow(self, seconds):
        self.cap += seconds
        self.deadline += 5 * seconds

    def over(self):
        """Whether the session used more than the cap since the watch first looked."""
        used = session_cpu(self.session)
        if self.start is None:
            self.start = used
        elif used is not None and used - self.start > self.cap:
            self.stopped = "cpu"
        return bool(self.stopped)


def session_cpu(session):
    """CPU seconds of the processes of `session`, their reaped children's
    included, from /proc (None where there is no /proc)."""
    if session is None or not os.path.isdir("/proc/self"):
        return None
    ticks = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[3]) == session:
                ticks += sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
    return ticks / _TICKS


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class Capture:
    """Keeps the first `limit` bytes a call printed and counts the rest."""

    def __init__(self, limit):
        self.limit = limit
        self.kept = bytearray()
        self.dropped = 0

    def add(self, chunk):
        room = max(self.limit - len(self.kept), 0)
        self.kept += chunk[:room]
        self.dropped += max(len(chunk) - room, 0)

    def text(self, dropped_in_worker=0):
        text = clean(self.kept.decode("utf-8", "replace"))
        # The worker's count is the student's to forge: a plausible count or none.
        cut = self.dropped + (dropped_in_worker if type(dropped_in_worker) is int and 0 < dropped_in_worker < 1 << 63
                              else 0)
        if cut:
            text += f"\n... ({cut} more characters of output cut)"
        return text


def read_available(fd):
    """Whatever is waiting in a pipe, without blocking."""
    data = b""
    for _ in range(16):  # bounded: a surviving daemon may still be printing
        if not select.select([fd], [], [], 0)[0]:
            break
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            break
        data += chunk
    return data


def _is_child(pid, parent):
    if type(pid) is not int or pid <= 1:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[1]) == parent
    except (OSError, IndexError, ValueError):
        return False
