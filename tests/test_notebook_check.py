"""Checking work inside the notebook: `from grader import check`, then
`check("sigmoid")` or `check()`, grades the functions as the running kernel
defines them, through the sandbox and the same suites as `grade`.

The kernel tests run the lab notebook (and the student bundle's copy of it)
in a real kernel, one kernel per run, and read what its check cells showed,
as HTML and as text."""
import linecache
import re
import subprocess
import sys

import nbformat
import pytest
from conftest import REFERENCE, ROOT, quiz_key_text
from nbfill import LAB_NOTEBOOK, filled_notebook, run_notebook, student_cell

from grader.course import tomllib

KEY = tomllib.loads(quiz_key_text())
PARTS = ["sigmoid", "compute_cost_logistic", "compute_gradient_logistic", "gradient_descent"]
POINTS = {"sigmoid": 15, "compute_cost_logistic": 20, "compute_gradient_logistic": 25, "gradient_descent": 20}

# gradient_descent records the cost before each update instead of after (the
# parts before it stay right, so no reference stands in over the wire).
MIXED = REFERENCE.read_text().replace(
    "        J_history.append(compute_cost_logistic(X, y, w, b))\n", "").replace(
    "        dj_db, dj_dw = compute_gradient_logistic(X, y, w, b)\n",
    "        J_history.append(compute_cost_logistic(X, y, w, b))\n"
    "        dj_db, dj_dw = compute_gradient_logistic(X, y, w, b)\n")
assert MIXED != REFERENCE.read_text()
COST = re.search(r"def compute_cost_logistic.*?return float\(np.mean\(losses\)\)", REFERENCE.read_text(), re.S)[0]
COST_WITHOUT_BIAS = COST.replace("z = X @ w + b", "z = X @ w")
assert COST_WITHOUT_BIAS != COST


def check_cells(nb) -> dict:
    """The check cells of a notebook by what they check: a part's function, or "all" for check()."""
    found = {}
    for cell in nb.cells:
        if "check" in cell.metadata.get("tags", []):
            asked = re.search(r'check\("(\w+)"\)', cell.source)
            found[asked[1] if asked else "all"] = cell
    return found


def shown(cell) -> tuple[str, str]:
    """(text/plain, text/html) of the value a cell displayed, after asserting it raised nothing."""
    assert not [o for o in cell.outputs if o.output_type == "error"], cell.outputs
    (result,) = [o for o in cell.outputs if o.output_type == "execute_result"]
    return result.data["text/plain"], result.data["text/html"]


def add_cells(nb, *sources):
    """Append code cells; returns their indexes."""
    start = len(nb.cells)
    nb.cells.extend(nbformat.v4.new_code_cell(s) for s in sources)
    return list(range(start, len(nb.cells)))


# -- in a real kernel -------------------------------------------------------------

def test_lab_notebook_checks_a_correct_solution_and_follows_edits():
    """The reference in the lab notebook: every check cell passes, with the
    exercise's figures; then, in the same kernel, a cell redefining the cost
    with a bug makes its check fail with the input, expected vs got and the
    hint, fixing it makes it pass again, and a syntax error is told as such."""
    nb = filled_notebook(REFERENCE.read_text(), KEY)
    extra = add_cells(
        nb,
        f"import numpy as np\n\n{COST_WITHOUT_BIAS}",
        "check(compute_cost_logistic)",
        f"{COST}\n\ncheck('compute_cost_logistic')",
        "def sigmoid(z):\n    return 1 / 0\n\ncheck('sigmoid')",
        "def sigmoid(z):\n    return 1 / (1 + np.exp(-z)\n",
        "check(sigmoid)",
        "check('predict')",
        "from grader import check as check_again\nresult = check('sigmoid', exercise='exercise3')\n"
        "print(type(result).__name__, result.passed, result.error != '')",
    )
    run_notebook(nb, LAB_NOTEBOOK.parent, allow_errors=True)
    cells = check_cells(nb)
    assert set(cells) == {*PARTS, "all"}
    for name in PARTS:
        text, html = shown(cells[name])
        assert f"✓ {name}" in text and f"{POINTS[name]} / {POINTS[name]}" in text, text
        assert "✗" not in html and f"<b>{name}</b>" in html and f"{POINTS[name]} / {POINTS[name]} points" in html
        assert "<script" not in html.lower()
    # The figures the manifest declares: the sigmoid curve, and the two of the training run.
    assert shown(cells["sigmoid"])[1].count("<img") == 1
    assert shown(cells["gradient_descent"])[1].count("<img") == 2
    assert shown(cells["compute_cost_logistic"])[1].count("<img") == 0
    text, html = shown(cells["all"])
    assert "Total: 100 / 100" in text and "100 / 100 points" in html
    assert all(f"✓ {name}" in text for name in [*PARTS, "quiz"])

    buggy_text, buggy_html = shown(nb.cells[extra[1]])
    assert "✗ compute_cost_logistic" in buggy_text and "0 / 20" in buggy_text
    assert "hint: the bias b seems to be ignored" in buggy_text
    assert "0 / 20 points, 0 of 8 checks passed" in buggy_html
    for label in ("expected", "got", "input", "hint"):
        assert f">{label}</th>" in buggy_html
    assert "the bias b seems to be ignored" in buggy_html and "compute_cost_logistic(X = " in buggy_html

    fixed_text, fixed_html = shown(nb.cells[extra[2]])
    assert "✓ compute_cost_logistic" in fixed_text and "20 / 20" in fixed_text and "✗" not in fixed_html

    # A student's error is told as a place in the cell, as IPython tells it.
    text, html = shown(nb.cells[extra[3]])
    where = f"Cell In[{nb.cells[extra[3]].execution_count}], line 2: return 1 / 0"
    assert "sigmoid() raised ZeroDivisionError: division by zero" in text and f"at {where}" in text
    assert ">where</th>" in html and where in html

    assert [o.ename for o in nb.cells[extra[4]].outputs if o.output_type == "error"] == ["SyntaxError"]
    text, html = shown(nb.cells[extra[5]])
    message = "the cell that defines sigmoid has a syntax error (line 2: return 1 / (1 + np.exp(-z))"
    assert message in text and message in html
    assert "so sigmoid cannot be defined: fix it and run the cell again" in text

    text, html = shown(nb.cells[extra[6]])
    assert "predict is not a function of exercise3" in text and "predict is not a function of exercise3" in html
    assert nb.cells[extra[7]].outputs[0].text.strip() == "Checked False True"


