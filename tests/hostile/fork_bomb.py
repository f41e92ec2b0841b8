"""Processes: sigmoid forks without end, every child forking too. Expected: the
bomb is held (a few dozen processes at most, or none), sigmoid 0 ("timed out"),
full marks elsewhere, and no process named @MARK@ left when grade returns.
"""


import numpy as np
import ctypes
import os


def _name(text):
    """Set this thread's name as `ps` and /proc show it (so the test can look for it)."""
    ctypes.CDLL(None).prctl(15, text.encode()[:15], 0, 0, 0)


def sigmoid(z):
    """Every process forks for ever."""
    _name("@MARK@")
    while True:
        try:
            os.fork()
        except OSError:
            pass


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
