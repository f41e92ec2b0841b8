"""Public checks for gradient_descent: the lab's training run and its printed costs."""
import numpy as np
import pytest

from grader.testing import Mismatch, check

# The cost after update i of the lab's run, as the lab prints it.
LAB_COSTS = {
    0: 0.684610468560574, 1000: 0.1590977666870456, 2000: 0.08460064176930081, 3000: 0.05705327279402531,
    4000: 0.042907594216820076, 5000: 0.034338477298845684, 6000: 0.028603798022120097,
    7000: 0.024501569608793, 8000: 0.02142370332569295, 9000: 0.019030137124109114,
}


@pytest.mark.points(4)
def test_lab_run(student, training_data):
    """the lab's run: alpha 0.1, 10000 updates from w = [0, 0], b = 0"""
    X, y = training_data
    w, b, history = student.gradient_descent(X, y, np.zeros(2), 0.0, 0.1, 10000)
    if not isinstance(history, (list, tuple, np.ndarray)) or len(history) != 10000:
        raise Mismatch("J_history: expected a list of 10000 costs, one after each update")
    for i, cost in LAB_COSTS.items():
        check(history[i], cost, f"J_history[{i}]")
    check(b, -14.222409982019837, "b")
    check(w, np.array([5.28, 5.08]), "w (to two decimals)", rtol=0.0, atol=0.005)


@pytest.mark.points(1)
def test_leaves_w_in_alone(student, training_data):
    """w_in is not modified"""
    X, y = training_data
    outcome = student.call("gradient_descent", X, y, np.zeros(2), 0.0, 0.1, 10)
    if not outcome.ok:
        raise Mismatch(outcome.describe())
    after = outcome.args_after[2]
    if after is None or not np.array_equal(after, np.zeros(2)):
        raise Mismatch("w_in was changed in place; work on a copy (w = w_in.copy()) and write w = w - alpha * dj_dw")
