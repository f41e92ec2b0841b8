"""Fixtures shared by exercise3's hidden suites: the lab's data, random cases,
and the known mistakes that hints recognise."""
from types import SimpleNamespace

import numpy as np
import pytest

from grader.testing import Hint

LAB_X = np.array([[0.5, 1.5], [1, 1], [1.5, 0.5], [3, 0.5], [2, 2], [1, 2.5]])
LAB_Y = np.array([0, 0, 0, 1, 1, 1])


@pytest.fixture
def lab():
    """The lab's two-feature data set (fresh copies for every test)."""
    return SimpleNamespace(X=LAB_X.copy(), y=LAB_Y.copy())


@pytest.fixture
def make_case(rng):
    """make_case(m, n) -> (X, y, w, b): random data with a nonzero bias and moderate z."""

    def make(m, n):
        X = rng.normal(0.0, 1.0, size=(m, n))
        y = (rng.random(m) < 0.5).astype(np.float64)
        w = rng.normal(0.0, 1.0 / np.sqrt(n), size=n)
        b = float(rng.uniform(0.5, 1.5) * rng.choice([-1.0, 1.0]))
        return X, y, w, b

    return make


def _linear_cost(ref, X, y, w, b):
    f = X @ w + b
    with np.errstate(all="ignore"):
        return float(np.mean(-y * np.log(f) - (1 - y) * np.log(1 - f)))


def _not_simultaneous(ref, X, y, w_in, b_in, alpha, num_iters):
    w, b, history = w_in.copy(), b_in, []
    for _ in range(num_iters):
        _, dj_dw = ref.compute_gradient_logistic(X, y, w, b)
        w = w - alpha * dj_dw
        dj_db, _ = ref.compute_gradient_logistic(X, y, w, b)
        b = b - alpha * dj_db
        history.append(ref.compute_cost_logistic(X, y, w, b))
    return w, b, history


def _cost_before_update(ref, X, y, w_in, b_in, alpha, num_iters):
    w, b, history = w_in.copy(), b_in, []
    for _ in range(num_iters):
        history.append(ref.compute_cost_logistic(X, y, w, b))
        dj_db, dj_dw = ref.compute_gradient_logistic(X, y, w, b)
        w, b = w - alpha * dj_dw, b - alpha * dj_db
    return w, b, history


def _scaled(pair, factor):
    return pair[0] * factor, pair[1] * factor


def _scaled_one(pair, which, factor):
    return tuple(v * factor if i == which else v for i, v in enumerate(pair))


NO_SIGMOID = "it looks like the sigmoid was left out: f_wb(x) is g(w.x + b), not w.x + b"
SIGMOID_HINTS = (
    Hint("the sign is flipped: it is 1 / (1 + e^(-z)), with a minus in the exponent",
         variant=lambda r, z: r.sigmoid(-np.asarray(z))),
    Hint("math.exp works on single numbers only: use np.exp so arrays work",
         error="only length-1 arrays|only size-1 arrays|only 0-dimensional|only integer scalar"),
)
COST_HINTS = (
    Hint(NO_SIGMOID, variant=_linear_cost),
    Hint("the cost is m times too large: divide the sum by m",
         variant=lambda r, X, y, w, b: r.compute_cost_logistic(X, y, w, b) * X.shape[0]),
    Hint("the sign is flipped: the cost is -y log f - (1 - y) log(1 - f)",
         variant=lambda r, X, y, w, b: -r.compute_cost_logistic(X, y, w, b)),
    Hint("the bias b seems to be ignored: the model is g(w.x + b)",
         variant=lambda r, X, y, w, b: r.compute_cost_logistic(X, y, w, 0.0)),
)
GRADIENT_HINTS = (
    Hint("the return order is swapped: return (dj_db, dj_dw)",
         variant=lambda r, X, y, w, b: r.compute_gradient_logistic(X, y, w, b)[::-1]),
    Hint("the gradient is m times too large: divide the sums by m",
         variant=lambda r, X, y, w, b: _scaled(r.compute_gradient_logistic(X, y, w, b), X.shape[0])),
    Hint("dj_dw is m times too large: divide its sum by m too (dj_db is right)",
         variant=lambda r, X, y, w, b: _scaled_one(r.compute_gradient_logistic(X, y, w, b), 1, X.shape[0])),
    Hint("dj_db is m times too large: divide its sum by m too (dj_dw is right)",
         variant=lambda r, X, y, w, b: _scaled_one(r.compute_gradient_logistic(X, y, w, b), 0, X.shape[0])),
    Hint("dj_db is n times too large: add each example's error to dj_db once, outside the loop over the features",
         variant=lambda r, X, y, w, b: _scaled_one(r.compute_gradient_logistic(X, y, w, b), 0, X.shape[1])),
    Hint("the sign is flipped: the error is f_wb(x_i) - y_i",
         variant=lambda r, X, y, w, b: _scaled(r.compute_gradient_logistic(X, y, w, b), -1.0)),
    Hint("the bias b seems to be ignored: the model is g(w.x + b)",
         variant=lambda r, X, y, w, b: r.compute_gradient_logistic(X, y, w, 0.0)),
    Hint(NO_SIGMOID, variant=lambda r, X, y, w, b: (float(np.mean(X @ w + b - y)), X.T @ (X @ w + b - y) / X.shape[0])),
)
def _history_length_off(got, X, y, w_in, b_in, alpha, num_iters):
    history = got[2] if isinstance(got, (tuple, list)) and len(got) == 3 else None
    return hasattr(history, "__len__") and len(history) != num_iters


DESCENT_HINTS = (
    Hint("J_history needs num_iters costs, one after each update: check the range of the loop",
         when=_history_length_off),
    Hint("the update is not simultaneous: compute both gradients first, then update w and b",
         variant=_not_simultaneous),
    Hint("J_history holds the cost before each update; record it after the update", variant=_cost_before_update),
    Hint("the update goes uphill: it is w - alpha * dj_dw (and b - alpha * dj_db)",
         variant=lambda r, X, y, w, b, a, n: r.gradient_descent(X, y, w, b, -a, n)),
)


@pytest.fixture
def hints():
    return SimpleNamespace(sigmoid=SIGMOID_HINTS, cost=COST_HINTS, gradient=GRADIENT_HINTS, descent=DESCENT_HINTS)
