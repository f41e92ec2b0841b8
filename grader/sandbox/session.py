"""The grader's side of a worker: start it, call student functions, stop it.

Student code only ever runs in the worker process. A call sends plain-data
arguments, counts the student's own CPU time against limits fitted to the
work, drains (and caps) whatever the student prints, answers requests for the
reference version of other functions ("oracles"), and decodes the reply into
fresh values built here. Every string that comes from the worker is cleaned
before it reaches a report.
"""
import dataclasses
import math
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from types import SimpleNamespace

from . import WORKER, cleanup, command, isolation, wire, zygote
from .helpers import HelperGuard
from .isolation import Limits
from .outcome import Outcome, clean, exit_text, one_line, where
from .transport import Capture, Link, Watch, wall_net

# Seconds to wait for a killed worker to be gone; one the kernel holds longer is reaped later, as an orphan.
CLOSE_SECONDS = 5.0


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
        self.early = {}  # ticket -> _Pending: early calls sent whose replies are not read yet
        self.early_done = {}  # ticket -> Outcome
        self.unrun = []  # functions whose early call was left unrun: its checks found a function it relies on wrong
        self.restarted_after = 0
        self.stalled = ""  # why no call is made any more: the worker stopped reading the grader's requests

    @classmethod
    def for_exercise(cls, exercise, source, hide=()):
        """The sandbox of one submission (`source`, the module's text) to `exercise`.

        Every exercise's solutions are hidden from it, not only this one's,
        and so is every path in `hide`.
        """
        solutions = [exercise.solution_folder.parent] if exercise.solution_folder else []
        return cls(source, exercise.module, exercise.limits, hide=[str(p) for p in (*solutions, *hide)],
                   files=exercise.support_files())

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
                [*command(*WORKER), str(to_worker_r), str(from_worker_w),
                 os.path.join(plan.workdir, module_file), self.module_name, pidns, *plan.worker_flags()],
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
                cleanup.remove_tree(plan.host_dir)
            raise
        os.close(to_worker_r)
        os.close(from_worker_w)
        self._started(plan, to_worker_w, from_worker_r)

    def _fork(self, forks, module_file):
        """Start the worker as a fork of the warm fork server; it isolates itself the same way."""
        uid = isolation.sandbox_uid() if isolation.has_uid(self.level) else None
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
                cleanup.remove_tree(host_dir)
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
        self.link = Link(wfd, rfd, self.proc.stdout.fileno(), self.proc.pid)
        self.ready = False

    def close(self):
        """Kill the worker and everything it started, and remove all it left; never raises
        for anything the student did, and waits for nothing without a deadline."""
        if self.proc is None:
            return
        proc, plan, link = self.proc, self.plan, self.link
        self.proc = None
        try:
            if link.init_pid:
                # The PID namespace's init: when it dies the kernel kills everything inside.
                _kill(link.init_pid)
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            if plan.uid is not None and not link.init_pid:
                # Without a PID and an IPC namespace to take them away: whatever still runs as the
                # sandbox's uid (what left the session), and the IPC objects and keys the uid made
                # where no seccomp filter refused them (a fork of this large process: not free).
                cleanup.clear_uid(plan.uid)
            try:
                proc.wait(timeout=CLOSE_SECONDS)
            except subprocess.TimeoutExpired:
                pass
            isolation.after_worker(proc.pid, plan.uid)  # reap the orphans it left
        finally:
            link.close()
            proc.stdout.close()
            if plan.host_dir:
                cleanup.remove_tree(plan.host_dir)

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
        seconds = self.limits.import_seconds
        watch = Watch(self._session(), seconds + 0.5, time.monotonic() + self._wall_net(seconds))
        output = Capture(self.limits.output_bytes)
        message = self.link.next_message(watch, output)
        if message is None or message.get("op") != "ready":
            timed_out = message is None and watch.stopped
            if message is None and not timed_out:
                output.add(self.link.read_output())
            broken = self.link.broken
            self.close()
            if message is None:
                reason = ("importing the module timed out" if timed_out
                          else broken or "the module stopped the worker while being imported")
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

    def call(self, fn, args, oracles=(), oracle: Callable | None = None, shown=None,
             reference_seconds: Callable | None = None):
        """Call student function `fn` on `args`; never raises for anything the student did.

        Stand-ins for other functions of the module: `oracles` names those
        served by the trusted process, `oracle(name, args)` computing one;
        `shown` ({"source", "names"}) holds reference functions whose source
        may be shown, to run inside the worker. `reference_seconds()` gives the
        CPU time the reference needs for this very call (None: unknown), asked
        only when the call outgrows `limits.call_seconds`. See `_await_reply`
        for how time is counted.
        """
        if self.stalled:
            return Outcome(fn, False, kind="skipped", message=f"not run: {self.stalled}")
        failed = self.wait_ready()
        if failed is None and self.early:
            self._finish_early()  # replies come in order: the early calls' come first
            failed = self.wait_ready()  # and one of them may have cost the worker its life
        if failed is not None:
            return Outcome(fn, False, kind="load", message=failed.message, where=failed.where)
        if self.stalled:
            return Outcome(fn, False, kind="skipped", message=f"not run: {self.stalled}")
        if fn in self.timed_out:
            return Outcome(fn, False, kind="skipped", message=f"not run: {fn}() timed out in an earlier test")
        guard = HelperGuard(oracle, oracles, self.limits.helper_seconds, self.limits.memory_mb)
        helpers = bool(guard.allowed or (shown and shown.get("names")))
        try:
            pending = self._send_call(fn, args, guard.allowed, shown, helpers, reference_seconds)
            outcome = self._await_reply(pending, guard)
        finally:
            guard.release()
        if outcome.kind == "timeout":
            self.timed_out.add(fn)
        return outcome

    def call_early(self, fn, args, reference_seconds: Callable | None = None, checks=()):
        """Send `fn(*args)` at once, without helpers: the worker runs it as soon
        as the module is loaded, while this process does other work (collects
        the tests). Returns a ticket for `take_early`.

        `checks`, (function, args, expected) triples, are calls the worker
        makes first: should any answer differ from `expected`, or not come
        within the worker's CHECK_SECONDS of CPU time, the call is left unrun. Either way the checks
        decide no verdict: the call is then made as usual when a test needs it."""
        if self.stalled:
            return 0  # never sent: take_early answers None
        self.start()
        pending = self._send_call(fn, args, (), None, False, reference_seconds, checks)
        pending.early = True
        pending.checked = not checks
        self.early[pending.call_id] = pending
        return pending.call_id

    def _send_call(self, fn, args, oracles, shown, helpers, reference_seconds, checks=()):
        """Send one call request; returns what waiting for its reply needs to know."""
        self.calls += 1
        pending = _Pending(fn, self.calls, self.limits.call_seconds, self.limits.helper_seconds if helpers else 0.0,
                           reference_seconds)
        message = {"op": "call", "id": self.calls, "fn": fn, "args": [wire.encode(a) for a in args],
                   "oracles": sorted(oracles), "cpu": pending.own, "helper_cpu": pending.helpers}
        if shown and shown.get("names"):
            message["shown"] = shown
        if checks:
            message["checks"] = [{"fn": name, "args": [wire.encode(a) for a in check_args],
                                  "expected": wire.encode(expected)} for name, check_args, expected in checks]
        self._send(message)
        return pending

    def take_early(self, ticket):
        """The outcome of an early call, waiting for it if need be; None when it
        never ran (the module did not load, or an earlier early call killed the
        worker): then make the call as usual."""
        if self.stalled or self.wait_ready() is not None:
            return None
        self._finish_early()
        outcome = self.early_done.pop(ticket, None)
        if outcome is not None and outcome.kind == "unrun":
            return None  # a check found a function it relies on wrong
        if outcome is not None and outcome.kind == "timeout":
            self.timed_out.add(outcome.fn)  # the call that uses this outcome is the one that timed out
        return outcome

    def _finish_early(self):
        """Read the replies of the early calls still out."""
        for ticket, pending in sorted(self.early.items()):
            del self.early[ticket]
            if self.proc is None or ticket <= self.restarted_after:
                continue  # sent to a worker that is gone: never ran
            # A timeout here is no verdict yet (see take_early): the test making
            # this call may ask for it with reference helpers standing in.
            outcome = self._await_reply(pending, HelperGuard(None, (), 0, self.limits.memory_mb))
            if outcome.kind == "unrun":
                self.unrun.append(outcome.fn)
            self.early_done[ticket] = outcome

    def _await_reply(self, pending, guard):
        """The reply to one call, counting its time as the student's own CPU time.

        The worker counts the call's CPU time, less what the reference stand-ins
        took (they have `helper_seconds` of their own), and says so when it
        reaches a limit ("over"): the limit grows once, to `reference_multiple`
        times what the reference needs for the same call when that is more
        than `call_seconds`; otherwise the call has timed out. Time spent
        waiting for the grader costs the worker no CPU. Should student code disarm the
        worker's count, this process reads the worker's CPU time from the
        kernel and stops it a little over its limits; a call that waits rather
        than computes is stopped after `wall_net` seconds of wall-clock time.
        None of these depends on how busy the machine is, bar the last.
        """
        fn = pending.fn
        output = Capture(self.limits.output_bytes)
        watch = Watch(self._session(), pending.own + pending.helpers + 0.5,
                      time.monotonic() + self._wall_net(pending.own + pending.helpers))
        while True:
            message = self.link.next_message(watch, output)
            if message is None:
                return self._lost(pending, output, "cpu" if watch.stopped == "cpu" else
                                  "wall" if watch.stopped else "")
            op = message.get("op")
            if op == "oracle":
                paused = time.monotonic()
                reply = guard.answer(message)
                watch.pause(time.monotonic() - paused)
                if reply is None:  # the helpers used up their time: the student asked too much of them
                    return self._lost(pending, output, "helpers")
                self._send({"op": "answer", **reply})
                continue
            if op == "checked" and message.get("id") == pending.call_id:
                pending.checked = True  # from here on the time is the call's own
                continue
            if op == "over" and message.get("id") == pending.call_id:
                if message.get("why") == "helpers" or not self._extend(pending, watch):
                    return self._lost(pending, output, "helpers" if message.get("why") == "helpers" else "cpu")
                continue
            if op in ("result", "error", "unrun") and message.get("id") != pending.call_id:
                continue  # a stray or forged reply: never another call's answer
            if op == "unrun" and pending.early:
                return Outcome(fn, False, kind="unrun", output=output.text(message.get("dropped")),
                               seconds=_seconds(message))
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

    def _extend(self, pending, watch):
        """The call reached its own CPU limit: give it what the reference needs
        for the same call times the multiple, if that is more (once). False: timed out."""
        if pending.extended or pending.reference_seconds is None or not pending.checked:
            return False  # (the checks alone get call_seconds)
        pending.extended = True
        paused = time.monotonic()
        needed = pending.reference_seconds()
        watch.pause(time.monotonic() - paused)
        if needed is None:
            return False
        limit = max(self.limits.call_seconds, math.ceil(2 * self.limits.reference_multiple * needed) / 2)
        if limit <= pending.own:
            return False
        watch.grow(limit - pending.own)
        pending.own = limit
        self._send({"op": "extend", "id": pending.call_id, "cpu": limit})
        return True

    def _wall_net(self, cpu_seconds):
        """When a wait of this sandbox is given up, CPU time or not (see transport.wall_net)."""
        return wall_net(cpu_seconds, self.limits.wait_seconds)

    def _session(self):
        """The worker's session: it and every process student code started (unless one left it)."""
        return self.proc.pid if self.proc is not None else None

    def _send(self, message):
        self.link.send(message)

    def _lost(self, pending, output, why):
        """The call did not return: `why` is "cpu" or "wall" (its limits), "helpers"
        (the stand-ins' limit), or "" (the worker died or broke the protocol).
        Kill the worker; a fresh one starts at once."""
        fn = pending.fn
        code = self.link.exit_code
        if not why and code is None and not self.link.broken:
            try:
                code = self.proc.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                pass
        if not why:
            output.add(self.link.read_output())
        broken = self.link.broken
        if why == "wall" and self.link.stalled:
            # It stopped reading what the grader sends: a fresh worker of the same module would too.
            self.stalled = (f"the worker stopped reading the grader's requests (in {fn}(), for "
                            f"{self._wall_net(pending.own + pending.helpers):g} s): the rest of this submission's "
                            "checks were not run")
        self.close()
        if self.stalled:
            return Outcome(fn, False, kind="crash", message=f"{fn}(): {self.stalled}", output=output.text())
        self.start()  # the next call finds the module imported already
        if not pending.checked:  # stopped in the early checks: the call itself never ran
            return Outcome(fn, False, kind="unrun", output=output.text())
        if why == "helpers":
            message = (f"{fn}() timed out: the reference functions standing in for yours (judged wrong in their "
                       f"own parts) worked over {self.limits.helper_seconds:g} s for this call")
        elif why == "wall":
            message = (f"{fn}() timed out: no answer after {self._wall_net(pending.own + pending.helpers):g} s "
                       "(it waited rather than computed)")
        elif why == "cpu" or (code is not None and -code == signal.SIGXCPU):
            message = f"{fn}() timed out after {pending.own:g} s"
        elif broken:
            return Outcome(fn, False, kind="protocol", message=f"{fn}(): {broken}", output=output.text())
        else:
            return Outcome(fn, False, kind="crash", message=f"{fn}(): the worker {exit_text(code)}",
                           output=output.text())
        return Outcome(fn, False, kind="timeout", message=message, output=output.text())


@dataclasses.dataclass
class _Pending:
    """A call sent to the worker, as waiting for its reply needs it."""

    fn: str
    call_id: int
    own: float  # CPU seconds the student's own code may take (grows once, see Sandbox._extend)
    helpers: float  # CPU seconds the stand-ins may take on top (0: none stand in)
    reference_seconds: Callable | None
    extended: bool = False
    early: bool = False  # sent by call_early: the worker may leave it unrun (its checks failed)
    checked: bool = True  # False until the worker says the early checks passed


# -- small helpers -----------------------------------------------------------

def _list(value):
    return value if type(value) is list else []


def _seconds(message):
    value = message.get("seconds")
    return float(value) if type(value) in (int, float) and 0 <= value < 1e6 else 0.0


def _kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
