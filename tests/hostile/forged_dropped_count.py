"""Output: right everywhere, but sigmoid sets its captured stdout's count of
dropped characters to a number of 6000 digits, which the grader would fail to
print (Python refuses int-to-text conversions past 4300 digits).
Expected: full marks everywhere; the forged count is ignored.
"""
import sys

import numpy as np

HUGE = 10 ** 6000  # made once: the lab's run calls sigmoid 20000 times


def sigmoid(z):
    sys.stdout.dropped = HUGE
    return 1.0 / (1.0 + np.exp(-z))


def compute_cost_logistic(X, y, w, b):
    f = sigmoid(np.dot(X, w) + b)
    return np.mean(-y * np.log(f) - (1 - y) * np.log(1 - f))


def compute_gradient_logistic(X, y, w, b):
    err = sigmoid(np.dot(X, w) + b) - y
    return np.mean(err), np.dot(X.T, err) / len(y)


def gradient_descent(X, y, w_in, b_in, alpha, num_iters):
    w, b = w_in.copy(), b_in
    history = []
    for _ in range(num_iters):
        db, dw = compute_gradient_logistic(X, y, w, b)
        w, b = w - alpha * dw, b - alpha * db
        history.append(compute_cost_logistic(X, y, w, b))
    return w, b, history
