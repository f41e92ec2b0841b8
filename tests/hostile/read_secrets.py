"""Secrets: at import, looks for the reference solution, the hidden tests and the
quiz key (in the course, in the repository, in its git objects) and prints
whatever it can read; if it finds the reference it loads it and hands its
functions out as its own. Its fallbacks return zeros (gradient_descent raises).
Expected: the first three functions pass only their arguments-untouched checks,
gradient_descent nothing, and no secret in the report.
"""


import numpy as np
import glob
import importlib.util
import os
import zlib


_PLACES = ["@COURSE@/solutions/exercise3", "@REPO@/solutions/exercise3", "@SENTINEL@"]
_STOLEN = []


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def _steal():
    for place in _PLACES:
        for path in glob.glob(f"{place}/**", recursive=True):
            data = _read(path)
            if data:
                print(f"read {path}:\n{data.decode('utf-8', 'replace')}")
        reference = os.path.join(place, "logistic_regression.py")
        if os.path.isfile(reference) and not _STOLEN:
            try:
                spec = importlib.util.spec_from_file_location("stolen", reference)
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
                _STOLEN.append(module)
            except Exception:
                pass
    # The repository's history holds every version of the solutions.
    gitdir = "@REPO@/.git"
    pointer = _read(gitdir)
    if pointer and pointer.startswith(b"gitdir:"):
        gitdir = os.path.join(pointer.split(b":", 1)[1].strip().decode(), "..", "..")
    for path in glob.glob(f"{gitdir}/objects/??/*"):
        try:
            text = zlib.decompress(_read(path) or b"")
        except zlib.error:
            continue
        if b"logaddexp" in text or b"q1 = " in text:
            print(f"git object {path}:\n{text.decode('utf-8', 'replace')}")


_steal()


def sigmoid(z):
    """The reference's, if it could be stolen."""
    if _STOLEN:
        return _STOLEN[0].sigmoid(z)
    return np.zeros_like(np.asarray(z, dtype=np.float64))[()]


def compute_cost_logistic(X, y, w, b):
    """The reference's, if it could be stolen."""
    if _STOLEN:
        return _STOLEN[0].compute_cost_logistic(X, y, w, b)
    return 0.0


def compute_gradient_logistic(X, y, w, b):
    """The reference's, if it could be stolen."""
    if _STOLEN:
        return _STOLEN[0].compute_gradient_logistic(X, y, w, b)
    return 0.0, np.zeros_like(w)


def gradient_descent(X, y, w_in, b_in, alpha, num_iters):
    """The reference's, if it could be stolen."""
    if _STOLEN:
        return _STOLEN[0].gradient_descent(X, y, w_in, b_in, alpha, num_iters)
    raise RuntimeError("nothing to steal")
