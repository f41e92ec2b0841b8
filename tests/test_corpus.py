"""Verdicts per part on a corpus of submissions: correct ones written in
different styles get full marks; each realistic bug loses points in the part
that holds it, and only there, with a message that names the mistake."""
import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
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
    # One cause, one screen: within 20 lines, and a known mistake's hint before the failure it explains.
    report = terminal.render(result).splitlines()
    assert len(report) <= 20, "\n".join(report)
    hints = [i for i, line in enumerate(report) if line.strip().startswith("hint:")]
    failures = [i for i, line in enumerate(report) if line.strip().startswith("- ")]
    if hints:
        assert failures and hints[0] < failures[0]


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


LOOPS = (CORPUS / "correct_loops.py").read_text()


@pytest.mark.parametrize("bug", ["sigmoid_sign_flipped", "cost_missing_1_over_m"])
def test_a_loop_style_lab_run_with_a_reference_stand_in_is_judged_on_its_own_merit(exercise, tmp_path, bug):
    """Loops call sigmoid once per example and the cost once per step: the lab's
    10000-step run calls a wrong one's stand-in 120000 (or 10000) times. Their
    time is not the student's, so the run is counted like any other, and passes:
    the mistake costs only its own part. It also proves the stand-in ran: with
    the student's own function the lab's figures come out wrong."""
    part = BUGS[bug][0]
    result = grade_source(exercise, tmp_path / bug, with_function(LOOPS, BUGS[bug][1]))
    scores = {p.name: p.score for p in result.parts}
    assert scores[part] < result.part(part).max_score
    assert {n: s for n, s in scores.items() if n != part} == {
        n: m for n, m in {"sigmoid": 15, "compute_cost_logistic": 20, "compute_gradient_logistic": 25,
                          "gradient_descent": 20, "quiz": 20}.items() if n != part}
    descent = result.part("gradient_descent").tests
    assert all(t.passed and t.max_score > 0 for t in descent)


# -- numbers, not containers ------------------------------------------------------------------

STABLE_WHERE = """
    def sigmoid(z):
        z = np.asarray(z, dtype=float)
        e = np.exp(-np.abs(z))
        return np.where(z >= 0, 1 / (1 + e), e / (1 + e))"""
ZERO_D = """
    def sigmoid(z):
        return np.asarray(1 / (1 + np.exp(-np.asarray(z, dtype=float))))"""
GRADIENT_AS_LIST = """
    def compute_gradient_logistic(X, y, w, b):
        err = sigmoid(X @ w + b) - y
        return float(np.mean(err)), [float(v) for v in X.T @ err / len(y)]"""
PAIR_AS_LIST = """
    def compute_gradient_logistic(X, y, w, b):
        err = sigmoid(X @ w + b) - y
        return [np.mean(err), list(X.T @ err / len(y))]"""


# What a student who returns lists writes in their own descent.
DESCENT_OF_LISTS = BASE.replace("w - alpha * dw", "w - alpha * np.asarray(dw)")


@pytest.mark.parametrize("replacement", [STABLE_WHERE, ZERO_D, GRADIENT_AS_LIST, PAIR_AS_LIST],
                         ids=["stable np.where sigmoid", "0-d array sigmoid", "dj_dw as a list", "a list of lists"])
def test_right_numbers_in_another_plain_container_get_full_marks(exercise, tmp_path, replacement):
    result = grade_source(exercise, tmp_path / "sub", with_function(DESCENT_OF_LISTS, replacement))
    failing = [f"{p.name}/{t.name}: {t.message}" for p in result.parts for t in p.tests if not t.passed]
    assert failing == []
    assert result.score == 100


SIGMOID_AS_LIST = """
    def sigmoid(z):
        return (1 / (1 + np.exp(-np.asarray(z, dtype=float)))).tolist()"""


@pytest.mark.parametrize("replacement, part", [(GRADIENT_AS_LIST, "compute_gradient_logistic"),
                                               (PAIR_AS_LIST, "compute_gradient_logistic"),
                                               (SIGMOID_AS_LIST, "sigmoid")],
                         ids=["dj_dw as a list", "a list of lists", "sigmoid as a list"])
