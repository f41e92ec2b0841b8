"""A correct submission with a tanh-based sigmoid and matrix products via @."""
import numpy as np


def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=float)))


def compute_cost_logistic(X, y, w, b):
    m = len(y)
    p = sigmoid(X @ w + b)
    return float(-(y @ np.log(p) + (1 - y) @ np.log(1 - p)) / m)


def compute_gradient_logistic(X, y, w, b):
    m = X.shape[0]
    residual = sigmoid(X @ w + b) - y
    return residual.sum() / m, (residual @ X) / m


def gradient_descent(X, y, w_in, b_in, alpha, num_iters):
    w = np.array(w_in, dtype=float)
    b = float(b_in)
    costs = np.empty(num_iters)
    for k in range(num_iters):
        grad_b, grad_w = compute_gradient_logistic(X, y, w, b)
        w -= alpha * grad_w  # in place on our own copy: w_in is untouched
        b -= alpha * grad_b
        costs[k] = compute_cost_logistic(X, y, w, b)
    return w, b, costs.tolist()
