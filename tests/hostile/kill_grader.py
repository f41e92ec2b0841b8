"""Signals: sigmoid tries to kill the process that started it (the grader, at the
levels where it can see it) with SIGKILL, then answers rightly.
Expected: full marks, and grade finishing normally with a complete report.
"""


import numpy as np
import os
import signal


def sigmoid(z):
    """Kills its parent if it can see one, then answers."""
    parent = os.getppid()
    if parent > 1:
        try:
            os.kill(parent, signal.SIGKILL)
        except OSError:
            pass
    z = np.asarray(z, dtype=np.float64)
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