def test_a_list_judged_right_costs_no_later_part_whose_arithmetic_it_would_break(exercise, tmp_path,
                                                                                  replacement, part):
    # BASE's own code does arithmetic on what its helpers return (`w - alpha * dw`, `1 - f`):
    # with a list there it would raise, though each function is right by its numbers.
    result = grade_source(exercise, tmp_path / "sub", with_function(BASE, replacement))
    failing = [f"{p.name}/{t.name}: {t.message}" for p in result.parts for t in p.tests if not t.passed]
    assert failing == []
    assert result.score == 100
    note = result.part(part).note
    assert note.startswith("gives a list where the lab's gives an array: judged by its numbers"), note
    assert "later parts ran with the reference's in its place (np.array(...) makes one)" in note
    assert [p.name for p in result.parts if p.note] == [part]


def test_a_module_may_use_what_every_python_program_has(exercise, tmp_path):
    """The worker starts without running `site`, yet what a program may use of it
    (help() and the other builtins it adds, sys.prefix) and of its output
    streams (encoding, writelines) works as under `python`."""
    prologue = textwrap.dedent("""
        import sys
        help(np.exp)
        print(type(copyright).__name__, type(credits).__name__, type(license).__name__, type(exit).__name__)
        sys.stdout.writelines([sys.stdout.encoding, "\\n"])
        assert sys.prefix == PREFIX, sys.prefix
        """).replace("PREFIX", repr(sys.prefix))
    source = BASE.replace("import numpy as np\n", "import numpy as np\n" + prologue, 1)
    assert source != BASE
    result = grade_source(exercise, tmp_path / "sub", source)
    failing = [f"{p.name}/{t.name}: {t.message}" for p in result.parts for t in p.tests if not t.passed]
    assert failing == [] and result.score == 100


def test_public_checks_say_a_list_may_break_the_code_that_calls_it(grade_cli, tmp_path):
    """With the public checks alone (a student bundle) no reference stands in: the
    note on the part that gives a list tells why the later part fails."""
    assert grade_cli("release", "exercise3", "--out", tmp_path / "bundle").exit_code == 0
    public = Course(tmp_path / "bundle").exercise("exercise3")
    result = grade_source(public, tmp_path / "sub", with_function(BASE, GRADIENT_AS_LIST))
    note = result.part("compute_gradient_logistic").note
    assert note.startswith("gives a list where the lab's gives an array"), note
    assert note.endswith("so code that calls it may fail (np.array(...) makes one)"), note
    assert result.public_only and not result.part("gradient_descent").tests[0].passed


def test_the_stable_sigmoid_from_the_issue_gets_full_marks_from_the_grade_command(make_submission, run_grade):
    folder = make_submission(with_function(BASE, STABLE_WHERE), quiz_key_text())
    proc = run_grade("exercise3", "--submission", folder)
    assert proc.returncode == 0, proc.stderr
    assert "Total: 100 / 100" in proc.stdout


def test_a_column_for_a_flat_array_still_fails_with_a_hint_to_flatten(exercise, tmp_path):
    source = with_function(BASE, """
        def compute_gradient_logistic(X, y, w, b):
            err = sigmoid(X @ w + b) - y
            return float(np.mean(err)), (X.T @ err / len(y)).reshape(-1, 1)""")
    result = grade_source(exercise, tmp_path / "column", source)
    assert result.part("compute_gradient_logistic").score == 0
    first = result.part("compute_gradient_logistic").tests[0].message
    assert "expected shape (2,), got shape (2, 1): the right number of values in another shape; flatten it" in first


@pytest.mark.parametrize("got, expected, verdict", [
    ([0.5, 0.25], np.array([0.5, 0.25]), None),
    ((1, np.float32(2.0)), np.array([1.0, 2.0]), None),
    ([[1.0], [2.0]], np.array([[1.0], [2.0]]), None),
    (0.5, np.asarray(0.5), None),
    (np.asarray(0.5), 0.5, None),
    ([0.5, 0.3], np.array([0.5, 0.25]), "the result: expected [0.5 , 0.25], got [0.5, 0.3] (1 of 2 values differ)"),
    ([1.0, 2.0], np.array([[1.0], [2.0]]), "the result: expected shape (2, 1), got shape (2,): the right number of "
                                           "values in another shape; reshape it to (2, 1)"),
    ([[1.0], [2.0, 3.0]], np.array([1.0, 2.0]), "the result: expected a numpy array of shape (2,), got a list"),
    ([True, False], np.array([1.0, 0.0]), "the result: expected a numpy array of shape (2,), got a list"),
    ([0.5], 0.5, "the result: expected a number, got a list"),
    (np.array([0.5]), 0.5, "the result: expected a number, got an array of shape (1,)"),
    (np.array([1, "a"], dtype=object), np.array([1.0, 2.0]), "the result: expected numbers, got dtype object"),
], ids=repr)
def test_plain_numbers_are_judged_by_value_and_shapes_still_count(got, expected, verdict):
    from grader.testing import problem

    assert problem(got, expected, "") == verdict


