"""Figures for exercise3's feedback pages (declared in exercises/exercise3/exercise.toml).

Each function gets `student` (calls run in the sandbox) and `reference` and
returns a grader.figures.Figure. The lab's run uses the very arrays of
tests/conftest.py's `lab` fixture, so the figures reuse the outcome of the
hidden suite's call instead of training again.
"""
from functools import lru_cache

import numpy as np

from grader.figures import Figure

LAB_X = np.array([[0.5, 1.5], [1, 1], [1.5, 0.5], [3, 0.5], [2, 2], [1, 2.5]])
LAB_Y = np.array([0, 0, 0, 1, 1, 1])
LAB_RUN = (0.1, 10000)  # alpha, iterations
SHOWN_COSTS = 200
COST_RANGE = (0.01, 1.0)  # a fixed frame: the reference runs from 0.68 down to 0.018
AREA = ((0.0, 4.0), (0.0, 3.5))  # the part of the plane the decision boundary figure shows


def lab_run(run):
    """run(X, y, w_in, b_in, alpha, num_iters) on the lab's data."""
    return run(LAB_X.copy(), LAB_Y.copy(), np.zeros(2), 0.0, *LAB_RUN)


@lru_cache(maxsize=4)
def reference_run(reference):
    """The reference's lab run, once per process (it is the same for every student)."""
    return lab_run(reference.gradient_descent)


def student_run(student):
    """The student's (w, b, J_history) from the lab's run; ValueError when it is not that."""
    got = lab_run(student.gradient_descent)
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        raise ValueError(f"gradient_descent should return (w, b, J_history), got {type(got).__name__}")
    return got


def sigmoid_curve(student, reference):
    z = np.linspace(-8.0, 8.0, 161)
    figure = Figure("Your sigmoid and the reference's", xlabel="z", ylabel="g(z)")
    figure.line(z, reference.sigmoid(z), "reference", style="dashed")
    with figure.attempt("your sigmoid"):
        figure.line(z, student.sigmoid(z), "yours")
    return figure


def cost_history(student, reference):
    figure = Figure("Cost during the lab's training run (alpha 0.1)", xlabel="iteration", ylabel="cost J(w,b)",
                    yscale="log")
    figure.limits(y=COST_RANGE)
    history = np.asarray(reference_run(reference)[2])
    shown = np.unique(np.linspace(0, len(history) - 1, SHOWN_COSTS).astype(int))
    figure.line(shown, history[shown], "reference", style="dashed")
    with figure.attempt("your cost history"):
        got = student_run(student)[2]
        if not isinstance(got, (list, tuple, np.ndarray)) or len(got) != len(history):
            raise ValueError(f"J_history should hold one cost per iteration ({len(history)})")
        figure.line(shown, np.asarray(got, dtype=np.float64)[shown], "yours")
    return figure


def _boundary(w, b):
    """The part of the line w . x + b = 0 inside the plotted area, as (x0 values, x1 values)."""
    w = np.asarray(w, dtype=np.float64)
    if w.shape != (2,) or not np.isfinite(w).all() or not np.isfinite(float(b)):
        raise ValueError(f"w must be 2 finite numbers and b a finite number (got w of shape {w.shape})")
    if not np.abs(w).max() > 1e-12:
        raise ValueError("w is zero, so there is no boundary")
    (x_low, x_high), (y_low, y_high) = AREA
    # Where the line meets the four sides of the area; the extreme two bound its visible part.
    ends = [(x, -(w[0] * x + b) / w[1]) for x in (x_low, x_high) if abs(w[1]) > 1e-12]
    ends += [(-(w[1] * y + b) / w[0], y) for y in (y_low, y_high) if abs(w[0]) > 1e-12]
    ends = sorted((x, y) for x, y in ends if x_low <= x <= x_high and y_low <= y <= y_high)
    if len(ends) < 2 or ends[0] == ends[-1]:
        raise ValueError(f"the line w.x + b = 0 does not cross the plotted area "
                         f"(w = [{w[0]:.3g}, {w[1]:.3g}], b = {float(b):.3g})")
    (xa, ya), (xb, yb) = ends[0], ends[-1]
    return np.array([xa, xb]), np.array([ya, yb])


def decision_boundary(student, reference):
    figure = Figure("Decision boundary after the lab's training run", xlabel="x0", ylabel="x1")
    figure.limits(*AREA)
    for label, marker, cls in (("y = 0", "o", 0), ("y = 1", "x", 1)):
        figure.points(LAB_X[LAB_Y == cls, 0], LAB_X[LAB_Y == cls, 1], label, marker=marker)
    w, b, _ = reference_run(reference)
    figure.line(*_boundary(w, b), "reference", style="dashed")
    with figure.attempt("your boundary"):
        w, b, _ = student_run(student)
        figure.line(*_boundary(w, b), "yours (w.x + b = 0)")
    return figure
