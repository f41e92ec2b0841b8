"""Verdicts per part on a corpus of submissions: correct ones written in
different styles get full marks; each realistic bug loses points in the part
that holds it, and only there, with a message that names the mistake."""
import ast
import textwrap
from pathlib import Path

import pytest
from conftest import ROOT, quiz_key_text

from grader.course import Course
from grader.grading import grade
from grader.render import terminal
from grader.submissions import load_submission

CORPUS = Path(__file__).parent / "corpus"
BASE = (CORPUS / "correct_vectorized.py").read_text()
PARTS = ["sigmoid", "compute_cost_logistic", "compute_gradient_logistic", "gradient_descent", "quiz"]

# name: (part holding the bug, replacement function, text the failure must show)
BUGS = {
    "sigmoid_sign_flipped": ("sigmoid", """
        def sigmoid(z):
            return 1 / (1 + np.exp(z))""", "the sign is flipped"),
    "sigmoid_math_exp": ("sigmoid", """
        def sigmoid(z):
            import math
            return 1 / (1 + math.exp(-z))""", "use np.exp"),
    "cost_no_sigmoid": ("compute_cost_logistic", """
        def compute_cost_logistic(X, y, w, b):
            f = X @ w + b
            return np.mean(-y * np.log(f) - (1 - y) * np.log(1 - f))""", "sigmoid was left out"),
    "cost_missing_1_over_m": ("compute_cost_logistic", """
        def compute_cost_logistic(X, y, w, b):
            f = sigmoid(X @ w + b)
            return np.sum(-y * np.log(f) - (1 - y) * np.log(1 - f))""", "divide the sum by m"),
    "cost_sign_flipped": ("compute_cost_logistic", """
        def compute_cost_logistic(X, y, w, b):
            f = sigmoid(X @ w + b)
            return np.mean(y * np.log(f) + (1 - y) * np.log(1 - f))""", "the sign is flipped"),
    "cost_ignores_b": ("compute_cost_logistic", """
        def compute_cost_logistic(X, y, w, b):
            f = sigmoid(X @ w)
            return np.mean(-y * np.log(f) - (1 - y) * np.log(1 - f))""", "bias b seems to be ignored"),
    "gradient_order_swapped": ("compute_gradient_logistic", """
        def compute_gradient_logistic(X, y, w, b):
            err = sigmoid(X @ w + b) - y
            return X.T @ err / len(y), np.mean(err)""", "return order is swapped"),
    "gradient_missing_1_over_m": ("compute_gradient_logistic", """
        def compute_gradient_logistic(X, y, w, b):
            err = sigmoid(X @ w + b) - y
            return np.sum(err), X.T @ err""", "divide the sums by m"),
    "gradient_dw_missing_1_over_m": ("compute_gradient_logistic", """
        def compute_gradient_logistic(X, y, w, b):
            err = sigmoid(X @ w + b) - y
            return np.mean(err), X.T @ err""", "dj_dw is m times too large"),
    "gradient_no_sigmoid": ("compute_gradient_logistic", """
        def compute_gradient_logistic(X, y, w, b):
            err = X @ w + b - y
            return np.mean(err), X.T @ err / len(y)""", "sigmoid was left out"),
    "gradient_ignores_b": ("compute_gradient_logistic", """
        def compute_gradient_logistic(X, y, w, b):
            err = sigmoid(X @ w) - y
            return np.mean(err), X.T @ err / len(y)""", "bias b seems to be ignored"),
    "gradient_sign_flipped": ("compute_gradient_logistic", """
        def compute_gradient_logistic(X, y, w, b):
            err = y - sigmoid(X @ w + b)
            return np.mean(err), X.T @ err / len(y)""", "the error is f_wb(x_i) - y_i"),
    "gradient_hardcoded_shape": ("compute_gradient_logistic", """
        def compute_gradient_logistic(X, y, w, b):
            err = sigmoid(X @ w + b) - y
            return np.sum(err) / 6, X.T @ err / 6""", "expected"),
    "descent_mutates_w_in": ("gradient_descent", """
        def gradient_descent(X, y, w_in, b_in, alpha, num_iters):
            w, b, history = w_in, b_in, []
            for _ in range(num_iters):
                db, dw = compute_gradient_logistic(X, y, w, b)
                w -= alpha * dw
                b -= alpha * db
                history.append(compute_cost_logistic(X, y, w, b))
            return w, b, history""", "changed its argument w_in in place"),
    "descent_not_simultaneous": ("gradient_descent", """
        def gradient_descent(X, y, w_in, b_in, alpha, num_iters):
            w, b, history = w_in.copy(), b_in, []
            for _ in range(num_iters):
                w = w - alpha * compute_gradient_logistic(X, y, w, b)[1]
                b = b - alpha * compute_gradient_logistic(X, y, w, b)[0]
                history.append(compute_cost_logistic(X, y, w, b))
            return w, b, history""", "not simultaneous"),
    "descent_cost_before_update": ("gradient_descent", """
        def gradient_descent(X, y, w_in, b_in, alpha, num_iters):
            w, b, history = w_in.copy(), b_in, []
            for _ in range(num_iters):
                history.append(compute_cost_logistic(X, y, w, b))
                db, dw = compute_gradient_logistic(X, y, w, b)
                w, b = w - alpha * dw, b - alpha * db
            return w, b, history""", "record it after the update"),
    "descent_uphill": ("gradient_descent", """
        def gradient_descent(X, y, w_in, b_in, alpha, num_iters):
            w, b, history = w_in.copy(), b_in, []
            for _ in range(num_iters):
                db, dw = compute_gradient_logistic(X, y, w, b)
                w, b = w + alpha * dw, b + alpha * db
                history.append(compute_cost_logistic(X, y, w, b))
            return w, b, history""", "goes uphill"),
    "descent_one_cost_short": ("gradient_descent", """
        def gradient_descent(X, y, w_in, b_in, alpha, num_iters):
            w, b, history = w_in.copy(), b_in, []
            for _ in range(num_iters - 1):
                db, dw = compute_gradient_logistic(X, y, w, b)
                w, b = w - alpha * dw, b - alpha * db
                history.append(compute_cost_logistic(X, y, w, b))
            return w, b, history""", "J_history needs num_iters costs"),
    "descent_still_a_stub": ("gradient_descent", """
        def gradient_descent(X, y, w_in, b_in, alpha, num_iters):
            raise NotImplementedError""", "not implemented yet"),
}


