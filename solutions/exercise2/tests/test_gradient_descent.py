"""Hidden tests for gradient_descent_linear."""
import numpy as np
import pytest

from grader.testing import Mismatch, check, expect_same, expect_unchanged

# The least-squares fit of the lab's data (normal equations, exact fractions)
# and its cost: where a converged run must end, whatever the reference says.
LSQ_W = np.array([457 / 360, 53 / 72])
LSQ_B = 73 / 60
LSQ_COST = 133 / 14400


@pytest.mark.points(4)
def test_lab_run(student, reference, hints, lab):
    """the lab's run: alpha 0.05, 10000 iterations from w = [0, 0], b = 0"""
    w, b, history = expect_same(student, reference, "gradient_descent_linear",
                                lab.X, lab.y, np.zeros(2), 0.0, 0.05, 10000, hints=hints.descent)
    check(history[0], 1173463 / 1920000, "J_history[0]")
    check((w, b), (LSQ_W, LSQ_B), "(w, b) after 10000 iterations")
    check(history[-1], LSQ_COST, "J_history[-1]")


@pytest.mark.points(2)
def test_leaves_w_in_untouched(student, make_case):
    """w_in (and X, y) are not modified"""
    X, y, w, b = make_case(20, 3)
    expect_unchanged(student, "gradient_descent_linear", X, y, w, b, 0.1, 5)


@pytest.mark.points(1)
@pytest.mark.parametrize("num_iters", [1, 7])
def test_one_cost_per_iteration(student, make_case, num_iters):
    """J_history has one cost per iteration"""
    X, y, w, b = make_case(10, 2)
    history = student.gradient_descent_linear(X, y, w, b, 0.1, num_iters)[2]
    if not isinstance(history, (list, tuple, np.ndarray)) or len(history) != num_iters:
        size = len(history) if isinstance(history, (list, tuple, np.ndarray)) else "not a list"
        raise Mismatch(f"J_history: expected {num_iters} costs for num_iters = {num_iters}, got {size}")


@pytest.mark.points(3)
@pytest.mark.parametrize("m, n, alpha, num_iters", [(30, 2, 0.3, 12), (120, 6, 0.05, 40), (7, 1, 0.5, 5)])
def test_random_runs(student, reference, hints, make_case, m, n, alpha, num_iters):
    """short runs on random data: w, b and every cost"""
    expect_same(student, reference, "gradient_descent_linear", *make_case(m, n), alpha, num_iters, hints=hints.descent)
