"""One cause, one screen: a report whose parts each fail for one cause fits
in 20 lines, with the hint before the failure it explains; --verbose and
--json still hold every failing check in full."""
import json
import re

from conftest import REFERENCE, quiz_key_text
from nbfill import filled_notebook, write_notebook

from grader.course import tomllib

FUNCTIONS = ["sigmoid", "compute_cost_logistic", "compute_gradient_logistic", "gradient_descent"]
# A real student's cost: a loop over the notebook's global m, and the division by m slipped out of its block.
SLIPPED_COST = '''def compute_cost_logistic(X, y, w, b):
    cost = 0.0
    for i in range(m):
        z_i = np.dot(X[i], w) + b
        f_wb_i = sigmoid(z_i)
        cost += -y[i] * np.log(f_wb_i) - (1 - y[i]) * np.log(1 - f_wb_i)
      cost = cost / m
    return cost
'''
GLOBAL_M_COST = SLIPPED_COST.replace("      cost = cost / m", "    cost = cost / m")


def with_cost(cost: str) -> str:
    source = REFERENCE.read_text()
    start, end = source.index("def compute_cost_logistic"), source.index("def compute_gradient_logistic")
    return source[:start] + cost + "\n\n" + source[end:]


def notebook_with_cost(folder, cost: str):
    nb = filled_notebook(REFERENCE.read_text(), tomllib.loads(quiz_key_text()))
    cell = next(c for c in nb.cells if c.cell_type == "code" and "def compute_cost_logistic" in c.source)
    cell.source = cost
    path = folder / "lab.ipynb"
    write_notebook(nb, path)
    return path


def hint_first(lines: list) -> None:
    hint = next(i for i, line in enumerate(lines) if line.strip().startswith("hint:"))
    failure = next(i for i, line in enumerate(lines) if line.strip().startswith("- "))
    assert hint < failure


def test_an_indentation_slip_is_shown_once_with_its_hint_first(grade_cli, make_submission, tmp_path):
    folder = make_submission(with_cost(SLIPPED_COST), quiz_key_text())
    run = grade_cli("exercise3", "--submission", folder, "--json", tmp_path / "r.json")
    lines = run.output.splitlines()
    assert len(lines) <= 20, run.output
    hint_first(lines)
    assert "`cost = cost / m` is indented by an amount that no line above it in its block has" in run.output
    assert run.output.count("IndentationError") == 1  # one cause: said once, not once per part
    assert all(re.search(rf"✗ {fn} .* module could not be imported", run.output) for fn in FUNCTIONS)
    assert "Total: 20 / 100" in run.output
    # --verbose and --json keep every part's failure in full.
    verbose = grade_cli("exercise3", "--submission", folder, "--verbose")
    assert verbose.output.count("IndentationError") == len(FUNCTIONS)
    report = json.loads((tmp_path / "r.json").read_text())
    failed = [t for p in report["parts"] for t in p["tests"] if not t["passed"]]
    assert len(failed) == len(FUNCTIONS) and all("IndentationError" in t["message"] and t["hint"] for t in failed)


def test_the_same_slip_in_a_notebook_names_the_cell(grade_cli, tmp_path):
    run = grade_cli("exercise3", "--submission", notebook_with_cost(tmp_path, SLIPPED_COST))
    lines = run.output.splitlines()
    assert len(lines) <= 20, run.output
    hint_first(lines)
    assert run.output.count("IndentationError") == 1 and re.search(r"code cell \d+, line 7", run.output)


def test_a_notebook_global_in_a_function_is_one_screen_with_the_fix_first(grade_cli, tmp_path):
    run = grade_cli("exercise3", "--submission", notebook_with_cost(tmp_path, GLOBAL_M_COST))
    lines = run.output.splitlines()
    assert len(lines) <= 20, run.output
    hint_first(lines)
    assert "m = X.shape[0]" in run.output  # the hint says what to use instead of the notebook's m
    assert "✓ sigmoid" in run.output and "✓ gradient_descent" in run.output
