"""Mutating inputs: every function overwrites the arrays it was given after
computing its (right) result, and gradient_descent updates w_in in place.
Expected: full marks but for the arguments-untouched checks of sigmoid,
compute_cost_logistic and gradient_descent;
the grader's own inputs and expected values are never touched.
"""


import numpy as np


def sigmoid(z):
    """Right, then scribbles over its input."""
    arr = np.asarray(z, dtype=np.float64)
    result = np.exp(-np.logaddexp(0.0, -arr))
    if isinstance(z, np.ndarray):
        z[...] = 0.0
    return result[()] if result.ndim == 0 else result


def compute_cost_logistic(X, y, w, b):
    """Right, then scribbles over its inputs."""
    z = X @ w + b
    cost = float(np.mean(y * np.logaddexp(0.0, -z) + (1 - y) * np.logaddexp(0.0, z)))
    X[...] = 0.0
    y[...] = 1.0
    w[...] = 0.0
    return cost


def compute_gradient_logistic(X, y, w, b):
    """Returns (dj_db, dj_dw): the gradient of the mean logistic loss (sigmoid inlined)."""
    m = X.shape[0]
    err = np.exp(-np.logaddexp(0.0, -(X @ w + b))) - y
    dj_dw = X.T @ err / m
    dj_db = float(np.sum(err) / m)
    return dj_db, dj_dw


def gradient_descent(X, y, w_in, b_in, alpha, num_iters):
    """Right values, but w_in is updated in place."""
    w = w_in
    b = float(b_in)
    J_history = []
    for _ in range(num_iters):
        dj_db, dj_dw = compute_gradient_logistic(X, y, w, b)
        w -= alpha * dj_dw
        b = b - alpha * dj_db
        z = X @ w + b  # not compute_cost_logistic: that one scribbles over X, y and w
        J_history.append(float(np.mean(y * np.logaddexp(0.0, -z) + (1 - y) * np.logaddexp(0.0, z))))
    return w, b, J_history
