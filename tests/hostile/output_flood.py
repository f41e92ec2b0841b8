"""Output: sigmoid prints 200 MB (and is right); compute_cost_logistic writes
200 MB straight to file descriptor 1 on each of its first two calls, then raises
(two: the first may be an early check, whose output no test shows).
Expected: sigmoid full marks, compute_cost_logistic 0 with its output cut to a
few KB, full marks elsewhere.
"""


import numpy as np
import os


_FLOODED = []


def sigmoid(z):
    """Right, but very chatty."""
    line = "x" * (1 << 20)
    for _ in range(200):
        print(line)
    z = np.asarray(z, dtype=np.float64)
    result = np.exp(-np.logaddexp(0.0, -z))
    return result[()] if result.ndim == 0 else result


def compute_cost_logistic(X, y, w, b):
    """Floods the raw stdout (the first two times), then fails."""
    if len(_FLOODED) < 2:
        _FLOODED.append(True)
        chunk = b"y" * (1 << 20)
        for _ in range(200):
            os.write(1, chunk)
    raise ValueError("flooded")


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
