# The program that runs student code, inside the sandbox.
#
# It is never imported by the grader: the grader runs `python -I -c` with the
# texts of wire.py, seccomp.py and this file and a call of main() (or forks it
# from the fork server, see forkserver.py), so `encode`, `decode`, `pack`
# and `Unpacker` below come from wire.py and `install_filter` from seccomp.py.
# Everything here is untrusted once the student's module is loaded: the grader
# believes nothing it says except as plain data to be checked.
import math
import os
import resource
import sys
import time
import traceback

CAPTURE_LIMIT = 16 * 1024


class _CappedText:
    """sys.stdout/stderr replacement: forwards at most CAPTURE_LIMIT characters per call."""

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

    def flush(self):
        pass

    def isatty(self):
        return False


class Channel:
    def __init__(self, rfd, wfd):
        self.rfd, self.wfd = rfd, wfd
        self.unpacker = Unpacker()
        self.pending = []

    def send(self, message):
        data = pack(message)
        while data:
            data = data[os.write(self.wfd, data):]

    def receive(self):
        while not self.pending:
            chunk = os.read(self.rfd, 1 << 16)
            if not chunk:
                os._exit(0)
            self.pending.extend(self.unpacker.feed(chunk))
        return self.pending.pop(0)


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


def make_oracle(channel, name):
    def oracle(*args):
        channel.send({"op": "oracle", "fn": name, "args": [encode(a) for a in args]})
        reply = channel.receive()
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return decode(reply["value"])

    oracle.__name__ = name
    return oracle


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


def serve(channel, module, path, streams):
    import numpy as np

    while True:
        request = channel.receive()
        if request.get("op") != "call":
            continue
        for s in streams:
            s.budget, s.dropped = CAPTURE_LIMIT, 0
        _limit_cpu(request.get("cpu"))
        fn = getattr(module, request["fn"], None)
        saved = {}
        for name in request.get("oracles", []):
            saved[name] = module.__dict__.get(name)
            module.__dict__[name] = make_oracle(channel, name)
        args = [decode(a) for a in request["args"]]
        start = time.perf_counter()
        try:
            if not callable(fn):
                raise AttributeError(f"the module defines no function {request['fn']}()")
            value = fn(*args)
            reply = {"op": "result", "value": encode(value)}
            reply["args_after"] = [encode(a) if type(a) is np.ndarray else None for a in args]
        except BaseException as exc:  # noqa: BLE001 - every exit route of student code is a result
            reply = _describe(exc, path)
        reply["id"] = request.get("id")
        reply["seconds"] = time.perf_counter() - start
        reply["dropped"] = sum(s.dropped for s in streams)
        for name, original in saved.items():
            module.__dict__[name] = original
        channel.send(reply)


def main():
    rfd, wfd = int(sys.argv[1]), int(sys.argv[2])
    path, name, pidns, no_fork = sys.argv[3], sys.argv[4], sys.argv[5] == "1", sys.argv[6] == "nofork"
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
    if no_fork:
        try:
            install_filter()  # noqa: F821 - from seccomp.py
        except OSError:
            pass  # a kernel without seccomp: the process level without it
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
