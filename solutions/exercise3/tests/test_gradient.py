"""Hidden tests for compute_gradient_logistic."""
import numpy as np
import pytest

from grader.testing import check, expect_same, expect_unchanged


@pytest.mark.visible  # the lab's own example: shown even with --hide-hidden
@pytest.mark.points(3)
def test_lab_example(student, reference, hints, lab):
    """gradient at w = [2, 3], b = 1 on the lab's data"""
    got = expect_same(student, reference, "compute_gradient_logistic", lab.X, lab.y, np.array([2.0, 3.0]), 1.0,
                      hints=hints.gradient)
    check(got, (0.49861806546328574, np.array([0.498333393278696, 0.49883942983996693])), "(dj_db, dj_dw)")


@pytest.mark.points(4)
@pytest.mark.parametrize("m, n", [(6, 2), (50, 4), (300, 30)])
def test_random_data(student, reference, hints, make_case, m, n):
    """gradient on random data with a nonzero bias"""
    expect_same(student, reference, "compute_gradient_logistic", *make_case(m, n), hints=hints.gradient)


@pytest.mark.points(2)
@pytest.mark.parametrize("m, n", [(1, 3), (9, 1)])
def test_edge_shapes(student, reference, hints, make_case, m, n):
    """gradient with one example or one feature"""
    expect_same(student, reference, "compute_gradient_logistic", *make_case(m, n), hints=hints.gradient)


@pytest.mark.points(1)
def test_leaves_inputs_untouched(student, reference, hints, make_case):
    """X, y and w are not modified"""
    expect_unchanged(student, "compute_gradient_logistic", *make_case(8, 3), reference=reference, hints=hints.gradient)