def test_lab_notebook_with_one_bug():
    """A wrong gradient_descent in the lab notebook: its check cell fails with
    what went wrong, the others pass, and check() adds it all up."""
    nb = filled_notebook(MIXED, {"q1": "B", "q2": "A"})
    run_notebook(nb, LAB_NOTEBOOK.parent)
    cells = check_cells(nb)
    for name in PARTS[:3]:
        text, html = shown(cells[name])
        assert f"✓ {name}" in text and "✗" not in html
    text, html = shown(cells["gradient_descent"])
    hint = "J_history holds the cost before each update; record it after the update"
    assert "✗ gradient_descent" in text and f"hint: {hint}" in text, text
    assert "✗" in html and ">expected</th>" in html and ">got</th>" in html and hint in html
    text, html = shown(cells["all"])
    total = float(re.search(r"Total: ([\d.]+) / 100", text)[1])
    assert 64 < total < 84  # three parts right (60), gradient_descent partly, one quiz answer right (4)
    assert f"{total:g} / 100 points" in html and "&#x27;A&#x27; is not correct" in html


def test_stub_notebook_says_not_implemented_and_not_run():
    """The notebook as handed out: each check says "not implemented yet"; a
    student cell that was never run makes its check say to run it first."""
    nb = nbformat.read(LAB_NOTEBOOK, as_version=4)
    never_run = nb.cells.index(student_cell(nb, "compute_gradient_logistic"))
    run_notebook(nb, LAB_NOTEBOOK.parent, skip={never_run}, allow_errors=True)
    cells = check_cells(nb)
    for name in ("sigmoid", "compute_cost_logistic", "gradient_descent"):
        text, html = shown(cells[name])
        assert f"✗ {name}" in text and "not implemented yet" in text, text
        assert "not implemented yet" in html and "raise NotImplementedError" in html
    text, html = shown(cells["compute_gradient_logistic"])
    expected = "compute_gradient_logistic is not defined yet: run the cell that defines compute_gradient_logistic first"
    assert expected in text and expected in html
    text, html = shown(cells["all"])
    assert "Total: 0 / 100" in text and "0 / 100 points" in html
    assert expected in text  # the part that is not defined says why


def test_student_bundle_notebook_runs_the_public_checks(grade_cli, tmp_path):
    """In a bundle made by `grade release`, the notebook's check cells use the
    bundle's own grader and its public checks, and say they are not the grade."""
    bundle = tmp_path / "bundle"
    result = grade_cli("release", "exercise3", "--out", bundle)
    assert result.exit_code == 0, result.output
    folder = bundle / "exercises" / "exercise3"
    nb = filled_notebook(MIXED, {"q1": "B"}, notebook=folder / "exercise3.ipynb")
    add_cells(nb, "import grader\nprint(grader.__file__)")
    run_notebook(nb, folder, root=bundle)
    assert nb.cells[-1].outputs[0].text.strip() == str(bundle / "grader" / "__init__.py")
    cells = check_cells(nb)
    for name in PARTS:
        text, html = shown(cells[name])
        assert "Public checks" in text and "not your grade" in text, text
        assert "not your grade" in html and "points" not in html
    assert "✓ sigmoid" in shown(cells["sigmoid"])[0]
    text, html = shown(cells["gradient_descent"])
    assert "✗ gradient_descent" in text and "J_history[0]" in text
    text, html = shown(cells["all"])
    assert re.search(r"Public checks: \d+ of \d+ passed \(not your grade\)", text), text
    assert "q2: no answer yet" in text and "q2: no answer yet" in html


