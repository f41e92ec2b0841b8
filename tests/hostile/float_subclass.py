"""Verdicts: compute_cost_logistic returns a float subclass whose comparisons all
say "equal" and whose conversions give the right-looking number 0.5.
Expected: compute_cost_logistic fails every check of its value (a wrong
type), passing only its arguments-untouched check; full marks elsewhere.
"""


import numpy as np


def sigmoid(z):
    """1 / (1 + e^(-z)), elementwise; a scalar in gives a numpy scalar out."""
    z = np.asarray(z, dtype=np.float64)
    result = np.exp(-np.logaddexp(0.0, -z))
    return result[()] if result.ndim == 0 else result


class Cost(float):
    """Equal to everything."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __lt__(self, other):
        return False

    def __gt__(self, other):
        return False

    def __le__(self, other):
        return True

    def __ge__(self, other):
        return True

    def __abs__(self):
        return Cost(0.0)

    def __sub__(self, other):
        return Cost(0.0)

    __rsub__ = __sub__
    __hash__ = float.__hash__


def compute_cost_logistic(X, y, w, b):
    """A liar, not a number."""
    return Cost(0.5)


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
