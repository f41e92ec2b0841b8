"""A correct submission, vectorized with np.dot and np.mean."""
import numpy as np


def sigmoid(z):
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
