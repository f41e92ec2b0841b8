"""Serving the reference versions of earlier parts' functions to a student's
call, from the trusted process ("no double jeopardy"), within bounds. The
time bound counts this process's CPU time, so it holds whatever the load."""
import os
import resource
import signal
import threading
import time

from . import wire
from .outcome import clean

# Arguments a student may send to a reference helper: plenty for any lab's data.
ORACLE_MAX_ITEMS = 1_000_000


class _OutOfTime(BaseException):
    """Raised by the alarm inside a reference helper that took too long."""


class HelperGuard:
    """Serves the reference helpers of one call, within bounds: only the
    helpers named for the call, on plain-data arguments of bounded size, for
    `seconds` of CPU time in all, with at most `memory_mb` more address space.

    The time and memory guards act on this whole process, so they are only
    set when it runs a single thread (the command line); elsewhere the names
    and the size cap still hold.
    """

    def __init__(self, oracle, names, seconds, memory_mb):
        self.oracle = oracle
        self.allowed = set(names) if oracle is not None else set()
        self.spare = seconds
        self.memory_mb = memory_mb
        self.saved = None
        self.served = 0

    def answer(self, message):
        """The reply to one request, or None when the helpers' time is used up."""
        name = message.get("fn")
        if type(name) is not str or name not in self.allowed:
            return {"error": f"no reference helper {clean(name, 60)!s} for this call"}
        started = time.process_time()
        try:
            args = [wire.decode(a) for a in _list(message.get("args"))]
            if _items(args) > ORACLE_MAX_ITEMS:
                return {"error": f"arguments too large for the reference helper (over {ORACLE_MAX_ITEMS} numbers)"}
            value = self._run(lambda: self.oracle(name, args))
            self.served += 1
            return {"value": wire.encode(value)}
        except _OutOfTime:
            return None
        except Exception as exc:  # noqa: BLE001 - unreadable arguments, or ones the reference cannot take
            return {"error": clean(f"{type(exc).__name__}: {exc}", 300)}
        finally:
            self.spare -= time.process_time() - started

    def _run(self, fn):
        if self.spare <= 0:
            raise _OutOfTime()
        if not self._arm():
            return fn()
        signal.setitimer(signal.ITIMER_PROF, self.spare)
        try:
            return fn()
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)

    def _arm(self):
        """Install the alarm handler and the memory limit, once per call."""
        if self.saved is not None:
            return True
        if threading.current_thread() is not threading.main_thread() or threading.active_count() > 1:
            return False

        def alarm(signum, frame):
            raise _OutOfTime()

        self.saved = (signal.signal(signal.SIGPROF, alarm), _limit_memory(self.memory_mb))
        return True

    def release(self):
        """Put back what _arm changed."""
        if self.saved is None:
            return
        handler, limit = self.saved
        signal.signal(signal.SIGPROF, handler)
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_AS, limit)
        self.saved = None


def _items(value):
    if isinstance(value, (list, tuple)):
        return len(value) + sum(_items(v) for v in value)
    return getattr(value, "size", 1)


def _limit_memory(memory_mb):
    """Lower this process's address-space limit to its current size plus `memory_mb`; returns the old limit."""
    try:
        with open("/proc/self/statm") as f:
            size = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        old = resource.getrlimit(resource.RLIMIT_AS)
        soft = size + memory_mb * 1024 * 1024
        if old[1] != resource.RLIM_INFINITY:
            soft = min(soft, old[1])
        resource.setrlimit(resource.RLIMIT_AS, (soft, old[1]))
        return old
    except (OSError, ValueError, AttributeError):
        return None  # not Linux: the time guard alone


def _list(value):
    return value if type(value) is list else []
