"""Memory: compute_cost_logistic hoards 100 MB arrays until memory runs out;
compute_gradient_logistic asks numpy for an 80 GB array. Expected: both 0 with
"memory limit exceeded", full marks elsewhere.
"""


import numpy as np


def sigmoid(z):
    """1 / (1 + e^(-z)), elementwise; a scalar in gives a numpy scalar out."""
    z = np.asarray(z, dtype=np.float64)
    result = np.exp(-np.logaddexp(0.0, -z))
    return result[()] if result.ndim == 0 else result


def compute_cost_logistic(X, y, w, b):
    """Allocates without end."""
    hoard = []
    while True:
        hoard.append(np.empty(100 * 2**20, dtype=np.uint8))


def compute_gradient_logistic(X, y, w, b):
    """One allocation far over any limit."""
    huge = np.ones((100_000, 100_000))
    return float(huge.sum()), huge[0]


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
