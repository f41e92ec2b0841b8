# The program that runs student code, inside the sandbox.
#
# It is never imported by the grader: the grader runs `python -I -S -c` with the
# texts of wire.py, seccomp.py and this file and a call of main() (or forks it
# from the fork server, see forkserver.py), so `encode`, `decode`, `pack`
# and `Unpacker` below come from wire.py and `install_filter` from seccomp.py.
# Everything here is untrusted once the student's module is loaded: the grader
# believes nothing it says except as plain data to be checked.
import math
import os
import resource
import signal
import sys
import time
import traceback

CAPTURE_LIMIT = 16 * 1024


class _CappedText:
    """sys.stdout/stderr replacement: forwards at most CAPTURE_LIMIT characters per call."""

    encoding, errors = "utf-8", "replace"  # what student code may read of a text stream

    def __init__(self, fd):
        self.fd = fd
        self.budget = CAPTURE_LIMIT
        self.dropped = 0

    def write(self, text):
        text = str(text)
        if self.budget > 0:
            part = text[: self.budget]
            self.budget -= len(part)
            os.write(self.fd, part.encode("utf-8", "replace"))
            self.dropped += len(text) - len(part)
        else:
            self.dropped += len(text)
        return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        pass

    def isatty(self):
        return False

    def fileno(self):
        import io

        raise io.UnsupportedOperation("output is captured: no file descriptor")  # as io.StringIO says


class Channel:
    def __init__(self, rfd, wfd):
        self.rfd, self.wfd = rfd, wfd
        self.unpacker = Unpacker()
        self.pending = []

    def send(self, message):
        data = pack(message)
        while data:
            data = data[os.write(self.wfd, data):]

    def receive(self, op=None, wait=True):
        """The next message (of that op, leaving others queued in order);
        without `wait`, None when none has arrived yet."""
        import select

        while True:
            for i, message in enumerate(self.pending):
                if op is None or message.get("op") == op:
                    return self.pending.pop(i)
            if not wait and not select.select([self.rfd], [], [], 0)[0]:
                return None
            chunk = os.read(self.rfd, 1 << 16)
            if not chunk:
                os._exit(0)
            self.pending.extend(self.unpacker.feed(chunk))


class Clock:
    """The CPU time of one call, split into the student's own and that of the
    reference functions standing in for theirs (never charged to the student).

    An interval timer on the process's CPU time ticks every TICK seconds; each
    tick charges the CPU time since the last to whoever is running then: the
    student, or a stand-in (`depth` > 0). Sampling, rather than reading the
    clock around each stand-in call, costs loop-style code that calls a
    stand-in 120000 times nothing; its error is a tick or so, and limits sit
    far from what real code needs. At a limit the worker tells the grader
    ("over") and carries on; the grader answers with more time (the
    reference needs more for this very call) or kills the worker. Student
    code may disarm all this; the grader then stops the call by the CPU time
    it reads from /proc itself, and the kernel's RLIMIT_CPU backs both.
    """

    TICK = 0.01

    def __init__(self, channel, call_id, own, helpers):
        self.channel, self.call_id = channel, call_id
        self.own_limit, self.helper_limit = float(own), float(helpers)
        self.running = False
        self.depth = 0  # inside stand-ins (the timer's handler only reads it)
        self.trip = False  # inside a round trip to the grader: the pipe is busy
        self.told = False  # the grader was told of a limit and has not answered yet
        self.own = self.helpers = self.last = 0.0
        self.checks_until = None  # while early checks run: the own CPU time at which they are given up

    def start(self):
        self.last = time.process_time()
        self.running = True
        signal.signal(signal.SIGPROF, self._tick)
        _limit_cpu(self.own_limit + self.helper_limit + 2)
        signal.setitimer(signal.ITIMER_PROF, self.TICK, self.TICK)

    def stop(self):
        """Stop counting (if started); returns the student's own CPU seconds."""
        if self.running:
            self.running = False
            signal.setitimer(signal.ITIMER_PROF, 0)
            self.own += time.process_time() - self.last
        return self.own

    def _tick(self, signum, frame):
        if not self.running:
            return
        now = time.process_time()
        if self.depth:
            self.helpers += now - self.last
        else:
            self.own += now - self.last
        self.last = now
        if self.checks_until is not None and self.own >= self.checks_until and not self.depth:
            self.checks_until = None  # once: the handler never raises into the worker's own clean-up
            raise _ChecksTooSlow()
        if self.trip:
            return  # the pipe is in use: tell the grader at the next tick
        if self.told:
            reply = self.channel.receive("extend", wait=False)
            if reply is not None:
                self.told = False
                self.own_limit = float(reply.get("cpu", self.own_limit))
                _limit_cpu(self.own_limit - self.own + self.helper_limit - self.helpers + 2)
        elif self.helpers >= self.helper_limit > 0 or self.own >= self.own_limit:
            self.told = True
            self.channel.send({"op": "over", "id": self.call_id,
                               "why": "helpers" if self.helpers >= self.helper_limit > 0 else "own"})


