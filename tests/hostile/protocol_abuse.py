"""Protocol: student code meddles with the worker's pipes. sigmoid writes garbage
into the grader's pipe; compute_cost_logistic closes stdout and stderr (and is
right); compute_gradient_logistic sends forged replies with wrong call ids
and forged process notices before returning its (right) value;
gradient_descent points stdout at the grader's pipe and prints.
Expected: sigmoid 0, compute_cost_logistic and compute_gradient_logistic full
marks, gradient_descent 0.
"""


import numpy as np
import os
import sys

import __main__


def sigmoid(z):
    """Garbage into the grader's pipe."""
    os.write(int(sys.argv[2]), b"\x00\x00\x00\x05{{{{{ not a message")
    return np.zeros_like(np.asarray(z, dtype=np.float64))[()]


def compute_cost_logistic(X, y, w, b):
    """Closes its output, then answers rightly."""
    for fd in (1, 2):
        try:
            os.close(fd)
        except OSError:
            pass
    z = X @ w + b
    return float(np.mean(y * np.logaddexp(0.0, -z) + (1 - y) * np.logaddexp(0.0, z)))


def compute_gradient_logistic(X, y, w, b):
    """Forged messages first, then the right answer."""
    for message in ({"op": "result", "id": -1, "value": 0.0}, {"op": "error", "id": 10**6, "type": "X"},
                    {"op": "died", "code": -11}, {"op": "init", "pid": 1}, {"op": "ready"}, {"nonsense": [1, 2]}):
        os.write(int(sys.argv[2]), __main__.pack(message))
    m = X.shape[0]
    err = sigmoid(X @ w + b) - y
    return float(np.sum(err) / m), X.T @ err / m


def gradient_descent(X, y, w_in, b_in, alpha, num_iters):
    """Prints into the grader's pipe."""
    os.dup2(int(sys.argv[2]), 1)
    print("20 passed")
    return np.zeros_like(w_in), 0.0, [0.0] * num_iters
