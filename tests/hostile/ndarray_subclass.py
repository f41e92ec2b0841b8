"""Verdicts: sigmoid returns zeros as an ndarray subclass (and, for a number, a
numpy.float64 subclass) whose == and ufuncs all say "equal".
Expected: sigmoid fails every check of its value (a wrong type), passing
only its arguments-untouched check; full marks elsewhere.
"""


import numpy as np


class Agreeable(np.ndarray):
    """An array equal to anything."""

    def __eq__(self, other):
        return np.ones(np.shape(other), dtype=bool)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return np.ones(np.broadcast_shapes(*(np.shape(i) for i in inputs)), dtype=bool)


class Agreeable64(np.float64):
    """A number equal to anything."""

    def __eq__(self, other):
        return True

    __hash__ = np.float64.__hash__


def sigmoid(z):
    """Zeros in disguise."""
    z = np.asarray(z, dtype=np.float64)
    if z.ndim == 0:
        return Agreeable64(0.0)
    return np.zeros_like(z).view(Agreeable)


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
