"""Reports rendered from the one results model: the feedback page, Gradescope's
results.json, the gradebook, the class summary, `--hide-hidden`, and `grade
publish` rebuilding them from report.json alone."""
import csv
import io
import json
import subprocess
import sys

from conftest import REFERENCE, ROOT, quiz_key_text
from report_checks import check_page, gradescope_problems

from grader.results import GradeResult, PartResult, save_json
from grader.results import TestResult as Verdict  # not collected as a test class

SECRET = "expected 0.7310585786300049, got 0.2689 (secret hidden input)"


def sample(student="ann", sigmoid_passed=False) -> GradeResult:
    """A result as grade() makes them: hidden tests, a visible quiz, figure data."""
    sigmoid = PartResult("sigmoid", 15, [
        Verdict("sigmoid of a number is a number", sigmoid_passed, 10.0 if sigmoid_passed else 0.0, 10.0,
                   "" if sigmoid_passed else f"result: {SECRET}\nhint: the sign is flipped", True, "debug print"),
        Verdict("sigmoid(0) is 0.5", True, 5.0, 5.0, "", True),
    ])
    quiz = PartResult("quiz", 20, [Verdict("q1", False, 0.0, 20.0, "'A' is not correct", hidden=False)])
    figures = [
        {"name": "curve", "part": "sigmoid", "title": "Your sigmoid", "xlabel": "z", "ylabel": "g", "yscale": "linear",
         "series": [{"kind": "line", "label": "reference", "x": [-1, 0, 1], "y": [0.27, 0.5, 0.73], "style": "dashed"},
                    {"kind": "line", "label": "yours", "x": [-1, 0, 1], "y": [0.73, 0.5, None]}], "notes": []},
        {"name": "history", "part": "quiz", "title": "Cost history", "series": [],
         "notes": ["your cost history could not be drawn: gradient_descent() raised ValueError"]},
    ]
    return GradeResult("exercise3", 35, [sigmoid, quiz], student=student, isolation="process", seconds=0.42,
                       artifacts={"figures": figures})


def test_hide_hidden_is_a_transformation_of_the_model():
    from grader.visibility import hide_hidden

    result = sample()
    shown = hide_hidden(result)
    sigmoid = shown.part("sigmoid")
    assert [(t.name, t.passed, t.message, t.output) for t in sigmoid.tests] == [
        ("hidden test 1", False, "hidden test failed", ""), ("hidden test 2", True, "", "")]
    assert shown.part("quiz").tests[0].message == "'A' is not correct"  # visible tests stay as they are
    assert [t.score for t in sigmoid.tests] == [0.0, 5.0] and shown.score == result.score == 5
    assert result.part("sigmoid").tests[0].name == "sigmoid of a number is a number"  # the original is untouched


def test_hidden_details_reach_no_student_facing_output():
    from grader.render import gradescope, html, terminal
    from grader.visibility import hide_hidden

    result = sample()
    for render in (html.render, gradescope.render, terminal.render):
        full, hidden = render(result), render(hide_hidden(result))
        assert "secret hidden input" in full and "sigmoid of a number" in full
        assert ("secret hidden input" not in hidden and "sigmoid of a number" not in hidden
                and "debug print" not in hidden)
        assert "hidden test failed" in hidden


def test_gradescope_results_validate_and_copy_the_model():
    from grader.render import gradescope

    result = sample()
    doc = json.loads(gradescope.render(result))
    assert gradescope_problems(doc) == []
    assert doc["score"] == result.score == 5
    assert isinstance(doc["execution_time"], float) and doc["execution_time"] == 0.42
    assert [(t["number"], t["score"], t["max_score"], t["status"]) for t in doc["tests"]] == [
        ("1.1", 0.0, 10.0, "failed"), ("1.2", 5.0, 5.0, "passed"), ("2.1", 0.0, 20.0, "failed")]
    assert "printed:\ndebug print" in doc["tests"][0]["output"]
    error = GradeResult("exercise3", 35, [PartResult("sigmoid", 15)], student="bob", status="error",
                        error="the zip was refused")
    error_doc = json.loads(gradescope.render(error))
    assert gradescope_problems(error_doc) == [] and "the zip was refused" in error_doc["output"]
    # The validator itself refuses what Gradescope refuses.
    assert gradescope_problems({"execution_time": "0.4", "tests": [{"status": "ok", "extra": 1}]}) == [
        "results: bad execution_time: '0.4'", "tests[0]: unknown key 'extra'", "tests[0]: bad status: 'ok'"]


def test_feedback_page_is_self_contained_with_its_figures():
    from grader.render import html

    page = check_page(html.render(sample()))
    assert len(page.images) == 1  # the figure with data; the other is only its note
    assert "your cost history could not be drawn: gradient_descent() raised ValueError" in page.text
    assert "5 / 35" in page.text and "'A' is not correct" in page.text
    not_graded = GradeResult("exercise3", 35, [PartResult("sigmoid", 15)], student="bob", status="error",
                             error="holds no logistic_regression.py")
    page = check_page(html.render(not_graded))
    assert "Not graded: holds no logistic_regression.py" in page.text and page.images == []