def _student_lines(exc, path):
    """The lines of the student's file in the traceback, newest last."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == path]
    return [{"line": f.lineno, "code": (f.line or "").strip()[:200]} for f in frames[-3:]]


def _category(exc):
    if isinstance(exc, MemoryError):
        return "memory"
    if isinstance(exc, RecursionError):
        return "recursion"
    if not isinstance(exc, Exception) or type(exc).__name__ == "Exit":  # SystemExit, KeyboardInterrupt, pytest.exit
        return "exit"
    return ""


def _describe(exc, path):
    # str() of a student's exception is student code: it may raise too.
    try:
        text = str(exc)[:500] if not isinstance(exc, SystemExit) else repr(exc.code)[:200]
    except BaseException:  # noqa: BLE001
        text = "(its message could not be read)"
    try:
        where = _student_lines(exc, path)
    except BaseException:  # noqa: BLE001
        where = []
    return {"op": "error", "type": str(type(exc).__name__)[:100], "message": text, "where": where,
            "category": _category(exc)}


def load(path, name):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def make_oracle(channel, clock, name):
    """The reference's `name`, served by the grader: one round trip per call."""

    def oracle(*args):
        clock.depth += 1
        clock.trip = True
        try:
            channel.send({"op": "oracle", "fn": name, "args": [encode(a) for a in args]})
            reply = channel.receive("answer")
            if "error" in reply:
                raise RuntimeError(reply["error"])
            return decode(reply["value"])
        finally:
            clock.trip = False
            clock.depth -= 1

    oracle.__name__ = name
    return oracle


def make_stand_in(clock, function, name):
    """The reference's `function`, run here (its part's reference may be shown
    to students). It behaves as one served by the grader would: it gets copies
    of array arguments, and its errors come out as RuntimeError."""
    import numpy as np

    array = np.ndarray

    def stand_in(*args):
        clock.depth += 1
        try:
            if array in map(type, args):  # copies only when there is an array to copy
                args = [a.copy() if type(a) is array else a for a in args]
            return function(*args)
        except Exception as exc:  # noqa: BLE001 - as the grader reports a served helper's error
            raise RuntimeError(f"{type(exc).__name__}: {exc}"[:300]) from None
        finally:
            clock.depth -= 1

    stand_in.__name__ = name
    return stand_in


def _limit_cpu(seconds):
    """Let this call use `seconds` more CPU time than the process has used so far.

    RLIMIT_CPU counts over the process's life, so the soft limit moves with
    each call; the hard limit (the worker's lifetime budget) stays.
    """
    try:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        soft = math.ceil(usage.ru_utime + usage.ru_stime + float(seconds)) + 1
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    except (TypeError, ValueError, OSError):
        pass  # student code may have lowered the hard limit itself


def _stand_ins(request, clock):
    """name -> stand-in: the reference functions sent as source, run here, and
    the names served by round trips to the grader; plus the namespace to clear."""
    found, namespace = {}, {}
    shown = request.get("shown")
    if shown:
        # Defined afresh for this call only: nothing of the reference outlives it.
        namespace = {"__name__": "reference", "__builtins__": __builtins__}
        exec(compile(shown["source"], "<reference>", "exec"), namespace)
        for name in shown["names"]:
            found[name] = make_stand_in(clock, namespace[name], name)
    for name in request.get("oracles", []):
        found[name] = make_oracle(clock.channel, clock, name)
    return found, namespace


# CPU seconds an early call's checks may take together: a few numbers each, which the reference answers in
# microseconds and loop-style code in milliseconds. A function that loops on one is given up then, not at the
# call's limit: its own tests will time out on it (one limit's wait, not two).
CHECK_SECONDS = 0.2


class _ChecksTooSlow(BaseException):
    """Raised into student code by the clock when the early checks run past CHECK_SECONDS."""


def _disagrees(module, checks, np, clock):
    """Whether a function an early call relies on answers one of its checks
    otherwise than the reference did, not at all, or not within CHECK_SECONDS.
    Only a hint to save time: the grader's tests judge the function, and the
    grader uses this call's outcome only when they find every function it
    relies on right."""
    if not checks:
        return False
    clock.checks_until = clock.own + CHECK_SECONDS
    try:
        for check in checks:
            try:
                value = getattr(module, check["fn"])(*[decode(a) for a in check["args"]])
                if not _agree(value, decode(check["expected"]), np):
                    return True
            except BaseException:  # noqa: BLE001 - an exit or an error here is an answer unlike the reference's
                return True
        return False
    except _ChecksTooSlow:  # raised between two checks
        return True
    finally:
        clock.checks_until = None