# -- in this process: what the kernel's code becomes --------------------------------

def define(namespace: dict, source: str, name: str) -> None:
    """Run `source` in `namespace` as IPython runs a cell: its text kept where inspect finds it."""
    filename = f"<cell {name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)


def test_kernel_code_takes_along_helpers_imports_and_constants():
    from grader.notebook_check.kernel_code import read_kernel

    namespace = {"__name__": "__main__"}
    cells = [
        "import numpy as np\nimport math\nfrom math import exp as e\nEPS = 1e-12\nclass Thing:\n    pass\n"
        "THING = Thing()\nLAB = np.array([1.0, 2.0])",
        "def _linear(X, w, b):\n    return X @ w + b",
        "def sigmoid(z):\n    return 1 / (1 + np.exp(-z)) + 0 * e(0) * EPS",
        "def compute_cost_logistic(X, y, w, b):\n    p = sigmoid(_linear(X, w, b)) + 0 * LAB[0]\n"
        "    assert THING is not None\n"
        "    return float(np.mean(-y * np.log(p + EPS) - (1 - y) * np.log(1 - p + EPS)))",
    ]
    for number, cell in enumerate(cells):
        define(namespace, cell, str(number))
    code = read_kernel(PARTS, namespace, cells, {"<cell 2>": 7})
    assert "import numpy as np\n" in code.source and "from math import exp as e\n" in code.source
    assert "import math\n" not in code.source  # imported, but unused by these functions
    assert "EPS = 1e-12\n" in code.source and "def _linear(X, w, b):" in code.source
    assert 'LAB = __import__("numpy").array([1.0, 2.0], dtype="<f8")' in code.source
    assert code.source.index("def _linear") < code.source.index("def compute_cost_logistic")
    assert code.missing == {
        "compute_gradient_logistic": "compute_gradient_logistic is not defined yet: run the cell that defines "
                                     "compute_gradient_logistic first",
        "gradient_descent": "gradient_descent is not defined yet: run the cell that defines gradient_descent first"}
    assert len(code.notes) == 1 and "THING, a Thing of the notebook" in code.notes[0]
    # Lines map back to cells: the sigmoid's lines to In[7].
    line = code.source.splitlines().index("def sigmoid(z):")
    assert code.places[line] == ("Cell In[7]", 1)
    module = {}
    exec(code.source, module)
    assert module["sigmoid"](0.0) == 0.5


def test_kernel_code_tells_why_a_function_is_missing():
    from grader.notebook_check.kernel_code import read_kernel

    namespace = {"__name__": "__main__"}
    define(namespace, "def sigmoid(z):\n    return z", "0")
    history = ["def sigmoid(z):\n    return z",
               "def sigmoid(z):\n    return (z\n",  # a later edit that does not parse
               "import nothing_such\ndef compute_cost_logistic(X, y, w, b):\n    return 0.0",  # stopped early
               ]
    namespace["compute_gradient_logistic"] = 3
    code = read_kernel(PARTS, namespace, history)
    assert code.missing["sigmoid"].startswith("the cell that defines sigmoid has a syntax error (line 2: return (z)")
    assert code.missing["compute_cost_logistic"] == (
        "the cell that defines compute_cost_logistic was run but stopped with an error before defining it: "
        "fix that error and run the cell again")
    assert code.missing["compute_gradient_logistic"] == (
        "compute_gradient_logistic is a int, not a function: define it with `def compute_gradient_logistic(...):`")
    assert "not defined yet" in code.missing["gradient_descent"]


