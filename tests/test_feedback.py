"""Feedback a student takes in at a glance: failures with one cause are shown
once (what to fix first, one example, "in N of M checks"), with hints for the
mistakes students really make (a variable of the lab's notebook, shapes that do
not fit, a column where a vector is expected). The JSON report keeps every
test, and --verbose shows every failure in full."""
import json
import os
import textwrap
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import ROOT, quiz_key_text
from report_checks import check_page, gradescope_problems

from grader.course import Exercise, Part
from grader.grading.hints import failure_hint
from grader.grouping import failure_groups
from grader.render import gradescope, html, terminal
from grader.results import GradeResult, PartResult, load_json
from grader.results import TestResult as Check  # not collected as a test class
from grader.sandbox.outcome import Outcome
from grader.visibility import hide_hidden

# Both mistakes as students of the course this lab comes from made them.
NOTEBOOK_GLOBAL = '''
import numpy as np


def sigmoid(z):
    """The logistic function, elementwise."""
    g = np.zeros(X_train.shape[0])
    for i in range(X_train.shape[0]):
        g[i] = 1 / (1 + np.exp(-z[i]))
    return g


def compute_cost_logistic(X, y, w, b):
    f = sigmoid(X @ w + b)
    return np.mean(-y * np.log(f) - (1 - y) * np.log(1 - f))


def compute_gradient_logistic(X, y, w, b):
    err = sigmoid(X @ w + b) - y
    return np.mean(err), X.T @ err / X.shape[0]


def gradient_descent(X, y, w_in, b_in, alpha, num_iters):
    w, b, J_history = w_in.copy(), b_in, []
    for i in range(num_iters):
        dj_db, dj_dw = compute_gradient_logistic(X, y, w, b)
        w, b = w - alpha * dj_dw, b - alpha * dj_db
        J_history.append(compute_cost_logistic(X, y, w, b))
    return w, b, J_history
'''

GLOBAL_M_AND_MISPLACED_UPDATE = '''
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def compute_cost_logistic(X, y, w, b):
    cost = 0.0
    for i in range(m):
        f_wb_i = sigmoid(np.dot(X[i], w) + b)
        cost += -y[i] * np.log(f_wb_i) - (1 - y[i]) * np.log(1 - f_wb_i)
    return cost / m


def compute_gradient_logistic(X, y, w, b):
    m, n = X.shape
    dj_dw = np.zeros((n,))
    dj_db = 0.0
    for i in range(m):
        err_i = sigmoid(np.dot(X[i], w) + b) - y[i]
        for j in range(n):
            dj_dw[j] = dj_dw[j] + err_i * X[i, j]
            dj_db = dj_db + err_i
    return dj_db / m, dj_dw / m


def gradient_descent(X, y, w_in, b_in, alpha, num_iters):
    w, b, J_history = w_in.copy(), b_in, []
    for i in range(num_iters):
        dj_db, dj_dw = compute_gradient_logistic(X, y, w, b)
        w, b = w - alpha * dj_dw, b - alpha * dj_db
        J_history.append(compute_cost_logistic(X, y, w, b))
    return w, b, J_history
'''

SHAPES = GLOBAL_M_AND_MISPLACED_UPDATE.split("\n\ndef compute_cost_logistic")[0] + '''


def compute_cost_logistic(X, y, w, b):
    f = sigmoid(np.dot(w, X) + b)
    return np.mean(-y * np.log(f) - (1 - y) * np.log(1 - f))


def compute_gradient_logistic(X, y, w, b):
    err = (sigmoid(X @ w + b) - y).reshape(-1, 1)
    return float(np.mean(err)), X.T @ err / X.shape[0]


def gradient_descent(X, y, w_in, b_in, alpha, num_iters):
    w, b, J_history = w_in.copy(), b_in, []
    for i in range(num_iters):
        dj_db, dj_dw = compute_gradient_logistic(X, y, w, b)
        w, b = w - alpha * dj_dw, b - alpha * dj_db
        J_history.append(compute_cost_logistic(X, y, w, b))
    return w, b, J_history
'''

SIGMOID_HINT = "hint: X_train is a variable of the lab's notebook, not of sigmoid(): work from its argument z alone"
COST_HINT = ("hint: m is not defined in compute_cost_logistic() (a variable of your notebook?): "
             "compute it from the arguments, m = X.shape[0]")
GRADIENT_HINT = ("hint: dj_db is n times too large: add each example's error to dj_db once, "
                 "outside the loop over the features")


