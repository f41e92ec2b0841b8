"""Reference solution for exercise3: logistic regression by gradient descent.

Vectorized and numerically stable: no overflow warning and no NaN for |z| up
to 1e4, because the logistic function and its logs are computed with
np.logaddexp instead of exponentiating large numbers.
"""
import math

import numpy as np


def sigmoid(z):
    """1 / (1 + e^(-z)), elementwise; a scalar in gives a numpy scalar out."""
    if (type(z) is float or type(z) is np.float64) and z > -700.0:
        # One number, as loop-style code passes it when this stands in for a
        # wrong sigmoid: plain floats are several times faster than numpy on
        # one number, and above -700, e^(-z) cannot overflow.
        return np.float64(1.0 / (1.0 + math.exp(-z)))
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
    """Returns (dj_db, dj_dw): the gradient of the mean logistic loss."""
    m = X.shape[0]
    err = sigmoid(X @ w + b) - y
    dj_dw = X.T @ err / m
    dj_db = float(np.sum(err) / m)
    return dj_db, dj_dw


def gradient_descent(X, y, w_in, b_in, alpha, num_iters):
    """Batch gradient descent; returns (w, b, J_history), one cost per iteration."""
    w = np.array(w_in, dtype=np.float64)  # a copy: w_in stays untouched
    b = float(b_in)
    J_history = []
    for _ in range(num_iters):
        dj_db, dj_dw = compute_gradient_logistic(X, y, w, b)
        w = w - alpha * dj_dw
        b = b - alpha * dj_db
        J_history.append(compute_cost_logistic(X, y, w, b))
    return w, b, J_history