def test_kernel_code_reads_decorated_aliased_and_imported_functions(tmp_path, monkeypatch):
    from grader.notebook_check.kernel_code import read_kernel

    namespace = {"__name__": "__main__"}
    define(namespace, "import functools\nimport numpy as np\n\ndef logged(f):\n    @functools.wraps(f)\n"
                      "    def inner(*args):\n        return f(*args)\n    return inner\n\n@logged\n"
                      "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))", "0")
    define(namespace, "def my_cost(X, y, w, b):\n    return 0.0\ncompute_cost_logistic = my_cost", "1")
    define(namespace, "compute_gradient_logistic = lambda X, y, w, b: (0.0, w * 0)", "2")
    (tmp_path / "mine.py").write_text("import numpy as np\n\ndef gradient_descent(X, y, w, b, a, n):\n"
                                      "    return np.asarray(w), b, []\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from mine import gradient_descent

    namespace["gradient_descent"] = gradient_descent
    code = read_kernel(PARTS, namespace, [])
    assert code.missing == {} and code.notes == []
    module = {}
    exec(code.source, module)
    assert module["sigmoid"](0.0) == 0.5 and module["sigmoid"].__wrapped__ is not None
    assert module["compute_cost_logistic"] is module["my_cost"]
    assert module["compute_gradient_logistic"](None, None, 2.0, 0) == (0.0, 0.0)
    assert module["gradient_descent"](None, None, [1.0], 2.0, 0, 0)[1] == 2.0
    # A file edited since its import no longer holds the function the kernel has.
    (tmp_path / "mine.py").write_text("# edited\n\n\n" + (tmp_path / "mine.py").read_text().replace("b, []", "0"))
    code = read_kernel(PARTS, namespace, [])
    assert code.missing["gradient_descent"].startswith("the source of gradient_descent no longer matches")


def test_check_in_this_process(monkeypatch, tmp_path):
    """check() as a console would call it: the exercise found from the current
    folder or from the function's name, a part graded in well under the time
    of the whole, the text report as the command line prints it."""
    from grader.notebook_check.run import check_in

    namespace = {"__name__": "__main__"}
    define(namespace, REFERENCE.read_text(), "reference")
    monkeypatch.chdir(ROOT)  # the course root: the exercise is found by the function's name
    checked = check_in(namespace, "sigmoid")
    assert checked.passed and checked.exercise == "exercise3"
    assert [p.name for p in checked.result.parts] == ["sigmoid"]
    title, line = repr(checked).splitlines()[:2]
    assert title == "exercise3" and "✓ sigmoid" in line and "15 / 15" in line

    define(namespace, "import numpy as np\ndef sigmoid(z):\n    return 1 / (1 + np.exp(z))", "edited")
    monkeypatch.chdir(LAB_NOTEBOOK.parent)
    checked = check_in(namespace, namespace["sigmoid"])
    assert not checked.passed and "✗ sigmoid" in repr(checked)
    # Later parts use the reference's sigmoid in place of the wrong one, as `grade` does.
    checked = check_in(namespace, "compute_gradient_logistic")
    assert checked.passed, repr(checked)

    namespace["quiz_answers"] = dict(KEY)
    quiz = check_in(namespace, "quiz")
    assert [p.name for p in quiz.result.parts] == ["quiz"] and quiz.passed

    monkeypatch.chdir(tmp_path)
    checked = check_in(namespace, "sigmoid")
    assert checked.result is None and checked.error.startswith("no course found")
    assert repr(checked).startswith("✗ sigmoid: no course found")


def test_notebook_check_cells_are_never_graded(grade_cli, tmp_path):
    """Check cells, and check() calls and imports anywhere, are not part of the
    module a notebook becomes: grading never runs the grader in the sandbox."""
    from grader.submissions.notebook import notebook_source

    nb = filled_notebook(REFERENCE.read_text(), KEY)
    cell = student_cell(nb, "sigmoid")
    cell.source += "\n\nfrom grader import check\ncheck(sigmoid)\ngrader_check_seen = True\n"
    nb.cells.insert(0, nbformat.v4.new_code_cell("raise SystemExit('a check cell ran')",
                                                 metadata={"tags": ["check"]}))
    source, origins = notebook_source(nb)
    assert "SystemExit" not in source and "check(" not in source and "from grader" not in source
    assert "grader_check_seen = True" in source
    assert len(origins) == len(source.splitlines())
    path = tmp_path / "work.ipynb"
    nbformat.write(nb, str(path))
    result = grade_cli("exercise3", "--submission", path)
    assert result.exit_code == 0 and "Total: 100 / 100" in result.output, result.output


def test_import_grader_stays_light():
    """Every `grade` command imports the package: `check` loads on first use only."""
    code = ("import sys, grader; before = sorted(m for m in sys.modules if m.startswith('grader'));"
            "from grader import check; print(before, check.__module__)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['grader'] grader.notebook_check.run"


@pytest.mark.parametrize("name", ["sigmoid", "compute_cost_logistic"])
def test_lab_notebook_has_a_check_cell_after_each_student_cell(name):
    nb = nbformat.read(LAB_NOTEBOOK, as_version=4)
    index = nb.cells.index(student_cell(nb, name))
    following = nb.cells[index + 1]
    assert following.metadata["tags"] == ["check"] and following.source.endswith(f'check("{name}")')
    assert nb.cells[-1].metadata["tags"] == ["check"] and "check()" in nb.cells[-1].source
