"""Hidden tests for gradient_descent."""
import numpy as np
import pytest

from grader.testing import Mismatch, check, expect_same


@pytest.mark.points(4)
def test_lab_run(student, reference, hints, lab):
    """the lab's run: alpha 0.1, 10000 iterations from w = [0, 0], b = 0"""
    w, b, history = expect_same(student, reference, "gradient_descent", lab.X, lab.y, np.zeros(2), 0.0, 0.1, 10000, hints=hints.descent)
    check(history[0], 0.684610468560574, "J_history[0]")
    check(history[9000], 0.019030137124109114, "J_history[9000]")
    check(b, -14.222409982019837, "b")


@pytest.mark.points(2)
def test_leaves_w_in_untouched(student, make_case):
    """w_in is not modified"""
    X, y, w, b = make_case(20, 3)
    original = w.copy()
    outcome = student.call("gradient_descent", X, y, w, b, 0.5, 5)
    if not outcome.ok:
        raise Mismatch(outcome.describe())
    after = outcome.args_after[2]
    if after is None or not np.array_equal(after, original):
        raise Mismatch(f"w_in was changed in place: it was {original.tolist()}, afterwards {np.asarray(after).tolist()}\n"
                       "hint: work on a copy, e.g. w = w_in.copy(), and write w = w - alpha * dj_dw")


@pytest.mark.points(1)
@pytest.mark.parametrize("num_iters", [1, 7])
def test_one_cost_per_iteration(student, make_case, num_iters):
    """J_history has one cost per iteration"""
    X, y, w, b = make_case(10, 2)
    history = student.gradient_descent(X, y, w, b, 0.1, num_iters)[2]
    if not isinstance(history, (list, tuple, np.ndarray)) or len(history) != num_iters:
        size = len(history) if isinstance(history, (list, tuple, np.ndarray)) else "not a list"
        raise Mismatch(f"J_history: expected {num_iters} costs for num_iters = {num_iters}, got {size}")


@pytest.mark.points(3)
@pytest.mark.parametrize("m, n, alpha, num_iters", [(30, 2, 0.5, 12), (120, 6, 0.05, 40), (7, 1, 1.0, 5)])
def test_random_runs(student, reference, hints, make_case, m, n, alpha, num_iters):
    """short runs on random data: w, b and every cost"""
    expect_same(student, reference, "gradient_descent", *make_case(m, n), alpha, num_iters, hints=hints.descent)
