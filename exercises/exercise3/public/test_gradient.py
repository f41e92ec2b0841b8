"""Public check for compute_gradient_logistic: the gradient the lab prints."""
import numpy as np
import pytest

from grader.testing import Mismatch, problem

LAB_GRADIENT = (0.49861806546328574, np.array([0.498333393278696, 0.49883942983996693]))


@pytest.mark.points(3)
def test_lab_example(student, training_data):
    """gradient at w = [2, 3], b = 1"""
    X, y = training_data
    got = student.compute_gradient_logistic(X, y, np.array([2.0, 3.0]), 1.0)
    found = problem(got, LAB_GRADIENT, "(dj_db, dj_dw)")
    if found:
        if isinstance(got, tuple) and len(got) == 2 and problem(got[::-1], LAB_GRADIENT, "") is None:
            found += "\nhint: the pair is in the wrong order: return (dj_db, dj_dw)"
        raise Mismatch(found)