def _agree(value, expected, np):
    if isinstance(expected, tuple):
        return (isinstance(value, (tuple, list)) and len(value) == len(expected)
                and all(_agree(v, e, np) for v, e in zip(value, expected)))
    if isinstance(value, (list, tuple)) and isinstance(expected, np.ndarray) and expected.ndim:
        return False  # judged by its numbers, but later parts get the reference's in its place
    value, expected = np.asarray(value, dtype=float), np.asarray(expected, dtype=float)
    return value.shape == expected.shape and bool(np.allclose(value, expected, rtol=1e-6, atol=1e-9, equal_nan=True))


def serve(channel, module, path, streams):
    import numpy as np

    while True:
        request = channel.receive("call")
        for s in streams:
            s.budget, s.dropped = CAPTURE_LIMIT, 0
        fn = getattr(module, request["fn"], None)
        clock = Clock(channel, request.get("id"), request.get("cpu", 1.0), request.get("helper_cpu", 0.0))
        saved, namespace = {}, {}
        start = time.perf_counter()
        try:
            stand_ins, namespace = _stand_ins(request, clock)
            saved = {name: module.__dict__.get(name, _MISSING) for name in stand_ins}
            module.__dict__.update(stand_ins)
            args = [decode(a) for a in request["args"]]
            if not callable(fn):
                raise AttributeError(f"the module defines no function {request['fn']}()")
            clock.start()
            try:
                disagrees = _disagrees(module, request.get("checks"), np, clock)
            except _ChecksTooSlow:  # raised as the checks ended: they took too long all the same
                disagrees = True
            if disagrees:
                own = clock.stop()
                reply = {"op": "unrun"}
            else:
                if request.get("checks"):
                    # What goes wrong from here on is the call's own, not its checks'.
                    clock.trip = True  # the timer must not write to the pipe meanwhile
                    channel.send({"op": "checked", "id": request.get("id")})
                    clock.trip = False
                value = fn(*args)
                own = clock.stop()
                reply = {"op": "result", "value": encode(value)}
                reply["args_after"] = [encode(a) if type(a) is np.ndarray else None for a in args]
        except BaseException as exc:  # noqa: BLE001 - every exit route of student code is a result
            own = clock.stop()
            reply = _describe(exc, path)
        reply["id"] = request.get("id")
        reply["seconds"] = time.perf_counter() - start
        reply["cpu"] = own
        reply["dropped"] = sum(s.dropped for s in streams)
        for name, value in saved.items():  # the student's own functions back, as they were
            if value is _MISSING:
                module.__dict__.pop(name, None)
            else:
                module.__dict__[name] = value
        namespace.clear()
        channel.pending = [m for m in channel.pending if m.get("op") != "extend"]  # answers that came too late
        channel.send(reply)


_MISSING = object()


def main():
    rfd, wfd = int(sys.argv[1]), int(sys.argv[2])
    path, name, pidns, seccomp, uid = sys.argv[3], sys.argv[4], sys.argv[5] == "1", sys.argv[6], sys.argv[7]
    if pidns:
        # The first child of a process that unshared its PID namespace is that
        # namespace's init: when it dies, the kernel kills everything inside.
        child = os.fork()
        if child:
            os.write(wfd, pack({"op": "init", "pid": child}))
            _, status = os.waitpid(child, 0)
            os.write(wfd, pack({"op": "died", "code": os.waitstatus_to_exitcode(status)}))
            os._exit(0)
        # Die with the worker: a grader killed with SIGKILL (its worker then
        # killed by its own parent-death signal) must not leave student code
        # running here. A fork clears the signal, so set it again.
        import ctypes

        ctypes.CDLL(None).prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG, SIGKILL
    if uid != "-":
        # Started as root (the interpreter may be where only root can reach it): now a throwaway uid, for good.
        become_keeping_imports(int(uid))  # noqa: F821 - from identity.py
        import ctypes

        ctypes.CDLL(None).prctl(1, 9, 0, 0, 0)  # a new uid clears the parent-death signal: set it again
    if seccomp != "-":
        try:
            install_filter(processes=seccomp == "processes")  # noqa: F821 - from seccomp.py
        except OSError:
            pass  # a kernel without seccomp: the level without it
    import numpy  # noqa: F401 - warm import before timing student code

    # Support modules the grader wrote beside the student's module are importable.
    sys.path.insert(0, os.path.dirname(path))

    streams = [_CappedText(1), _CappedText(2)]
    sys.stdout, sys.stderr = streams
    channel = Channel(rfd, wfd)
    try:
        module = load(path, name)
    except BaseException as exc:  # noqa: BLE001
        message = _describe(exc, path)
        if isinstance(exc, SyntaxError):
            message["where"] = [{"line": exc.lineno or 0, "code": (exc.text or "").strip()[:200]}]
        message["op"] = "load_error"
        channel.send(message)
        module = None
    else:
        channel.send({"op": "ready"})
    serve(channel, module, path, streams)
