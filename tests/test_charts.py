"""Feedback charts: students' series drawn over a frame shared by every student,
the frame widened or a note given when a student's values leave it."""
import importlib.util
import io
from types import SimpleNamespace

import numpy as np
from conftest import REFERENCE, ROOT
from PIL import Image

from grader.figures import Figure
from grader.render import charts

GREY = (0x55, 0x55, 0x55)  # the reference's colour
BLUE = (0x1F, 0x77, 0xB4)  # the student's


def curve(yours=None) -> dict:
    figure = Figure("t", xlabel="z", ylabel="g")
    figure.line([0, 1, 2, 3], [0.1, 0.4, 0.6, 0.9], "reference", style="dashed")
    with figure.attempt("your curve"):
        if isinstance(yours, Exception):
            raise yours
        figure.line([0, 1, 2, 3], yours, "yours")
    return figure.to_dict()


def pixels_of(chart, colour) -> set:
    image = np.asarray(Image.open(io.BytesIO(chart.png)).convert("RGB"))
    return set(zip(*np.nonzero((image == colour).all(axis=2))))


def test_students_share_the_reference_drawing_and_differ_in_their_own():
    rising, falling = charts.figure_chart(curve([0.1, 0.4, 0.6, 0.9])), charts.figure_chart(curve([0.9, 0.6, 0.4, 0.1]))
    assert rising.notes == falling.notes == []
    assert pixels_of(rising, BLUE) and pixels_of(rising, BLUE) != pixels_of(falling, BLUE)
    # The reference's dashed line is the same pixels on both pages, drawn over the student's.
    assert pixels_of(rising, GREY) and pixels_of(rising, GREY) == pixels_of(falling, GREY)
    assert charts.figure_chart(curve([0.1, 0.4, 0.6, 0.9])).png == rising.png  # nothing left over from another student
    broken = charts.figure_chart(curve(ValueError("no")))
    assert pixels_of(broken, BLUE) == set() and pixels_of(broken, GREY)


def test_values_out_of_the_frame_widen_it_or_give_a_note():
    plain = charts.figure_chart(curve([0.1, 0.4, 0.6, 0.9]))
    near = charts.figure_chart(curve([0.1, 0.8, 1.6, 1.9]))  # within reach: a wider frame shows all of it
    assert near.notes == [] and pixels_of(near, GREY) != pixels_of(plain, GREY)
    assert charts.figure_chart(curve([0.1, 0.9, 1.7, 1.8])).notes == []
    far = charts.figure_chart(curve([0.1, 0.4, 0.6, 900.0]))
    assert far.notes == ["yours lies partly outside the picture: its g goes from 0.1 to 900, "
                         "the picture shows 0.06 to 0.94"]
    gaps = charts.figure_chart(curve([0.1, float("nan"), 0.6, 0.9]))
    assert gaps.notes == ["yours: 1 of 4 values are not finite numbers, so not drawn"]


def test_decision_boundary_outside_the_plotted_area_is_named():
    def load(path, name):
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    reference = load(REFERENCE, "reference_for_charts")
    plots = load(ROOT / "solutions" / "exercise3" / "plots.py", "plots_for_charts")
    climbing = SimpleNamespace(gradient_descent=lambda *args: (np.array([-999.0, -833.0]), -499.0, [0.7] * 10000))
    data = plots.decision_boundary(climbing, reference).to_dict()
    assert [s["label"] for s in data["series"]] == ["y = 0", "y = 1", "reference"]
    assert data["notes"] == ["your boundary could not be drawn: the line w.x + b = 0 does not cross the plotted area "
                             "(w = [-999, -833], b = -499)"]
    vertical = SimpleNamespace(gradient_descent=lambda *args: (np.array([2.0, 0.0]), -5.0, [0.7] * 10000))
    mine = plots.decision_boundary(vertical, reference).to_dict()["series"][-1]
    assert (mine["x"], mine["y"], mine["student"]) == ([2.5, 2.5], [0.0, 3.5], True)
