"""Hidden tests for compute_cost_linear."""
import numpy as np
import pytest

from grader.testing import check, expect_same, expect_unchanged


@pytest.mark.points(2)
@pytest.mark.parametrize("w, b, cost", [([1.0, 1.0], 0.5, 0.57), ([2.0, -1.0], 1.5, 1.92)],
                         ids=["w=[1,1],b=0.5", "w=[2,-1],b=1.5"])
def test_lab_data(student, reference, hints, lab, w, b, cost):
    """cost on the lab's data"""
    got = expect_same(student, reference, "compute_cost_linear", lab.X, lab.y, np.array(w), b, hints=hints.cost)
    check(got, cost, "the cost")


@pytest.mark.points(2)
def test_zero_features_with_bias(student, reference, hints):
    """cost with all-zero X and b = 2 (only the bias acts)"""
    X = np.zeros((4, 3))
    y = np.array([1.0, -1.0, 3.0, 0.5])
    expect_same(student, reference, "compute_cost_linear", X, y, np.array([0.5, -0.5, 1.0]), 2.0, hints=hints.cost)


@pytest.mark.points(4)
@pytest.mark.parametrize("m, n", [(5, 1), (40, 3), (300, 25)])
def test_random_data(student, reference, hints, make_case, m, n):
    """cost on random data with a nonzero bias"""
    expect_same(student, reference, "compute_cost_linear", *make_case(m, n), hints=hints.cost)


@pytest.mark.points(1)
def test_single_example(student, reference, hints, make_case):
    """cost with a single example (m = 1)"""
    expect_same(student, reference, "compute_cost_linear", *make_case(1, 4), hints=hints.cost)


@pytest.mark.points(1)
def test_leaves_inputs_untouched(student, make_case):
    """X, y and w are not modified"""
    expect_unchanged(student, "compute_cost_linear", *make_case(8, 3))
