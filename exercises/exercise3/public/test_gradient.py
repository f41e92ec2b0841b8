"""Public check for compute_gradient_logistic: the gradient the lab prints."""
import numpy as np
import pytest

from grader.testing import Mismatch, problem

LAB_GRADIENT = (0.49861806546328574, np.array([0.498333393278696, 0.49883942983996693]))


@pytest.mark.points(3)
def test_lab_example(student, training_data):
    """gradient at w = [2, 3], b = 1"""
    X, y = training_data
    w, b = np.array([2.0, 3.0]), 1.0
    got = student.compute_gradient_logistic(X, y, w, b)
    found = problem(got, LAB_GRADIENT, "(dj_db, dj_dw)")
    if found:
        found += (f"\ninput: compute_gradient_logistic(X = the lab's six examples, y = {y.tolist()}, "
                  f"w = {w.tolist()}, b = {b})")
        m = X.shape[0]
        # The lab's known mistakes, each as the gradient it would give here.
        for variant, hint in [
            ((LAB_GRADIENT[1], LAB_GRADIENT[0]), "the pair is in the wrong order: return (dj_db, dj_dw)"),
            ((LAB_GRADIENT[0] * m, LAB_GRADIENT[1] * m), "the gradient is m times too large: divide the sums by m"),
            ((LAB_GRADIENT[0], LAB_GRADIENT[1] * m), "dj_dw is m times too large: divide its sum by m too"),
            ((LAB_GRADIENT[0] * m, LAB_GRADIENT[1]), "dj_db is m times too large: divide its sum by m too"),
        ]:
            if isinstance(got, tuple) and len(got) == 2 and problem(got, variant, "") is None:
                found += f"\nhint: {hint}"
                break
        raise Mismatch(found)
