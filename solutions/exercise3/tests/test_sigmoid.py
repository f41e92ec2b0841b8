"""Hidden tests for sigmoid."""
import numpy as np
import pytest

from grader.testing import check, expect_same, expect_unchanged


@pytest.mark.points(2)
def test_scalar(student, reference, hints):
    """sigmoid of a number is a number"""
    expect_same(student, reference, "sigmoid", 3.0, hints=hints.sigmoid)


@pytest.mark.points(1)
def test_zero(student, reference, hints):
    """sigmoid(0) is 0.5"""
    check(student.sigmoid(0.0), 0.5, "sigmoid(0.0)")


@pytest.mark.points(2)
def test_vector(student, reference, hints):
    """sigmoid of a 1-D array keeps its shape"""
    expect_same(student, reference, "sigmoid", np.array([2.5, 0.0, -1.0, 4.0]), hints=hints.sigmoid)


@pytest.mark.points(2)
def test_matrix(student, reference, hints, rng):
    """sigmoid of a 2-D array keeps its shape"""
    expect_same(student, reference, "sigmoid", rng.normal(0, 3, size=(3, 4)), hints=hints.sigmoid)


@pytest.mark.points(2)
@pytest.mark.parametrize("shape", [(1,), (57,), (8, 1), (2, 3, 4)])
def test_random_shapes(student, reference, hints, rng, shape):
    """sigmoid on random arrays"""
    expect_same(student, reference, "sigmoid", rng.normal(0, 5, size=shape), hints=hints.sigmoid)


@pytest.mark.points(2)
def test_large_inputs(student, reference, hints):
    """sigmoid at z = -1000 and 1000 gives 0 and 1, not NaN"""
    expect_same(student, reference, "sigmoid", np.array([-1000.0, -30.0, 30.0, 1000.0]),
                hints=hints.sigmoid, atol=1e-10)


@pytest.mark.points(1)
def test_leaves_input_untouched(student, reference, hints, rng):
    """z is not modified"""
    expect_unchanged(student, "sigmoid", rng.normal(0, 3, size=(4, 3)), reference=reference, hints=hints.sigmoid)
