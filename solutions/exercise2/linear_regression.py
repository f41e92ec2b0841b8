"""Reference solution for exercise2: linear regression by gradient descent.

Vectorized: one matrix product per cost or gradient, no Python loop over the
examples.
"""
import numpy as np


def compute_cost_linear(X, y, w, b):
    """Half the mean squared error of the model X @ w + b on targets y."""
    err = X @ w + b - y
    return float(err @ err / (2 * X.shape[0]))


def compute_gradient_linear(X, y, w, b):
    """Returns (dj_db, dj_dw): the gradient of the half mean squared error."""
    m = X.shape[0]
    err = X @ w + b - y
    dj_dw = X.T @ err / m
    dj_db = float(np.sum(err) / m)
    return dj_db, dj_dw


def gradient_descent_linear(X, y, w_in, b_in, alpha, num_iters):
    """Batch gradient descent; returns (w, b, J_history), one cost per iteration."""
    w = np.array(w_in, dtype=np.float64)  # a copy: w_in stays untouched
    b = float(b_in)
    J_history = []
    for _ in range(num_iters):
        dj_db, dj_dw = compute_gradient_linear(X, y, w, b)
        w = w - alpha * dj_dw
        b = b - alpha * dj_db
        J_history.append(compute_cost_linear(X, y, w, b))
    return w, b, J_history
