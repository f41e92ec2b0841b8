"""Fixtures shared by exercise2's hidden suites: the lab's data, random cases,
and the known mistakes that hints recognise."""
from types import SimpleNamespace

import numpy as np
import pytest

from grader.testing import Hint

# House size (in 1000 sq ft), bedrooms -> price (in $100k); the figures the
# tests check against were worked out with exact fractions.
LAB_X = np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 3.0], [4.0, 2.0], [5.0, 4.0], [6.0, 3.0]])
LAB_Y = np.array([4.1, 4.4, 7.0, 7.9, 10.6, 11.0])


@pytest.fixture
def lab():
    """The lab's two-feature data set (fresh copies for every test)."""
    return SimpleNamespace(X=LAB_X.copy(), y=LAB_Y.copy())


@pytest.fixture
def make_case(rng):
    """make_case(m, n) -> (X, y, w, b): noisy linear data, and a point (w, b) with a nonzero bias."""

    def make(m, n):
        X = rng.normal(0.0, 1.0, size=(m, n))
        y = X @ rng.normal(0.0, 2.0, size=n) + rng.normal(0.0, 3.0) + rng.normal(0.0, 0.5, size=m)
        w = rng.normal(0.0, 1.0, size=n)
        b = float(rng.uniform(0.5, 1.5) * rng.choice([-1.0, 1.0]))
        return X, y, w, b

    return make


def _unsquared_cost(ref, X, y, w, b):
    return float(np.sum(X @ w + b - y) / (2 * X.shape[0]))


def _not_simultaneous(ref, X, y, w_in, b_in, alpha, num_iters):
    w, b, history = w_in.copy(), b_in, []
    for _ in range(num_iters):
        _, dj_dw = ref.compute_gradient_linear(X, y, w, b)
        w = w - alpha * dj_dw
        dj_db, _ = ref.compute_gradient_linear(X, y, w, b)
        b = b - alpha * dj_db
        history.append(ref.compute_cost_linear(X, y, w, b))
    return w, b, history


def _cost_before_update(ref, X, y, w_in, b_in, alpha, num_iters):
    w, b, history = w_in.copy(), b_in, []
    for _ in range(num_iters):
        history.append(ref.compute_cost_linear(X, y, w, b))
        dj_db, dj_dw = ref.compute_gradient_linear(X, y, w, b)
        w, b = w - alpha * dj_dw, b - alpha * dj_db
    return w, b, history


def _scaled(pair, factor):
    return pair[0] * factor, pair[1] * factor


def _cost_times(factor):
    return lambda r, X, y, w, b: r.compute_cost_linear(X, y, w, b) * factor(X)


NO_DOT = "X * w multiplies elementwise; the model needs the dot product X @ w (or np.dot(X, w))"
COST_HINTS = (
    Hint("the cost is twice too large: divide by 2m, not by m", variant=_cost_times(lambda X: 2)),
    Hint("the cost is m times too large: divide the sum of squares by 2m", variant=_cost_times(lambda X: X.shape[0])),
    Hint("the cost is 2m times too large: divide the sum of squares by 2m",
         variant=_cost_times(lambda X: 2 * X.shape[0])),
    Hint("the errors are not squared: the cost sums (f_wb(x_i) - y_i)^2", variant=_unsquared_cost),
    Hint("the bias b seems to be ignored: the model is w.x + b",
         variant=lambda r, X, y, w, b: r.compute_cost_linear(X, y, w, 0.0)),
    Hint(NO_DOT, error="could not be broadcast"),
)
GRADIENT_HINTS = (
    Hint("the return order is swapped: return (dj_db, dj_dw)",
         variant=lambda r, X, y, w, b: r.compute_gradient_linear(X, y, w, b)[::-1]),
    Hint("the gradient is m times too large: divide the sums by m",
         variant=lambda r, X, y, w, b: _scaled(r.compute_gradient_linear(X, y, w, b), X.shape[0])),
    Hint("the gradient is half what it should be: the 2 of the square cancels the 1/2 of the cost, "
         "so divide by m, not 2m",
         variant=lambda r, X, y, w, b: _scaled(r.compute_gradient_linear(X, y, w, b), 0.5)),
    Hint("the sign is flipped: the error is f_wb(x_i) - y_i",
         variant=lambda r, X, y, w, b: _scaled(r.compute_gradient_linear(X, y, w, b), -1.0)),
    Hint("the bias b seems to be ignored: the model is w.x + b",
         variant=lambda r, X, y, w, b: r.compute_gradient_linear(X, y, w, 0.0)),
    Hint(NO_DOT, error="could not be broadcast"),
    Hint("dj_dw sums error times feature over the examples: X.T @ err, not X @ err",
         error="matmul: Input operand|shapes .* not aligned"),
)
DESCENT_HINTS = (
    Hint("the update is not simultaneous: compute both gradients first, then update w and b",
         variant=_not_simultaneous),
    Hint("J_history holds the cost before each update; record it after the update", variant=_cost_before_update),
    Hint("the update goes uphill: it is w - alpha * dj_dw (and b - alpha * dj_db)",
         variant=lambda r, X, y, w, b, a, n: r.gradient_descent_linear(X, y, w, b, -a, n)),
)


@pytest.fixture
def hints():
    return SimpleNamespace(cost=COST_HINTS, gradient=GRADIENT_HINTS, descent=DESCENT_HINTS)
