"""Hidden tests for compute_cost_logistic."""
import numpy as np
import pytest

from grader.testing import expect_same, expect_unchanged


@pytest.mark.visible  # the lab's own example: shown even with --hide-hidden
@pytest.mark.points(2)
@pytest.mark.parametrize("w, b", [([1.0, 1.0], -3.0), ([2.0, 3.0], 1.0)], ids=["w=[1,1],b=-3", "w=[2,3],b=1"])
def test_lab_data(student, reference, hints, lab, w, b):
    """cost on the lab's data"""
    expect_same(student, reference, "compute_cost_logistic", lab.X, lab.y, np.array(w), b, hints=hints.cost)


@pytest.mark.points(2)
def test_zero_features_with_bias(student, reference, hints):
    """cost with all-zero X and b = 1 (only the bias acts)"""
    X = np.zeros((4, 3))
    y = np.array([0.0, 1.0, 0.0, 1.0])
    expect_same(student, reference, "compute_cost_logistic", X, y, np.array([0.5, -0.5, 1.0]), 1.0, hints=hints.cost)


@pytest.mark.points(4)
@pytest.mark.parametrize("m, n", [(5, 1), (40, 3), (300, 25)])
def test_random_data(student, reference, hints, make_case, m, n):
    """cost on random data with a nonzero bias"""
    expect_same(student, reference, "compute_cost_logistic", *make_case(m, n), hints=hints.cost)


@pytest.mark.points(1)
def test_single_example(student, reference, hints, make_case):
    """cost with a single example (m = 1)"""
    expect_same(student, reference, "compute_cost_logistic", *make_case(1, 4), hints=hints.cost)


@pytest.mark.points(1)
def test_leaves_inputs_untouched(student, reference, hints, make_case):
    """X, y and w are not modified"""
    expect_unchanged(student, "compute_cost_logistic", *make_case(8, 3), reference=reference, hints=hints.cost)
