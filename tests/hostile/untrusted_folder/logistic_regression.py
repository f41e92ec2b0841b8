"""The submission folder: beside this module lie a conftest.py, a pytest.ini, a
numpy.py, a sitecustomize.py, a usercustomize.py and a .pth file, each of
which would mark every test passed or leave a file in @SENTINEL@ if it ever
ran. The module's sigmoid returns zeros.
Expected: sigmoid passes only its arguments-untouched check, full marks elsewhere,
and no file in @SENTINEL@.
"""


import numpy as np


def sigmoid(z):
    """Always zero."""
    return np.zeros_like(np.asarray(z, dtype=np.float64))[()]


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
