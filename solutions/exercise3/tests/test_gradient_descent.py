"""Hidden tests for gradient_descent."""
import numpy as np
import pytest

from grader.testing import expect_same, expect_unchanged, mismatch, problem

# The lab's printed run (every 1000th cost), and the trained parameters.
LAB_COSTS = [0.684610468560574, 0.1590977666870456, 0.08460064176930081, 0.05705327279402531, 0.042907594216820076,
             0.034338477298845684, 0.028603798022120097, 0.024501569608793, 0.02142370332569295, 0.019030137124109114]
LAB_W = np.array([5.28123029178055, 5.078156075159833])
LAB_B = -14.222409982019837


@pytest.mark.visible  # the lab's own example: shown even with --hide-hidden
@pytest.mark.points(4)
def test_lab_run(student, reference, hints, lab):
    """the lab's run: alpha 0.1, 10000 iterations from w = [0, 0], b = 0"""
    args = (lab.X, lab.y, np.zeros(2), 0.0, 0.1, 10000)
    got = student.gradient_descent(*args)
    # Compared with the lab's own figures, so the long run is not repeated by the reference.
    found = problem(got, (LAB_W, LAB_B, [0.0] * 10000), "", values=False)
    found = found or problem(got[0], LAB_W, "w") or problem(got[1], LAB_B, "b")
    found = found or problem([got[2][i] for i in range(0, 10000, 1000)], LAB_COSTS, "J_history[::1000]")
    if found:  # only the hints that look at the result: variants would repeat the long run
        raise mismatch(found, "gradient_descent", student.argnames("gradient_descent"), args, got, reference,
                       [h for h in hints.descent if h.when])


@pytest.mark.points(2)
def test_leaves_w_in_untouched(student, reference, hints, make_case):
    """w_in is not modified"""
    args = (*make_case(20, 3), 0.5, 5)
    got = expect_unchanged(student, "gradient_descent", *args)
    # The trained w and b must be right too, so that doing nothing earns nothing;
    # J_history is another test's business.
    found = problem(got[:2] if isinstance(got, (tuple, list)) else got, reference.gradient_descent(*args)[:2], "(w, b)")
    if found:
        raise mismatch(found, "gradient_descent", student.argnames("gradient_descent"), args, got, reference,
                       hints.descent)


@pytest.mark.points(1)
@pytest.mark.parametrize("num_iters", [1, 7])
def test_one_cost_per_iteration(student, reference, hints, make_case, num_iters):
    """J_history has one cost per iteration, the cost after each update"""
    args = (*make_case(10, 2), 0.1, num_iters)
    got = student.gradient_descent(*args)
    history = got[2]
    names = student.argnames("gradient_descent")
    if not isinstance(history, (list, tuple, np.ndarray)) or len(history) != num_iters:
        size = len(history) if isinstance(history, (list, tuple, np.ndarray)) else "not a list"
        found = f"J_history: expected {num_iters} costs for num_iters = {num_iters}, got {size}"
    else:
        found = problem(list(history), reference.gradient_descent(*args)[2], "J_history")
    if found:
        raise mismatch(found, "gradient_descent", names, args, got, reference, hints.descent)


@pytest.mark.points(3)
@pytest.mark.parametrize("m, n, alpha, num_iters", [(30, 2, 0.5, 12), (120, 6, 0.05, 40), (7, 1, 1.0, 5)])
def test_random_runs(student, reference, hints, make_case, m, n, alpha, num_iters):
    """short runs on random data: w, b and every cost"""
    expect_same(student, reference, "gradient_descent", *make_case(m, n), alpha, num_iters, hints=hints.descent)