def test_gradebook_rows_copy_the_scores():
    from grader.render import gradebook

    error = GradeResult("exercise3", 35, [PartResult("sigmoid", 15), PartResult("quiz", 20)], student="bob",
                        status="error", error="empty, as a folder")
    rows = list(csv.reader(io.StringIO(gradebook.render([sample("cy", True), error, sample("ann")]))))
    assert rows == [
        ["id", "total", "sigmoid", "quiz", "status", "note"],
        ["ann", "5", "5", "0", "graded", ""],
        ["bob", "0", "0", "0", "error", "empty, as a folder"],
        ["cy", "15", "15", "0", "graded", ""],
    ]


def test_summary_page_counts_the_class():
    from grader.render import summary

    error = GradeResult("exercise3", 35, [PartResult("sigmoid", 15)], student="bob", status="error",
                        error="zip refused")
    page = check_page(summary.render([sample("ann"), sample("cy", True), sample("dee"), error]))
    assert len(page.images) == 1  # the histogram
    assert "4 students: 3 graded, 1 not graded." in page.text
    assert "1 of 3" in page.text  # pass rate of the first sigmoid test
    assert "hint: the sign is flipped" in page.text  # the common failure, shown by its hint
    assert "zip refused" in page.text


def test_publish_rebuilds_every_output_from_report_json(grade_cli, tmp_path):
    out = tmp_path / "out"
    for result in (sample("ann"), sample("cy", True)):
        save_json(result, out / result.student / "report.json")
    done = grade_cli("publish", out, "--hide-hidden")
    assert done.exit_code == 0, done.output
    assert "published 2 students" in done.output
    rows = list(csv.DictReader((out / "gradebook.csv").open()))
    assert [(r["id"], r["total"]) for r in rows] == [("ann", "5"), ("cy", "15")]
    for sid in ("ann", "cy"):
        page = check_page((out / sid / "feedback.html").read_text())
        assert "secret hidden input" not in page.text and len(page.images) == 1
        assert gradescope_problems(json.loads((out / sid / "results.json").read_text())) == []
    assert "secret hidden input" in (out / "ann" / "report.json").read_text()  # the record keeps everything
    check_page((out / "summary.html").read_text())
    empty = grade_cli("publish", tmp_path)
    assert empty.exit_code == 2 and "holds no <student>/report.json" in empty.output


def test_figure_data_keeps_a_broken_student_value_to_a_note():
    from grader.figures import Figure
    from grader.sandbox.wire import Opaque
    from grader.testing import StudentFailure

    figure = Figure("t")
    figure.line([0, 1], [0.5, 0.7], "reference")
    with figure.attempt("your curve"):
        figure.line([0, 1], [Opaque("evil.Float", ""), 1.0], "yours")
    with figure.attempt("your run"):
        raise StudentFailure("gradient_descent() timed out after 5 s\ninput: ...")
    with figure.attempt("your other curve"):
        figure.line([0, 1], [1.0, 2.0, 3.0], "yours")
    data = figure.to_dict()
    assert [s["label"] for s in data["series"]] == ["reference"]
    assert data["notes"][1] == "your run could not be drawn: gradient_descent() timed out after 5 s"
    assert data["notes"][0].startswith("your curve could not be drawn: yours: not numbers")
    assert data["notes"][2] == "your other curve could not be drawn: yours: expected 2 values, got 3"
    json.dumps(data, allow_nan=False)  # plain, standard JSON


def test_one_student_html_and_gradescope(run_grade, make_submission, tmp_path):
    source = REFERENCE.read_text().replace("np.exp(-np.logaddexp(0.0, -z))", "np.exp(-np.logaddexp(0.0, z))")
    source = source.replace("    w = np.array(w_in, dtype=np.float64)",
                            "    raise ValueError('not today')\n    w = np.array(w_in, dtype=np.float64)")
    folder = make_submission(source, quiz=quiz_key_text())
    paths = {k: tmp_path / f"{k}" for k in ("html", "gradescope", "json")}
    done = run_grade("exercise3", "--submission", folder, "--html", paths["html"],
                     "--gradescope", paths["gradescope"], "--json", paths["json"])
    assert done.returncode == 0, done.stderr
    report = json.loads(paths["json"].read_text())
    scores = {p["name"]: p["score"] for p in report["parts"]}
    assert scores["compute_cost_logistic"] == 20 and scores["gradient_descent"] == 0 and scores["sigmoid"] < 15
    page = check_page(paths["html"].read_text())
    assert len(page.images) == 3  # sigmoid (both curves); cost history and boundary (reference only)
    assert "your cost history could not be drawn: gradient_descent() raised ValueError: not today" in page.text
    assert "your boundary could not be drawn" in page.text
    doc = json.loads(paths["gradescope"].read_text())
    assert gradescope_problems(doc) == [] and doc["score"] == report["score"]
    sigmoid_data = next(f for f in report["artifacts"]["figures"] if f["name"] == "sigmoid_curve")
    yours = next(s for s in sigmoid_data["series"] if s["label"] == "yours")
    assert yours["y"][0] > 0.99 and yours["y"][-1] < 0.01  # the student's flipped curve, from the worker


def test_terminal_grade_imports_neither_matplotlib_nor_nbconvert(tmp_path):
    code = (
        "import sys\nfrom grader.cli import main\n"
        f"sys.argv = ['grade', 'exercise3', '--submission', {str(REFERENCE)!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('HEAVY', sorted(m for m in ('matplotlib', 'nbconvert') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert "HEAVY []" in done.stdout, done.stdout + done.stderr