def test_a_float_subclass_in_a_list_is_still_the_wrong_type():
    from grader.sandbox.wire import Opaque
    from grader.testing import problem

    assert problem([0.5, Opaque("m.Cost", "")], np.array([0.5, 0.25]), "") == \
        "the result: expected a numpy array of shape (2,), got a list"


# -- verdicts that never depend on the machine -----------------------------------------------

STEADY = {
    "vectorized, sigmoid sign flipped": with_function(BASE, BUGS["sigmoid_sign_flipped"][1]),
    "vectorized, cost without 1/m": with_function(BASE, BUGS["cost_missing_1_over_m"][1]),
    "vectorized, descent not simultaneous": with_function(BASE, BUGS["descent_not_simultaneous"][1]),
    "loops, sigmoid sign flipped": with_function(LOOPS, BUGS["sigmoid_sign_flipped"][1]),
    "loops, sigmoid with math.exp": with_function(LOOPS, BUGS["sigmoid_math_exp"][1]),
    "loops, cost without 1/m": with_function(LOOPS, BUGS["cost_missing_1_over_m"][1]),
    "loops, dj_dw without 1/m": with_function(LOOPS, BUGS["gradient_dw_missing_1_over_m"][1]),
}


def verdicts(result):
    return {(p.name, t.name): (t.passed, t.score, t.max_score, t.message) for p in result.parts for t in p.tests}


def test_verdicts_are_the_same_on_a_busy_machine(exercise, tmp_path):
    """One-bug submissions, loop-style ones among them (their lab runs call a
    wrong function's stand-in thousands of times), graded alone and again while
    two CPU-bound processes keep both cores busy: every test's verdict, score
    and message are the same."""
    quiet = {name: verdicts(grade_source(exercise, tmp_path / f"quiet{i}", source))
             for i, (name, source) in enumerate(STEADY.items())}
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        busy = {name: verdicts(grade_source(exercise, tmp_path / f"busy{i}", source))
                for i, (name, source) in enumerate(STEADY.items())}
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    for name in STEADY:
        assert busy[name] == quiet[name], name
    # Not a vacuous comparison: each submission lost points, and only some.
    assert all(0 < sum(s for _, s, _, _ in v.values()) < 100 for v in quiet.values())


# -- early checks on exercise3 -----------------------------------------------------------------

@pytest.mark.parametrize("source, unrun", [
    (BASE, []),  # right helpers: the lab's run is made early, and taken
    (with_function(BASE, BUGS["sigmoid_sign_flipped"][1]), ["gradient_descent"]),
    (with_function(BASE, BUGS["gradient_missing_1_over_m"][1]), ["gradient_descent"]),
    (with_function(BASE, STABLE_WHERE), []),
    # a list where the lab returns an array: the reference stands in for it in the descent's tests
    (with_function(DESCENT_OF_LISTS, GRADIENT_AS_LIST), ["gradient_descent"]),
])
def test_the_lab_run_is_made_early_only_on_helpers_that_pass_their_checks(exercise, make_submission, source, unrun):
    from grader.sandbox.session import Sandbox

    submission = load_submission(exercise, make_submission(source, quiz_key_text()))
    sandbox = Sandbox.for_exercise(exercise, submission.source)
    result = grade(exercise, submission, sandbox=sandbox, early_calls=True)
    assert sandbox.unrun == unrun
    assert result.part("gradient_descent").score == 20  # a right descent, whatever its helpers
    assert "unused_early_calls" not in result.artifacts  # when run early, a test took it
