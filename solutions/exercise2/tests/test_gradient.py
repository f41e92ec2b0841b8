"""Hidden tests for compute_gradient_linear."""
import numpy as np
import pytest

from grader.testing import check, expect_same, expect_unchanged


@pytest.mark.points(3)
@pytest.mark.parametrize("w, b, gradient", [
    ([1.0, 1.0], 0.5, (-1.0, np.array([-4.0, -2.55]))),
    ([2.0, -1.0], 1.5, (-1.5, np.array([-5.0, -4.55]))),
], ids=["w=[1,1],b=0.5", "w=[2,-1],b=1.5"])
def test_lab_data(student, reference, hints, lab, w, b, gradient):
    """gradient on the lab's data"""
    got = expect_same(student, reference, "compute_gradient_linear", lab.X, lab.y, np.array(w), b, hints=hints.gradient)
    check(got, gradient, "(dj_db, dj_dw)")


@pytest.mark.points(4)
@pytest.mark.parametrize("m, n", [(6, 2), (50, 4), (300, 30)])
def test_random_data(student, reference, hints, make_case, m, n):
    """gradient on random data with a nonzero bias"""
    expect_same(student, reference, "compute_gradient_linear", *make_case(m, n), hints=hints.gradient)


@pytest.mark.points(2)
@pytest.mark.parametrize("m, n", [(1, 3), (9, 1)])
def test_edge_shapes(student, reference, hints, make_case, m, n):
    """gradient with one example or one feature"""
    expect_same(student, reference, "compute_gradient_linear", *make_case(m, n), hints=hints.gradient)


@pytest.mark.points(1)
def test_leaves_inputs_untouched(student, make_case):
    """X, y and w are not modified"""
    expect_unchanged(student, "compute_gradient_linear", *make_case(8, 3))