def grade(folder: Path, *options) -> tuple[str, dict]:
    """`grade exercise3 --submission folder --json ...` through click's runner: (terminal output, report)."""
    from grader.cli import cli

    report = folder.parent / f"{folder.name}.json"
    old = Path.cwd()
    os.chdir(ROOT)
    try:
        done = CliRunner().invoke(cli, ["exercise3", "--submission", str(folder), "--json", str(report),
                                        *map(str, options)], catch_exceptions=False)
    finally:
        os.chdir(old)
    assert done.exit_code == 0, done.output
    return done.output, json.loads(report.read_text())


def submission(tmp_path_factory, name: str, source: str) -> Path:
    folder = tmp_path_factory.mktemp(name) / "submission"
    folder.mkdir()
    (folder / "logistic_regression.py").write_text(source)
    (folder / "quiz.toml").write_text(quiz_key_text())
    return folder


def under(lines: list[str], part: str) -> list[str]:
    """The lines under the terminal line of `part`, up to the next part."""
    start = next(i for i, line in enumerate(lines) if line.lstrip("✓✗ ").startswith(part + " "))
    rest = lines[start + 1:]
    end = next((i for i, line in enumerate(rest) if line.startswith(("  ✓", "  ✗", "(", "Total"))), len(rest))
    return rest[:end]


@pytest.fixture(scope="module")
def notebook_global(tmp_path_factory):
    folder = submission(tmp_path_factory, "notebook_global", NOTEBOOK_GLOBAL)
    pages = folder.parent
    output, report = grade(folder, "--html", pages / "f.html", "--gradescope", pages / "gs.json")
    return output, report, folder.parent


@pytest.fixture(scope="module")
def global_m(tmp_path_factory):
    folder = submission(tmp_path_factory, "global_m", GLOBAL_M_AND_MISPLACED_UPDATE)
    return (folder, *grade(folder))


def test_a_notebook_variable_in_sigmoid_is_one_hint_on_one_screen(notebook_global):
    output, report, _ = notebook_global
    lines = output.splitlines()
    assert len(lines) <= 15, output
    sigmoid = under(lines, "sigmoid")
    assert sigmoid[0] == f"      {SIGMOID_HINT}"  # what to fix comes first
    assert sigmoid[1] == ("      - sigmoid of a number is a number: sigmoid() raised NameError: "
                          "name 'X_train' is not defined")
    assert "input: sigmoid(z = 3.0)" in sigmoid[3]  # the smallest input
    assert sigmoid[4] == "        (the same cause in 10 of 10 checks)"
    assert output.count("is not defined") == 1 and output.count("hint:") == 1
    assert "(--verbose shows every failing check in full)" in output
    assert {p["name"]: p["score"] for p in report["parts"]} == {
        "sigmoid": 0, "compute_cost_logistic": 20, "compute_gradient_logistic": 25, "gradient_descent": 20,
        "quiz": 20}


def test_a_report_json_keeps_every_test_and_verbose_shows_each(notebook_global):
    _, report, folder = notebook_global
    tests = report["parts"][0]["tests"]
    assert len(tests) == 10 and not any(t["passed"] for t in tests)
    assert all("NameError: name 'X_train' is not defined" in t["message"] for t in tests)
    assert {(t["hint"], t["cause"]) for t in tests} == {(SIGMOID_HINT.removeprefix("hint: "),
                                                          "sigmoid() raised NameError at line 7")}
    verbose = terminal.render(load_json(folder / "submission.json"), verbose=True)
    assert verbose.count("NameError: name 'X_train' is not defined") == 10
    assert verbose.count(SIGMOID_HINT) == 10 and "the same cause" not in verbose
    assert all(f"- {t['name']}: " in verbose for t in tests)


def test_a_feedback_page_and_gradescope_group_the_same_way(notebook_global):
    _, report, folder = notebook_global
    page = check_page((folder / "f.html").read_text())
    assert page.text.count(f"Hint: {SIGMOID_HINT.removeprefix('hint: ')}") == 1
    assert "(the same cause in 10 of 10 checks)" in page.text
    assert all(t["name"] in page.text for t in report["parts"][0]["tests"])  # every check, folded away
    doc = json.loads((folder / "gs.json").read_text())
    assert gradescope_problems(doc) == []
    sigmoid = [t for t in doc["tests"] if t["tags"] == ["sigmoid"]]
    assert [(t["name"], t["score"], t["max_score"], t["status"]) for t in sigmoid] == [
        ("sigmoid: sigmoid of a number is a number (and 9 more)", 0.0, 15.0, "failed")]
    assert sigmoid[0]["output"].startswith(SIGMOID_HINT + "\n\nsigmoid() raised NameError")
    assert "The same cause in 10 of 10 checks: sigmoid of a number is a number; sigmoid(0) is 0.5;" in sigmoid[0][
        "output"]
    assert doc["score"] == report["score"] == pytest.approx(sum(t["score"] for t in doc["tests"]), abs=0.01)


