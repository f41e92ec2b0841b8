"""Network: at import, tries to reach a listener the test opened on 127.0.0.1
(port @PORT@) and two public addresses; sigmoid is the reference's only if some
connection worked, zeros otherwise. Expected: sigmoid passes
only its arguments-untouched check, no connection reaches the listener; full marks elsewhere.
"""


import numpy as np
import socket


def _connect():
    for address in (("127.0.0.1", int("@PORT@")), ("1.1.1.1", 53), ("8.8.8.8", 53)):
        try:
            with socket.create_connection(address, timeout=0.5) as s:
                s.sendall(b"leaked")
            return True
        except OSError:
            pass
    return False


_CONNECTED = _connect()


def sigmoid(z):
    """Right only with a network."""
    z = np.asarray(z, dtype=np.float64)
    if not _CONNECTED:
        return np.zeros_like(z)[()]
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
