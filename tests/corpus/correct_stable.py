"""A correct submission with a branch-free stable sigmoid and log-sum-exp cost."""
import numpy as np


def sigmoid(z):
    z = np.asarray(z, dtype=np.float64)
    out = np.where(z >= 0, 1 / (1 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) / (1 + np.exp(-np.abs(z))))
    return out if out.ndim else float(out)


def compute_cost_logistic(X, y, w, b):
    z = X.dot(w) + b
    return np.sum(y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z)) / X.shape[0]


def compute_gradient_logistic(X, y, w, b):
    m = X.shape[0]
    e = sigmoid(X.dot(w) + b) - y
    dj_dw = np.array([np.sum(e * X[:, j]) for j in range(X.shape[1])]) / m
    return float(np.sum(e)) / m, dj_dw


def gradient_descent(X, y, w_in, b_in, alpha, num_iters):
    params = (np.copy(w_in), b_in)
    J = []
    for _ in range(num_iters):
        w, b = params
        g_b, g_w = compute_gradient_logistic(X, y, w, b)
        params = (w - alpha * g_w, b - alpha * g_b)
        J.append(compute_cost_logistic(X, y, *params))
    return params[0], params[1], J