def with_function(base: str, replacement: str) -> str:
    """`base` with the function of the same name replaced by `replacement`."""
    new = ast.parse(textwrap.dedent(replacement)).body[0]
    tree = ast.parse(base)
    tree.body = [new if isinstance(n, ast.FunctionDef) and n.name == new.name else n for n in tree.body]
    return ast.unparse(tree)


@pytest.fixture(scope="module")
def exercise():
    return Course(ROOT).exercise("exercise3")


def grade_source(exercise, folder, source):
    folder.mkdir()
    (folder / "logistic_regression.py").write_text(source)
    (folder / "quiz.toml").write_text(quiz_key_text())
    return grade(exercise, load_submission(exercise, folder))


@pytest.mark.parametrize("name", sorted(p.stem for p in CORPUS.glob("correct_*.py")))
def test_correct_styles_get_full_marks(exercise, tmp_path, name):
    result = grade_source(exercise, tmp_path / name, (CORPUS / f"{name}.py").read_text())
    failing = [f"{p.name}/{t.name}: {t.message}" for p in result.parts for t in p.tests if not t.passed]
    assert failing == []
    assert result.score == 100


@pytest.mark.parametrize("name", sorted(BUGS))
def test_bug_costs_points_only_in_its_part(exercise, tmp_path, name):
    part, replacement, shown = BUGS[name]
    result = grade_source(exercise, tmp_path / name, with_function(BASE, replacement))
    scores = {p.name: (p.score, p.max_score) for p in result.parts}
    assert scores[part][0] < scores[part][1], f"{name} was not caught"
    assert {n: s for n, (s, m) in scores.items() if n != part} == {
        n: m for n, (s, m) in scores.items() if n != part}, f"{name} cost points outside {part}"
    messages = "\n".join(t.message for t in result.part(part).tests if not t.passed)
    assert shown in messages
    assert "input:" in messages or "not implemented" in messages
    for verbose in (False, True):  # the report that groups failures still names the mistake
        assert shown in terminal.render(result, verbose=verbose)


def test_consistent_swap_costs_only_the_gradient_part(exercise, tmp_path):
    """A student who returns (dj_dw, dj_db) and unpacks it the same way in
    gradient_descent has the descent right: only the gradient part loses."""
    source = with_function(BASE, BUGS["gradient_order_swapped"][1]).replace(
        "db, dw = compute_gradient_logistic(X, y, w, b)", "dw, db = compute_gradient_logistic(X, y, w, b)")
    result = grade_source(exercise, tmp_path / "swap", source)
    scores = {p.name: p.score for p in result.parts}
    assert scores == {"sigmoid": 15, "compute_cost_logistic": 20, "compute_gradient_logistic": 0,
                      "gradient_descent": 20, "quiz": 20}


def test_failure_says_which_reference_functions_stood_in(exercise, tmp_path):
    source = with_function(with_function(BASE, BUGS["sigmoid_sign_flipped"][1]), BUGS["cost_missing_1_over_m"][1])
    result = grade_source(exercise, tmp_path / "two_bugs", source)
    failing = [t.message for t in result.part("compute_cost_logistic").tests if not t.passed]
    assert failing and all("note: sigmoid() of the reference stood in for yours" in m for m in failing)
    assert result.part("gradient_descent").score == 20


def test_a_loop_style_lab_run_slowed_by_the_reference_sigmoid_costs_nothing_in_descent(exercise, tmp_path):
    """Loops call sigmoid once per example: with the reference's sigmoid standing
    in for a wrong one, the lab's 10000-step run needs 120000 round trips to the
    grader and cannot finish in time. That test is then not counted (the run
    finishes with the student's own functions), and the other descent tests,
    short runs, decide the part: the sigmoid mistake costs only sigmoid."""
    loops = (CORPUS / "correct_loops.py").read_text()
    source = with_function(loops, BUGS["sigmoid_sign_flipped"][1])
    result = grade_source(exercise, tmp_path / "loops_sign", source)
    scores = {p.name: p.score for p in result.parts}
    assert scores["sigmoid"] < 15
    assert {n: s for n, s in scores.items() if n != "sigmoid"} == {
        "compute_cost_logistic": 20, "compute_gradient_logistic": 25, "gradient_descent": 20, "quiz": 20}
    descent = result.part("gradient_descent").tests
    uncounted = [t for t in descent if t.max_score == 0]
    assert [t.name for t in uncounted] == ["the lab's run: alpha 0.1, 10000 iterations from w = [0, 0], b = 0"]
    assert uncounted[0].message.startswith("not counted: with the reference's sigmoid() standing in for yours")
    assert all(t.passed for t in descent if t.max_score)