def test_b_notebook_m_in_the_cost_and_a_misplaced_update_in_the_gradient(global_m):
    _, output, report = global_m
    lines = output.splitlines()
    assert len(lines) <= 20, output  # two mistakes: two hints, two examples
    cost, gradient = under(lines, "compute_cost_logistic"), under(lines, "compute_gradient_logistic")
    assert cost[0] == f"      {COST_HINT}" and gradient[0] == f"      {GRADIENT_HINT}"
    assert cost[1].startswith("      - cost on the lab's data")  # the lab's own example
    assert cost[-1] == "        (the same cause in 8 of 8 checks)"
    assert gradient[1].startswith("      - gradient at w = [2, 3], b = 1 on the lab's data: result[0]: expected")
    assert gradient[-1] == "        (the same cause in 6 of 7 checks)"
    assert output.count("name 'm' is not defined") == 1 and output.count("result[0]: expected") == 1
    parts = {p["name"]: p for p in report["parts"]}
    assert [len(parts[n]["tests"]) for n in ("compute_cost_logistic", "compute_gradient_logistic")] == [8, 7]
    assert sum(not t["passed"] for t in parts["compute_gradient_logistic"]["tests"]) == 6
    assert all(t["hint"] == GRADIENT_HINT.removeprefix("hint: ")
               for t in parts["compute_gradient_logistic"]["tests"] if not t["passed"])


def test_b_verbose_shows_every_failing_check(global_m, tmp_path):
    folder, _, report = global_m
    output, again = grade(folder, "--verbose")
    assert output.count("name 'm' is not defined") == 8 and output.count("result[0]: expected") == 6
    assert output.count(COST_HINT) == 8 and output.count(GRADIENT_HINT) == 6
    assert "the same cause" not in output and "--verbose" not in output
    failing = [t["name"] for p in again["parts"][1:3] for t in p["tests"] if not t["passed"]]
    assert len(failing) == 14 and all(f"- {name}: " in output for name in failing)


def test_shapes_that_do_not_fit_are_named_with_the_transpose(tmp_path_factory):
    output, report = grade(submission(tmp_path_factory, "shapes", SHAPES))
    lines = output.splitlines()
    cost, gradient = under(lines, "compute_cost_logistic"), under(lines, "compute_gradient_logistic")
    assert cost[0] == ("      hint: compute_cost_logistic() received X (6, 2), y (6,), w (2,); a product in it has "
                       "inner sizes 2 and 6 (A @ B needs A's last size = B's first): try X.T, of shape (2, 6)")
    assert cost[-1] == "        (the same cause in 8 of 8 checks)"
    assert gradient[0] == ("      hint: result[1] is a column, shape (n, 1), where a 1-D array, shape (n,), is "
                           "expected: flatten it with .reshape(-1) or np.squeeze(...), or keep the arrays it comes "
                           "from 1-D")
    assert gradient[-1] == "        (the same cause in 7 of 7 checks)"
    random = next(t for t in report["parts"][1]["tests"] if t["name"].endswith("[300-25]"))
    assert "received X (300, 25), y (300,), w (25,)" in random["hint"] and "try X.T, of shape (25, 300)" in random[
        "hint"]


def numpy_error(operation) -> str:
    try:
        operation()
    except ValueError as exc:
        return str(exc)
    raise AssertionError("no error")


@pytest.fixture
def exercise3():
    from grader.course import Course

    return Course(ROOT).exercise("exercise3")


