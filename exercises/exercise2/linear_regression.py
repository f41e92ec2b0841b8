"""Exercise 2: linear regression trained by gradient descent.

Fill in the three functions below. Each one raises NotImplementedError until
you replace that line with your code. Check your work with `grade exercise2`.

Shapes: X is (m, n), m examples with n features; y is (m,) of real targets;
w is (n,); b is a number. The model is f_wb(x) = w.x + b.
"""
import numpy as np


def compute_cost_linear(X, y, w, b):
    """The squared-error cost J(w, b) = (1 / (2m)) sum_i (f_wb(x_i) - y_i)^2.

    Args:
        X: (m, n) array of examples.
        y: (m,) array of targets.
        w: (n,) array of weights.
        b: a number, the bias.
    Returns:
        The cost, a number.
    """
    # ---- your code here ----
    raise NotImplementedError


def compute_gradient_linear(X, y, w, b):
    """The gradient of the cost J(w, b).

    dJ/dw_j = (1/m) sum_i (f_wb(x_i) - y_i) x_ij
    dJ/db   = (1/m) sum_i (f_wb(x_i) - y_i)

    Args:
        X: (m, n) array of examples.
        y: (m,) array of targets.
        w: (n,) array of weights.
        b: a number, the bias.
    Returns:
        (dj_db, dj_dw): dj_db a number, dj_dw an (n,) array. Mind the order.
    """
    # ---- your code here ----
    raise NotImplementedError


def gradient_descent_linear(X, y, w_in, b_in, alpha, num_iters):
    """Batch gradient descent for linear regression.

    Repeats num_iters times: compute both gradients at the current (w, b),
    then update w and b together (w = w - alpha * dj_dw, b = b - alpha * dj_db),
    then record the cost of the updated parameters in J_history.
    Must not modify w_in. May print progress.

    Args:
        X: (m, n) array of examples.
        y: (m,) array of targets.
        w_in: (n,) array, the initial weights (leave it unchanged).
        b_in: a number, the initial bias.
        alpha: the learning rate.
        num_iters: how many updates to make.
    Returns:
        (w, b, J_history): the trained weights ((n,) array), the trained bias
        (a number) and the list of num_iters costs, one after each update.
    """
    # ---- your code here ----
    raise NotImplementedError
