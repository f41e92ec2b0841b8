"""exercise2 (linear regression) is pure data: graded by the same machinery as
exercise3, its reference scores 100, its stubs 0, and typical mistakes lose
points in their own part only, with the hint that names them."""
import json

import pytest
from conftest import ROOT, quiz_key_text

REFERENCE2 = ROOT / "solutions" / "exercise2" / "linear_regression.py"


def grade_report(grade_cli, tmp_path, *args):
    out = tmp_path / "report.json"
    result = grade_cli("exercise2", *args, "--json", out)
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text()), result.output


def scores(report):
    return {p["name"]: p["score"] for p in report["parts"]}


def test_reference_scores_full(grade_cli, make_submission, tmp_path):
    folder = make_submission(REFERENCE2.read_text(), quiz=quiz_key_text("exercise2"), module="linear_regression")
    report, output = grade_report(grade_cli, tmp_path, "--submission", folder)
    assert report["score"] == 100 == report["max_score"], output
    assert scores(report) == {"compute_cost_linear": 25, "compute_gradient_linear": 30, "gradient_descent_linear": 25,
                              "quiz": 20}


def test_stubs_score_zero(grade_cli, tmp_path):
    report, output = grade_report(grade_cli, tmp_path)
    assert report["score"] == 0
    assert "not implemented yet" in output


# (what the mistake is, text replaced in the reference, the part that loses points, words of the hint)
MISTAKES = [
    ("cost divided by m, not 2m", ("err @ err / (2 * X.shape[0])", "err @ err / X.shape[0]"),
     "compute_cost_linear", "twice too large"),
    ("cost ignores b", ("    err = X @ w + b - y\n    return", "    err = X @ w - y\n    return"),
     "compute_cost_linear", "bias b seems to be ignored"),
    ("gradient returned in the wrong order", ("return dj_db, dj_dw", "return dj_dw, dj_db"),
     "compute_gradient_linear", "return order is swapped"),
    ("gradient not divided by m", ("dj_dw = X.T @ err / m\n    dj_db = float(np.sum(err) / m)",
                                   "dj_dw = X.T @ err\n    dj_db = float(np.sum(err))"),
     "compute_gradient_linear", "m times too large"),
    ("cost recorded before the update", (
        "        dj_db, dj_dw = compute_gradient_linear(X, y, w, b)\n"
        "        w = w - alpha * dj_dw\n        b = b - alpha * dj_db\n"
        "        J_history.append(compute_cost_linear(X, y, w, b))",
        "        J_history.append(compute_cost_linear(X, y, w, b))\n"
        "        dj_db, dj_dw = compute_gradient_linear(X, y, w, b)\n"
        "        w = w - alpha * dj_dw\n        b = b - alpha * dj_db"),
     "gradient_descent_linear", "record it after the update"),
    ("w_in changed in place", ("w = np.array(w_in, dtype=np.float64)", "w = w_in"), None, None),
]


@pytest.mark.parametrize("mistake, edit, part, hint", MISTAKES, ids=[m[0] for m in MISTAKES])
def test_mistake_loses_points_in_its_part(grade_cli, make_submission, tmp_path, mistake, edit, part, hint):
    source = REFERENCE2.read_text()
    assert edit[0] in source
    if part is None:  # the in-place update needs two edits: no copy, then -=
        source = source.replace(edit[0], edit[1]).replace("w = w - alpha * dj_dw", "w -= alpha * dj_dw")
        part, hint = "gradient_descent_linear", "changed its argument w_in in place"
    else:
        source = source.replace(edit[0], edit[1])
    report, output = grade_report(grade_cli, tmp_path, "--submission",
                                  make_submission(source, module="linear_regression"))
    full = {"compute_cost_linear": 25, "compute_gradient_linear": 30, "gradient_descent_linear": 25}
    got = scores(report)
    assert got[part] < full[part], output
    for other, points in full.items():
        if other != part:
            assert got[other] == points, f"{other} lost points for a mistake in {part}:\n{output}"
    assert hint in output