def test_broadcasting_and_product_errors_name_the_shapes_received(exercise3):
    X, y, w = np.ones((6, 2)), np.ones(6), np.ones(2)

    def hint(message):
        outcome = Outcome("compute_gradient_logistic", False, kind="exception", error_type="ValueError",
                          message=message)
        return failure_hint(outcome, (X, y, w, 1.0), exercise3)

    broadcast = hint(numpy_error(lambda: y * X))
    assert broadcast == ("compute_gradient_logistic() received X (6, 2), y (6,), w (2,); shapes (6,) and (6, 2) meet "
                         "in an elementwise operation, which needs sizes that match from the right (or are 1): "
                         "try X.T, or make the (6,) operand a column with .reshape(-1, 1)")
    assert hint(numpy_error(lambda: X @ y)).endswith("inner sizes 2 and 6 (A @ B needs A's last size = B's first): "
                                                     "try X.T, of shape (2, 6)")
    assert hint("could not convert string to float: 'a'") == ""


def test_notebook_names_come_from_the_notebook_and_sizes_from_the_docstrings(tmp_path):
    """A notebook that defines m (m, n = X_train.shape) makes m a notebook variable; the stub's
    docstring ("X: (m, n)") says what m is; a name neither defines gets no hint."""
    (tmp_path / "mod.py").write_text(textwrap.dedent('''
        def cost(X, y, w, b):
            """Args:
                X (ndarray (m,n)): examples.
                y: (m,) labels.
            """
            raise NotImplementedError
    '''))
    cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": source}
             for source in (["%matplotlib inline\n", "X_train = load()\n"], "m, n = X_train.shape\n",
                            "for i in range(3):\n    pass\n")]
    (tmp_path / "lab.ipynb").write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                                    "nbformat_minor": 5}))
    exercise = Exercise("lab", "lab", tmp_path, None, "mod", [Part("cost", "cost", 10, "test_cost.py")],
                        notebook_file="lab.ipynb")

    def hint(name):
        outcome = Outcome("cost", False, kind="exception", error_type="NameError",
                          message=f"name '{name}' is not defined")
        return failure_hint(outcome, (), exercise)

    assert hint("m") == ("m is a variable of the lab's notebook, not of cost(): "
                         "compute it from the arguments, m = X.shape[0]")
    assert hint("X_train") == "X_train is a variable of the lab's notebook, not of cost(): use its argument X instead"
    assert hint("i") == "" and hint("wieghts") == ""


def check(name, passed=False, message="", hint="", cause="", hidden=True, weight=1.0):
    return Check(name, passed, weight if passed else 0.0, weight, message, hidden, "", hint, cause)


def test_groups_join_one_cause_and_put_what_to_fix_first():
    part = PartResult("cost", 10, [
        check("a", message="raised ValueError: (3,) (4,)", cause="raised ValueError at line 3"),
        check("b", message="expected 1, got 2\nhint: divide by m", hint="divide by m"),
        check("lab", message="raised ValueError: (6,) (2,) and more", cause="raised ValueError at line 3",
              hidden=False),
        check("c", passed=True),
        check("d", message="expected 3, got 6\nhint: divide by m", hint="divide by m"),
        check("e", message="raised TypeError: unsupported operand\nhint: divide by m", hint="divide by m",
              cause="raised TypeError at 9"),
        check("f", message="raised TypeError", cause="raised TypeError at 9"),  # joins b, d, e through e
        check("g", message="not counted", weight=0.0),
        check("h", message="expected 5, got 4"),
        check("i", message="expected 5, got 4"),  # the same words, but no cause in common
    ])
    groups = failure_groups(part)
    # A hint first, then in the part's order, a check that carries no points last.
    assert [[t.name for t in g.tests] for g in groups] == [["b", "d", "e", "f"], ["a", "lab"], ["h"], ["i"], ["g"]]
    # The lab's own example; else the shortest message that shows the hint.
    assert [g.example.name for g in groups] == ["b", "lab", "h", "i", "g"]
    assert groups[0].hint == "divide by m" and groups[0].body() == "expected 1, got 2"
    lines = terminal.render(GradeResult("ex", 10, [part])).splitlines()
    assert lines[2:9] == ["      hint: divide by m", "      - b: expected 1, got 2",
                          "        (the same cause in 4 of 10 checks)",
                          "      - lab and 1 more: raised ValueError: (6,) (2,) and more",
                          "      - h: expected 5, got 4", "      - i: expected 5, got 4", "      - g: not counted"]


