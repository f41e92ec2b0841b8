"""The grader's side of a worker: start it, call student functions, stop it.

Student code only ever runs in the worker process. A call sends plain-data
arguments, waits with a wall-clock deadline, drains (and caps) whatever the
student prints, answers requests for the reference version of other functions
("oracles"), and decodes the reply into fresh values built here.
"""
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import isolation, wire
from .isolation import Limits

_HERE = Path(__file__).parent
WORKER_SOURCE = (_HERE / "wire.py").read_text() + "\n" + (_HERE / "worker.py").read_text()

SIGNAL_TEXT = {
    signal.SIGSEGV: "crashed with a segmentation fault",
    signal.SIGKILL: "was killed (CPU time or memory limit)",
    signal.SIGXCPU: "used up its CPU time limit",
    signal.SIGXFSZ: "wrote a file over the size limit",
    signal.SIGABRT: "aborted",
    signal.SIGBUS: "crashed with a bus error",
    signal.SIGFPE: "crashed with a floating-point exception",
}


@dataclass
class Outcome:
    """What one call of a student function came to, as plain data."""

    fn: str
    ok: bool
    value: Any = None
    kind: str = ""  # "", "exception", "timeout", "crash", "load", "protocol", "skipped"
    error_type: str = ""
    message: str = ""
    where: list = field(default_factory=list)
    output: str = ""
    seconds: float = 0.0
    args_after: list = field(default_factory=list)

    def describe(self):
        """One or two lines for a student: what went wrong and where."""
        if self.ok:
            return ""
        text = self.message
        if self.kind == "exception":
            if self.error_type == "NotImplementedError":
                text = "not implemented yet (the function still raises NotImplementedError)"
            elif self.error_type == "MemoryError":
                text = "memory limit exceeded (MemoryError)"
            elif self.error_type == "RecursionError":
                text = "unbounded recursion (RecursionError)"
            elif self.error_type in ("SystemExit", "KeyboardInterrupt", "Exit") or not self.message:
                text = f"{self.fn}() raised {self.error_type}" + (f"({self.message})" if self.message else "")
            else:
                text = f"{self.fn}() raised {self.error_type}: {self.message}"
        if self.where:
            last = self.where[-1]
            text += f"\n    at line {last.get('line')}: {last.get('code', '')}"
        return text


