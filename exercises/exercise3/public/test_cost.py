"""Public checks for compute_cost_logistic: the costs the lab prints."""
import math

import numpy as np
import pytest

from grader.testing import Mismatch, problem


def check_cost(got, expected, what, m):
    """Like grader.testing.check, with a hint for the usual slips."""
    found = problem(got, expected, what)
    if not found:
        return
    if problem(got, expected * m, what) is None:
        found += "\nhint: the cost is m times too large: divide the sum by m"
    elif problem(got, -expected, what) is None:
        found += "\nhint: the sign is flipped: the loss is -y log f - (1 - y) log(1 - f)"
    raise Mismatch(found)


@pytest.mark.points(2)
def test_zero_parameters(student, training_data):
    """cost at w = [0, 0], b = 0 is log 2"""
    X, y = training_data
    check_cost(student.compute_cost_logistic(X, y, np.zeros(2), 0.0), math.log(2.0),
               "cost at w = [0, 0], b = 0", len(y))


@pytest.mark.points(2)
def test_one_feature(student, one_feature_data):
    """cost on the one-feature data at w = [2], b = -5"""
    x, y = one_feature_data
    check_cost(student.compute_cost_logistic(x, y, np.array([2.0]), -5.0), 0.12285479586036101,
               "cost at w = [2], b = -5", len(y))