def test_an_old_report_without_hints_still_renders(tmp_path):
    old = {"exercise": "exercise3", "score": 0, "max_score": 15, "parts": [
        {"name": "sigmoid", "score": 0, "max_score": 15, "note": "", "tests": [
            {"name": f"t{i}", "passed": False, "score": 0.0, "max_score": 7.5, "message": f"timed out\ninput: {i}",
             "hidden": True, "output": ""} for i in (1, 2)]}]}
    (tmp_path / "report.json").write_text(json.dumps(old))
    result = load_json(tmp_path / "report.json")
    assert [(t.hint, t.cause) for t in result.parts[0].tests] == [("", ""), ("", "")]
    # No cause recorded: each failure on its own, the first in full.
    assert terminal.render(result).splitlines()[2:5] == ["      - t1: timed out", "        input: 1",
                                                         "      - t2: timed out"]
    assert "input: 1" in check_page(html.render(result)).text
    assert [t["name"] for t in json.loads(gradescope.render(result))["tests"]] == ["sigmoid: t1", "sigmoid: t2"]


def test_hidden_tests_lose_their_hints_and_are_counted_together():
    part = PartResult("sigmoid", 15, [check(f"t{i}", message=f"secret {i}\nhint: flip the sign", hint="flip the sign",
                                            cause="raised NameError at line 3") for i in range(3)])
    shown = hide_hidden(GradeResult("exercise3", 15, [part]))
    assert {(t.hint, t.cause) for t in shown.parts[0].tests} == {("", "hidden test failed")}
    text = terminal.render(shown)
    assert "flip the sign" not in text and "secret" not in text
    assert "      - hidden test 1: hidden test failed\n        (the same cause in 3 of 3 checks)" in text


def test_a_result_of_the_right_size_in_the_wrong_shape_says_how_to_fix_it():
    from grader.testing import reshape_advice

    column = reshape_advice((0.5, np.ones((3, 1))), (0.5, np.ones(3)))
    assert column.startswith("result[1] is a column, shape (n, 1), where a 1-D array, shape (n,), is expected")
    assert reshape_advice(np.ones((1, 4)), np.ones(4)).startswith("the result is a row, shape (1, n),")
    assert reshape_advice(np.ones(1), 0.5) == ("the result is an array of shape (1,), not a number: "
                                               "return float(...) or .item() of it")
    assert reshape_advice(np.ones((2, 3)), np.ones((3, 2))).endswith("is it transposed?")
    assert reshape_advice(np.ones(4), np.ones(3)) == "" and reshape_advice(np.ones((2, 2)), np.ones(4)) == ""


def test_a_notebook_whose_function_reads_the_notebooks_x_train_gets_the_hint(tmp_path):
    """In the notebook X_train exists, so sigmoid runs, and fails in ways that do
    not name the cause (an IndexError, a result of the lab's length): the
    grader reads the cause from the submission's source."""
    from nbfill import filled_notebook, write_notebook

    path = write_notebook(filled_notebook(NOTEBOOK_GLOBAL), tmp_path / "exercise3.ipynb")
    output, report = grade(path)
    sigmoid = under(output.splitlines(), "sigmoid")
    assert sigmoid[0] == ("      hint: sigmoid() reads X_train from the notebook, not from its arguments: "
                          "work from its argument z alone")
    assert sigmoid[-1] == "        (the same cause in 10 of 10 checks)"
    assert "IndexError" in "".join(t["message"] for t in report["parts"][0]["tests"])  # what it looked like


def test_only_the_notebooks_names_count_as_notebook_variables(exercise3):
    from grader.grading.hints import add_notebook_hints

    source = textwrap.dedent('''
        EPS = 1e-12
        def compute_cost_logistic(X, y, w, b):
            f = 1 / (1 + np.exp(-(X @ w + b)))
            return -np.mean(y * np.log(f + EPS) + (1 - y) * np.log(1 - f + EPS))
        def compute_gradient_logistic(X, y, w, b):
            m = len(y)
            err = 1 / (1 + np.exp(-(X @ w + b))) - y_train
            return err.sum() / m, X.T @ err / m
    ''')
    results = {"compute_cost_logistic": [check("cost", message="expected 1, got 2")],
               "compute_gradient_logistic": [check("gradient", message="expected 1, got 2")]}
    add_notebook_hints(results, source, exercise3)
    assert results["compute_cost_logistic"][0].hint == ""  # EPS is the student's own constant; m is set
    assert results["compute_gradient_logistic"][0].hint == (
        "compute_gradient_logistic() reads y_train from the notebook, not from its arguments: use its argument y "
        "instead")
    assert results["compute_gradient_logistic"][0].message.endswith("\nhint: " + results[
        "compute_gradient_logistic"][0].hint)