class Sandbox:
    """One worker process holding one student module; restarted after a kill."""

    def __init__(self, source, module_name, limits=Limits(), hide=(), level=None, files=None):
        self.source = source
        self.files = dict(files or {})  # support modules (name -> text) the student's module may import
        self.module_name = module_name
        self.limits = limits
        self.level = level or isolation.probe()
        self.hide = isolation.hideable(hide) if self.level != "process" else []
        self.proc = None
        self.load_error = None
        self.timed_out = set()
        self.output_dropped = 0

    # -- life cycle -------------------------------------------------------
    def start(self):
        """Spawn the worker; returns at once (the import is awaited by the first call)."""
        if self.proc is not None:
            return
        uid = isolation.sandbox_uid() if self.level == "namespaces+uid" else None
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        self.workdir = None
        if self.level == "process":
            self.workdir = tempfile.mkdtemp(prefix="grader-")
            module_file = os.path.join(self.workdir, f"{self.module_name}.py")
            Path(module_file).write_text(self.source, encoding="utf-8")
            for name, text in self.files.items():
                Path(self.workdir, name).write_text(text, encoding="utf-8")
            preexec, _ = isolation.prepare(self.level, self.limits, uid, self.module_name, self.source, [])
        else:
            preexec, module_file = isolation.prepare(
                self.level, self.limits, uid, self.module_name, self.source, self.hide, self.files
            )
        pidns = "1" if self.level != "process" else "0"
        self.uid = uid
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-c", WORKER_SOURCE, str(to_worker_r), str(from_worker_w), module_file, self.module_name, pidns],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(to_worker_r, from_worker_w),
            cwd=self.workdir or "/",
            env=_worker_env(self.workdir or "/tmp/work"),
            preexec_fn=preexec,
            start_new_session=True,
        )
        os.close(to_worker_r)
        os.close(from_worker_w)
        self.wfd, self.rfd = to_worker_w, from_worker_r
        self.out_fd = self.proc.stdout.fileno()
        self.unpacker = wire.Unpacker()
        self.pending = []
        self.init_pid = None
        self.exit_code = None
        self.ready = False

    def close(self):
        """Kill the worker and everything it started."""
        if self.proc is None:
            return
        for target in (self.init_pid,):
            if target:
                _kill(target)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        if self.uid is not None:
            isolation.kill_uid(self.uid)
        self.proc.wait()
        for fd in (self.wfd, self.rfd):
            os.close(fd)
        self.proc.stdout.close()
        self.proc = None
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()

    # -- calls ------------------------------------------------------------
    def wait_ready(self):
        """Wait for the module import; returns an Outcome describing a failed import, or None."""
        if self.load_error is not None:
            return self.load_error
        self.start()
        if self.ready:
            return None
        deadline = time.monotonic() + self.limits.call_seconds + 5
        output = _Capture(self.limits.output_bytes)
        message = self._next_message(deadline, output, None)
        if message is None or message.get("op") != "ready":
            if message is None:
                self.close()
                reason = "importing the module timed out" if time.monotonic() >= deadline else "the module stopped the worker while being imported"
                self.load_error = Outcome("import", False, kind="load", message=reason, output=output.text())
            else:
                self.close()
                self.load_error = Outcome(
                    "import", False, kind="load", error_type=str(message.get("type", "")),
                    message=f"importing the module failed: {message.get('type')}: {message.get('message')}",
                    where=_where(message.get("where")), output=output.text(),
                )
            return self.load_error
        self.ready = True
        return None

    def call(self, fn, args, oracles=(), oracle: Callable | None = None):
        """Call student function `fn` on `args`; never raises for anything the student did."""
        failed = self.wait_ready()
        if failed is not None:
            return Outcome(fn, False, kind="load", message=failed.message, where=failed.where)
        if fn in self.timed_out:
            return Outcome(fn, False, kind="skipped", message=f"not run: {fn}() timed out in an earlier test")
        self._send({"op": "call", "fn": fn, "args": [wire.encode(a) for a in args], "oracles": list(oracles)})
        output = _Capture(self.limits.output_bytes)
        budget = self.limits.call_seconds
        started = time.monotonic()
        while True:
            message = self._next_message(started + budget, output, fn)
            if message is None:
                return self._lost(fn, output, started + budget)
            op = message.get("op")
            if op == "oracle" and oracle is not None:
                paused = time.monotonic()
                self._send(_answer_oracle(oracle, message))
                budget += time.monotonic() - paused  # reference time is not the student's
                continue
            if op == "result":
                try:
                    value = wire.decode(message.get("value"))
                    after = [None if a is None else wire.decode(a) for a in message.get("args_after", [])]
                except (wire.WireError, ValueError, TypeError) as exc:
                    return Outcome(fn, False, kind="protocol", message=f"{fn}() returned something that could not be read: {exc}", output=output.text())
                return Outcome(fn, True, value=value, output=output.text(message.get("dropped")), seconds=_seconds(message), args_after=after)
            if op == "error":
                return Outcome(
                    fn, False, kind="exception", error_type=str(message.get("type", ""))[:100],
                    message=str(message.get("message", ""))[:500], where=_where(message.get("where")),
                    output=output.text(message.get("dropped")), seconds=_seconds(message),
                )

    # -- plumbing ---------------------------------------------------------
    def _send(self, message):
        data = wire.pack(message)
        try:
            while data:
                data = data[os.write(self.wfd, data):]
        except OSError:
            pass  # a dead worker is noticed when its reply never comes

    def _next_message(self, deadline, output, fn):
        """The next protocol message, or None on timeout or worker death."""
        while not self.pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            readable, _, _ = select.select([self.rfd, self.out_fd], [], [], remaining)
            if self.out_fd in readable:
                output.add(os.read(self.out_fd, 1 << 16))
            if self.rfd in readable:
                chunk = os.read(self.rfd, 1 << 16)
                if not chunk:
                    return None
                try:
                    for message in self.unpacker.feed(chunk):
                        self._route(message)
                except wire.WireError:
                    return None
        return self.pending.pop(0)

    def _route(self, message):
        op = message.get("op")
        if op == "init" and self.init_pid is None and _is_child(message.get("pid"), self.proc.pid):
            self.init_pid = message["pid"]
        elif op == "died":
            self.exit_code = message.get("code")
        elif op not in ("init", "died"):
            self.pending.append(message)

    def _lost(self, fn, output, deadline):
        """The worker went silent: a timeout or a crash. Kill it; the next call restarts it."""
        timed_out = time.monotonic() >= deadline
        code = self.exit_code
        if not timed_out and code is None:
            try:
                code = self.proc.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                pass
        if not timed_out:
            output.add(_read_available(self.out_fd))
        self.close()
        if timed_out:
            self.timed_out.add(fn)
            return Outcome(fn, False, kind="timeout", message=f"{fn}() timed out after {self.limits.call_seconds:g} s", output=output.text())
        return Outcome(fn, False, kind="crash", message=f"{fn}(): the worker {_exit_text(code)}", output=output.text())


class _Capture:
    """Keeps the first `limit` bytes a call printed and counts the rest."""

    def __init__(self, limit):
        self.limit = limit
        self.kept = bytearray()
        self.dropped = 0

    def add(self, chunk):
        room = self.limit - len(self.kept)
        self.kept += chunk[:max(room, 0)]
        self.dropped += max(len(chunk) - max(room, 0), 0)

    def text(self, dropped_in_worker=0):
        text = self.kept.decode("utf-8", "replace")
        cut = self.dropped + (dropped_in_worker if type(dropped_in_worker) is int else 0)
        if cut:
            text += f"\n... ({cut} more characters of output cut)"
        return text


def _read_available(fd):
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


def _answer_oracle(oracle, message):
    try:
        args = [wire.decode(a) for a in message.get("args", [])]
        return {"value": wire.encode(oracle(str(message.get("fn")), args))}
    except Exception as exc:  # the student passed arguments the reference cannot take
        return {"error": f"{type(exc).__name__}: {exc}"[:300]}


def _where(data):
    if type(data) is not list:
        return []
    return [{"line": int(d.get("line", 0)) if type(d.get("line")) is int else 0, "code": str(d.get("code", ""))[:200]} for d in data[:3] if type(d) is dict]


def _seconds(message):
    value = message.get("seconds")
    return float(value) if type(value) in (int, float) else 0.0


def _exit_text(code):
    if code is None:
        return "stopped unexpectedly"
    if code < 0:
        return SIGNAL_TEXT.get(-code, f"was killed by signal {-code}")
    return f"exited with status {code} (sys.exit/os._exit in student code?)"


def _is_child(pid, parent):
    if type(pid) is not int or pid <= 1:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[1]) == parent
    except (OSError, IndexError, ValueError):
        return False


def _kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def _worker_env(home):
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env
