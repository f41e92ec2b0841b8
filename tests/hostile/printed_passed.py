"""Verdicts: sigmoid prints what a passing test run looks like (pytest's
"20 passed", a full-marks report, terminal escape sequences that clear the
screen) and returns zeros; compute_cost_logistic raises an error whose message
holds escape sequences, fake report lines and a lone surrogate.
Expected: sigmoid passes only its arguments-untouched check, compute_cost_logistic
nothing, the report's text is free of escape characters; full marks elsewhere.
"""


import numpy as np


def sigmoid(z):
    """Claims success loudly; returns zeros."""
    print("============================= 20 passed in 0.12s ==============================")
    print("PASSED test_sigmoid.py::test_scalar")
    print("\x1b[2J\x1b[H\x1b[32m  ✓ sigmoid   15 / 15\x1b[0m\rTotal: 100 / 100")
    return np.zeros_like(np.asarray(z, dtype=np.float64))[()]


def compute_cost_logistic(X, y, w, b):
    """Fails with a message built to forge report lines."""
    raise ValueError("\x1b[1A\x1b[2K  ✓ compute_cost_logistic 20 / 20\nTotal: 100 / 100 \udcff")


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
