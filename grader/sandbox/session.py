"""The grader's side of a worker: start it, call student functions, stop it.

Student code only ever runs in the worker process. A call sends plain-data
arguments, waits with a wall-clock deadline, drains (and caps) whatever the
student prints, answers requests for the reference version of other functions
("oracles"), and decodes the reply into fresh values built here. Every string
that comes from the worker is cleaned before it reaches a report.
"""
import dataclasses
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from types import SimpleNamespace

from . import WORKER, isolation, script, wire, zygote
from .helpers import HelperGuard
from .isolation import Limits
from .outcome import Outcome, clean, exit_text, one_line, where


class Sandbox:
    """One worker process holding one student module; restarted after a kill."""

    def __init__(self, source, module_name, limits=None, hide=(), level=None, files=None):
        self.source = source
        self.files = dict(files or {})  # support modules (name -> text) the student's module may import
        self.module_name = module_name
        self.limits = limits or Limits()
        self.level = level or isolation.probe()
        self.hide = list(hide)
        self.proc = None
        self.load_error = None
        self.timed_out = set()
        self.calls = 0
        self.early = {}  # ticket -> fn: early calls sent whose replies are not read yet
        self.early_done = {}  # ticket -> Outcome
        self.restarted_after = 0

    # -- life cycle -------------------------------------------------------
    def start(self):
        """Spawn the worker; returns at once (the import is awaited by the first call)."""
        if self.proc is not None:
            return
        isolation.before_worker()  # this process: unreadable to workers, and the reaper of their orphans
        self.restarted_after = self.calls  # calls sent before now went to a worker that is gone
        module_file = f"{self.module_name}.py"
        forks = zygote.shared()
        if forks is not None:
            try:
                return self._fork(forks, module_file)
            except OSError:
                zygote.disable()  # a dead fork server: spawn from now on
        plan = isolation.prepare(self.level, self.limits, {**self.files, module_file: self.source}, self.hide)
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        pidns = "1" if self.level in isolation.NAMESPACE_LEVELS else "0"
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-c", script(*WORKER), str(to_worker_r), str(from_worker_w),
                 os.path.join(plan.workdir, module_file), self.module_name, pidns, "nofork" if plan.no_fork else "-"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                pass_fds=(to_worker_r, from_worker_w),
                cwd=plan.host_dir or "/",
                env=isolation.worker_env(plan.workdir),
                preexec_fn=plan.preexec,
                start_new_session=True,
            )
        except BaseException:
            for fd in (to_worker_r, to_worker_w, from_worker_r, from_worker_w):
                os.close(fd)
            if plan.host_dir:
                shutil.rmtree(plan.host_dir, ignore_errors=True)
            raise
        os.close(to_worker_r)
        os.close(from_worker_w)
        self._started(plan, to_worker_w, from_worker_r)

    def _fork(self, forks, module_file):
        """Start the worker as a fork of the warm fork server; it isolates itself the same way."""
        uid = isolation.sandbox_uid() if self.level in isolation.UID_LEVELS else None
        host_dir = None if self.level in isolation.NAMESPACE_LEVELS else tempfile.mkdtemp(prefix="grader-")
        if host_dir and uid is not None:
            os.chown(host_dir, uid, uid)
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        out_r, out_w = os.pipe()
        try:
            pid = forks.spawn((to_worker_r, from_worker_w, out_w))
        except BaseException:
            for fd in (to_worker_r, to_worker_w, from_worker_r, from_worker_w, out_r, out_w):
                os.close(fd)
            if host_dir:
                shutil.rmtree(host_dir, ignore_errors=True)
            raise
        for fd in (to_worker_r, from_worker_w, out_w):
            os.close(fd)
        self.proc = zygote.Forked(pid, out_r)
        self._started(SimpleNamespace(uid=uid, host_dir=host_dir), to_worker_w, from_worker_r)
        self._send({
            "level": self.level, "limits": dataclasses.asdict(self.limits),
            "files": {**self.files, module_file: self.source},
            "hide": list(self.hide), "host_dir": host_dir, "uid": uid, "module_file": module_file,
            "module_name": self.module_name, "env": isolation.worker_env(host_dir or isolation.WORKDIR),
        })

    def _started(self, plan, wfd, rfd):
        self.plan = plan
        self.wfd, self.rfd = wfd, rfd
        self.out_fd = self.proc.stdout.fileno()
        self.out_open = True
        self.unpacker = wire.Unpacker()
        self.pending = []
        self.init_pid = None
        self.exit_code = None
        self.broken = ""
        self.ready = False

    def close(self):
        """Kill the worker and everything it started."""
        if self.proc is None:
            return
        if self.init_pid:
            # The PID namespace's init: when it dies the kernel kills everything inside.
            _kill(self.init_pid)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        if self.plan.uid is not None and not self.init_pid:
            # Without a PID namespace to take them down with its init, find the
            # uid's processes one by one (a fork of this large process: not free).
            isolation.kill_uid(self.plan.uid)
        self.proc.wait()
        isolation.after_worker(self.proc.pid, self.plan.uid)  # reap the orphans it left
        for fd in (self.wfd, self.rfd):
            os.close(fd)
        self.proc.stdout.close()
        self.proc = None
        if self.plan.host_dir:
            shutil.rmtree(self.plan.host_dir, ignore_errors=True)

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
        message = self._next_message(deadline, output)
        if message is None or message.get("op") != "ready":
            timed_out = message is None and time.monotonic() >= deadline
            if message is None and not timed_out:
                output.add(_read_available(self.out_fd))
            self.close()
            if message is None:
                reason = ("importing the module timed out" if timed_out
                          else self.broken or "the module stopped the worker while being imported")
                self.load_error = Outcome("import", False, kind="load", message=reason, output=output.text())
            else:
                error_type = one_line(message.get("type", ""), 100)
                self.load_error = Outcome(
                    "import", False, kind="load", error_type=error_type,
                    message=f"importing the module failed: {error_type}: {one_line(message.get('message', ''), 500)}",
                    where=where(message.get("where")), output=output.text(),
                )
            return self.load_error
        self.ready = True
        return None

    def call(self, fn, args, oracles=(), oracle: Callable | None = None):
        """Call student function `fn` on `args`; never raises for anything the student did.

        `oracles` names the helpers the call may ask the trusted process for;
        `oracle(name, args)` computes one. Their round trips do not count
        against the call's time, up to limits.helper_seconds more.
        """
        failed = self.wait_ready()
        if failed is None and self.early:
            self._finish_early()  # replies come in order: the early calls' come first
            failed = self.wait_ready()  # and one of them may have cost the worker its life
        if failed is not None:
            return Outcome(fn, False, kind="load", message=failed.message, where=failed.where)
        if fn in self.timed_out:
            return Outcome(fn, False, kind="skipped", message=f"not run: {fn}() timed out in an earlier test")
        guard = HelperGuard(oracle, oracles, self.limits.helper_seconds, self.limits.memory_mb)
        try:
            outcome = self._await_reply(fn, self._send_call(fn, args, guard.allowed), guard)
        finally:
            guard.release()
        # A call slowed by the helpers' round trips may have needed only fewer
        # of them: only a timeout of the student's code alone stops later calls.
        if outcome.kind == "timeout" and not outcome.helpers:
            self.timed_out.add(fn)
        return outcome

    def call_early(self, fn, args):
        """Send `fn(*args)` at once, without helpers: the worker runs it as soon
        as the module is loaded, while this process does other work (collects
        the tests). Returns a ticket for `take_early`."""
        self.start()
        ticket = self._send_call(fn, args, ())
        self.early[ticket] = fn
        return ticket

    def _send_call(self, fn, args, oracles):
        """Send one call request; returns its id."""
        self.calls += 1
        self._send({"op": "call", "id": self.calls, "fn": fn, "args": [wire.encode(a) for a in args],
                    "oracles": sorted(oracles), "cpu": self.limits.call_seconds})
        return self.calls

    def take_early(self, ticket):
        """The outcome of an early call, waiting for it if need be; None when it
        never ran (the module did not load, or an earlier early call killed the
        worker): then make the call as usual."""
        if self.wait_ready() is not None:
            return None
        self._finish_early()
        outcome = self.early_done.pop(ticket, None)
        if outcome is not None and outcome.kind == "timeout":
            self.timed_out.add(outcome.fn)  # the call that uses this outcome is the one that timed out
        return outcome

    def _finish_early(self):
        """Read the replies of the early calls still out."""
        for ticket, fn in sorted(self.early.items()):
            del self.early[ticket]
            if self.proc is None or ticket <= self.restarted_after:
                continue  # sent to a worker that is gone: never ran
            # A timeout here is no verdict yet (see take_early): the test making
            # this call may ask for it with reference helpers standing in.
            self.early_done[ticket] = self._await_reply(fn, ticket, HelperGuard(None, (), 0, self.limits.memory_mb))

    def _await_reply(self, fn, call_id, guard):
        output = _Capture(self.limits.output_bytes)
        deadline = time.monotonic() + self.limits.call_seconds
        while True:
            message = self._next_message(deadline, output)
            if message is None:
                return self._lost(fn, output, deadline, helpers=guard.served)
            op = message.get("op")
            if op == "oracle":
                paused = time.monotonic()
                reply = guard.answer(message)
                if reply is None:  # the helpers ran out of time: the student asked too much of them
                    return self._lost(fn, output, deadline, oracle_timeout=True, helpers=guard.served)
                self._send(reply)
                deadline += time.monotonic() - paused
                continue
            if op in ("result", "error") and message.get("id") != call_id:
                continue  # a stray or forged reply: never another call's answer
            if op == "result":
                try:
                    value = wire.decode(message.get("value"))
                    after = [None if a is None else wire.decode(a) for a in _list(message.get("args_after"))]
                except (wire.WireError, ValueError, TypeError) as exc:
                    return Outcome(fn, False, kind="protocol",
                                   message=f"{fn}() returned something that could not be read: {clean(exc, 200)}",
                                   output=output.text())
                return Outcome(fn, True, value=value, output=output.text(message.get("dropped")),
                               seconds=_seconds(message), args_after=after)
            if op == "error":
                return Outcome(
                    fn, False, kind="exception", error_type=one_line(message.get("type", ""), 100),
                    message=one_line(message.get("message", ""), 500), where=where(message.get("where")),
                    output=output.text(message.get("dropped")), seconds=_seconds(message),
                    category=(message.get("category") if message.get("category") in ("memory", "recursion", "exit")
                              else ""),
                )
            # Anything else is noise a student wrote into the pipe; it earns nothing.

    # -- plumbing ---------------------------------------------------------
    def _send(self, message):
        data = wire.pack(message)
        try:
            while data:
                data = data[os.write(self.wfd, data):]
        except OSError:
            pass  # a dead worker is noticed when its reply never comes

    def _next_message(self, deadline, output):
        """The next protocol message, or None on timeout, worker death or a broken protocol."""
        while not self.pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.broken:
                return None
            watched = [self.rfd, self.out_fd] if self.out_open else [self.rfd]
            readable, _, _ = select.select(watched, [], [], remaining)
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
        if op == "init" and self.init_pid is None and _is_child(message.get("pid"), self.proc.pid):
            self.init_pid = message["pid"]
        elif op == "died":
            code = message.get("code")
            self.exit_code = code if type(code) is int else None
        elif op != "init":
            self.pending.append(message)

    def _lost(self, fn, output, deadline, oracle_timeout=False, helpers=0):
        """The worker went silent: a timeout or a crash. Kill it; a fresh one starts at once.
        `helpers`: the answers the reference helpers gave the call meanwhile."""
        timed_out = oracle_timeout or time.monotonic() >= deadline
        code = self.exit_code
        if not timed_out and code is None and not self.broken:
            try:
                code = self.proc.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                pass
        if not timed_out:
            output.add(_read_available(self.out_fd))
        broken = self.broken
        self.close()
        self.start()  # the next call finds the module imported already
        seconds = f"{self.limits.call_seconds:g}"
        if timed_out or (code is not None and -code == signal.SIGXCPU):
            why = (" (with the reference helpers it called)" if oracle_timeout
                   else " of CPU time" if not timed_out else "")
            return Outcome(fn, False, kind="timeout", message=f"{fn}() timed out after {seconds} s{why}",
                           output=output.text(), helpers=helpers)
        if broken:
            return Outcome(fn, False, kind="protocol", message=f"{fn}(): {broken}", output=output.text())
        return Outcome(fn, False, kind="crash", message=f"{fn}(): the worker {exit_text(code)}", output=output.text())


class _Capture:
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
        cut = self.dropped + (dropped_in_worker if type(dropped_in_worker) is int and dropped_in_worker > 0 else 0)
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



# -- small helpers -----------------------------------------------------------

def _list(value):
    return value if type(value) is list else []


def _seconds(message):
    value = message.get("seconds")
    return float(value) if type(value) in (int, float) and 0 <= value < 1e6 else 0.0


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
