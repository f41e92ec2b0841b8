"""Notebook submissions and the lab notebook: a notebook is graded like the
.py file holding the same code, on its code alone, and the committed lab
notebook is what its sources build and runs top to bottom."""
import json
import re
import shutil

import nbformat
import pytest
from conftest import REFERENCE, ROOT, STUBS, quiz_key_text
from nbfill import LAB_NOTEBOOK, filled_notebook, run_notebook, student_cell, write_notebook

from grader.course import tomllib

KEY = tomllib.loads(quiz_key_text())  # every answer right, however many questions there are

# Gradient descent that records the cost before each update instead of after.
# (A mistake in an earlier part would make grading slow: the descent tests
# would then call the reference's version of it over the wire 10000 times.)
MIXED = REFERENCE.read_text().replace(
    "        J_history.append(compute_cost_logistic(X, y, w, b))\n", "").replace(
    "        dj_db, dj_dw = compute_gradient_logistic(X, y, w, b)\n",
    "        J_history.append(compute_cost_logistic(X, y, w, b))\n"
    "        dj_db, dj_dw = compute_gradient_logistic(X, y, w, b)\n")
assert MIXED.count("J_history.append") == 1 and MIXED != REFERENCE.read_text()


def part_scores(report_file):
    return {p["name"]: p["score"] for p in json.loads(report_file.read_text())["parts"]}


def grade_json(grade_cli, path, out):
    result = grade_cli("exercise3", "--submission", path, "--json", out)
    assert result.exit_code == 0, result.output
    return part_scores(out), result.output


@pytest.mark.parametrize("source, quiz", [(REFERENCE.read_text(), KEY),
                                          (MIXED, {"q1": "B", "q2": "A", "q3": "A", "q4": "", "q5": "C"})],
                         ids=["reference", "mixed"])
def test_py_and_ipynb_get_the_same_scores(grade_cli, tmp_path, source, quiz):
    as_py = tmp_path / "py"
    as_py.mkdir()
    (as_py / "logistic_regression.py").write_text(source)
    (as_py / "quiz.toml").write_text("".join(f'{k} = "{v}"\n' for k, v in quiz.items()))
    as_nb = tmp_path / "nb"
    as_nb.mkdir()
    write_notebook(filled_notebook(source, quiz), as_nb / "work.ipynb")

    py_scores, _ = grade_json(grade_cli, as_py, tmp_path / "py.json")
    nb_scores, _ = grade_json(grade_cli, as_nb, tmp_path / "nb.json")
    file_scores, _ = grade_json(grade_cli, as_nb / "work.ipynb", tmp_path / "file.json")
    assert py_scores == nb_scores == file_scores
    if quiz is KEY:
        assert sum(py_scores.values()) == 100
    else:
        assert py_scores == {"sigmoid": 15, "compute_cost_logistic": 20, "compute_gradient_logistic": 25,
                             "gradient_descent": py_scores["gradient_descent"], "quiz": 8}
        assert 0 < py_scores["gradient_descent"] < 20


def test_escapes_magics_and_forged_outputs_do_not_count(grade_cli, tmp_path):
    """Only the code is graded: shell escapes and magics are removed, stored
    outputs claiming full marks are ignored, a failing statement at load time
    does not stop the rest, and plt.show() does not block."""
    nb = filled_notebook(STUBS.read_text())
    sigmoid = student_cell(nb, "sigmoid")
    sigmoid.source = ("import numpy as np\n\ndef sigmoid(z):\n"
                      "    return 1 / (1 + np.exp(-np.asarray(z, dtype=float)))[()]\n")
    sigmoid.outputs = [nbformat.v4.new_output("stream", name="stdout", text="Total: 100 / 100\nAll tests passed\n")]
    sigmoid.execution_count = 7
    student_cell(nb, "compute_cost_logistic").source = "%%time\n" + re.search(
        r"def compute_cost_logistic.*?return float\(np.mean\(losses\)\)", REFERENCE.read_text(), re.S).group(0)
    marker = tmp_path / "escaped"
    extra = [
        "!pip install --quiet numpy\nfiles = !ls /\n%load_ext autoreload\nnp.exp?",
        f"%%bash\ntouch {marker}\n",
        f"import os\nos.system  # a name only\nx = 1\n!touch {marker}\n",
        "import matplotlib.pyplot as plt\nplt.plot([1, 2], [3, 4])\nplt.show()\n",
        "print(gradient_descent(None, None, None, 0, 0.1, 1))  # not written yet: raises\nafter_failure = True\n",
    ]
    nb.cells[2:2] = [nbformat.v4.new_code_cell(text) for text in extra]
    nb.cells.append(nbformat.v4.new_code_cell("quiz_answers = {'q1': 'B'}", outputs=[
        nbformat.v4.new_output("execute_result", data={"text/plain": repr(KEY)})]))
    path = write_notebook(nb, tmp_path / "work.ipynb")

    from grader.submissions.notebook import notebook_source

    source, _ = notebook_source(nbformat.read(path, as_version=4))
    assert "touch" not in source and "pip" not in source and "%%time" not in source
    assert "after_failure = True" in source

    scores, output = grade_json(grade_cli, path, tmp_path / "report.json")
    assert scores == {"sigmoid": 15, "compute_cost_logistic": 20, "compute_gradient_logistic": 0,
                      "gradient_descent": 0, "quiz": 20 / len(KEY)}, output  # one right answer
    assert not marker.exists()


def test_strip_ipython_keeps_python_that_looks_like_magic():
    from grader.submissions.notebook import strip_ipython

    cell = ('text = ("%d items"\n'
            '        % 3)\n'
            'doc = """\n!not a shell escape\n%not a magic\n"""\n'
            'if True:\n'
            '    !echo "inside a block"\n'
            'listing = !ls\n')
    assert strip_ipython(cell).splitlines() == [
        'text = ("%d items"', '        % 3)', 'doc = """', '!not a shell escape', '%not a magic', '"""',
        'if True:', '    pass', 'pass']
    assert strip_ipython("%%bash\nrm -rf ~\n") == ""
    assert strip_ipython("%%timeit -n 3\nx = 1\n").strip() == "x = 1"
    # Magics without the %, as IPython runs them, go too, but only from code that is not Python anyway.
    assert strip_ipython("pip install numpy\ncd ..\nimport numpy as np") == "pass\npass\nimport numpy as np"
    assert strip_ipython("time = 3\nls -la") == "time = 3\nls -la"


def test_demo_cells_keep_only_definitions(grade_cli, tmp_path):
    """The lab's demo cells (training run, plots) are not run when grading,
    but a function a student put in one still counts."""
    nb = filled_notebook(STUBS.read_text())
    demo = next(c for c in nb.cells if "demo" in c.metadata.get("tags", []) and "gradient_descent(" in c.source)
    demo.source = ("import numpy as np\n" + demo.source + "\nraise SystemExit('the training run ran')\n\n"
                   "def sigmoid(z):\n    return 1 / (1 + np.exp(-np.asarray(z, dtype=float)))[()]\n")
    scores, output = grade_json(grade_cli, write_notebook(nb, tmp_path / "demo.ipynb"), tmp_path / "r.json")
    assert scores["sigmoid"] == 15, output
    assert "the training run ran" not in output


def test_syntax_error_fails_the_import_like_a_py(grade_cli, tmp_path):
    """A syntax error fails the import, as in a .py file, and the report points into the notebook."""
    nb = filled_notebook(REFERENCE.read_text(), KEY)
    nb.cells.insert(3, nbformat.v4.new_code_cell("def broken(:\n    pass\n"))
    scores, output = grade_json(grade_cli, write_notebook(nb, tmp_path / "broken.ipynb"), tmp_path / "r.json")
    assert scores == {"sigmoid": 0, "compute_cost_logistic": 0, "compute_gradient_logistic": 0, "gradient_descent": 0,
                      "quiz": 20}
    assert "SyntaxError: invalid syntax (code cell 2, line 1)" in output  # told as a place in the notebook
    assert "at code cell 2, line 1: def broken(:" in output


@pytest.mark.parametrize("content, reason", [
    ("this is not json {", "not JSON"),
    ('{"cells": []}', "no nbformat field"),
    ('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code", "source": 3}]}',
     "not a valid notebook"),
], ids=["text", "json-without-nbformat", "bad-cell"])
def test_invalid_notebook_is_a_one_line_error(run_grade, tmp_path, content, reason):
    path = tmp_path / "work.ipynb"
    path.write_text(content)
    done = run_grade("exercise3", "--submission", path)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("grade: error: ") and reason in lines[0], done.stderr


def test_folder_rules(grade_cli, tmp_path):
    """A folder's module is graded unless it holds only the stubs and its
    notebook holds work; quiz.toml beside a notebook counts when the quiz cell is empty."""
    folder = tmp_path / "exercise3"
    folder.mkdir()
    shutil.copy(STUBS, folder / "logistic_regression.py")
    (folder / "quiz.toml").write_text(quiz_key_text())
    write_notebook(filled_notebook(REFERENCE.read_text()), folder / "exercise3.ipynb")
    scores, output = grade_json(grade_cli, folder, tmp_path / "a.json")
    assert sum(scores.values()) == 100
    assert "note: graded exercise3.ipynb: logistic_regression.py still holds only the stubs" in output

    shutil.copy(REFERENCE, folder / "logistic_regression.py")
    write_notebook(filled_notebook(STUBS.read_text()), folder / "exercise3.ipynb")
    scores, output = grade_json(grade_cli, folder, tmp_path / "b.json")
    assert sum(scores.values()) == 100 and "note:" not in output

    (folder / "logistic_regression.py").unlink()
    write_notebook(filled_notebook(STUBS.read_text()), folder / "other.ipynb")
    result = grade_cli("exercise3", "--submission", folder)
    assert result.exit_code == 0  # the lab's own notebook name wins over other notebooks
    (folder / "exercise3.ipynb").unlink()
    write_notebook(filled_notebook(STUBS.read_text()), folder / "third.ipynb")
    result = grade_cli("exercise3", "--submission", folder)
    assert result.exit_code == 2 and "several notebooks (other.ipynb, third.ipynb)" in result.output


def test_committed_notebook_is_up_to_date(grade_cli):
    from grader.authoring.lab_notebook import is_up_to_date
    from grader.course import Course

    assert is_up_to_date(Course(ROOT).exercise("exercise3")), "run: grade build-notebook exercise3"
    result = grade_cli("build-notebook", "exercise3", "--check")
    assert result.exit_code == 0 and "is up to date" in result.output


def test_build_notebook_notices_changed_sources(grade_cli, tmp_path):
    shutil.copytree(ROOT / "exercises", tmp_path / "exercises")
    stubs = tmp_path / "exercises" / "exercise3" / "logistic_regression.py"
    stubs.write_text(stubs.read_text().replace("Mind the order.", "Mind the order: (dj_db, dj_dw)."))
    assert grade_cli("build-notebook", "exercise3", "--check", cwd=tmp_path).exit_code == 1
    assert grade_cli("build-notebook", "exercise3", cwd=tmp_path).exit_code == 0
    assert grade_cli("build-notebook", "exercise3", "--check", cwd=tmp_path).exit_code == 0
    built = nbformat.read(tmp_path / "exercises" / "exercise3" / "exercise3.ipynb", as_version=4)
    assert any("Mind the order: (dj_db, dj_dw)." in c.source for c in built.cells)


def test_lab_notebook_cells(grade_cli):
    """Student cells are tagged and hold the stubs; the quiz cell lists every question id."""
    from grader.course import Course

    exercise = Course(ROOT).exercise("exercise3")
    nb = nbformat.read(LAB_NOTEBOOK, as_version=4)
    student = [c for c in nb.cells if "student" in c.metadata.get("tags", [])]
    assert [c.source.split("(")[0] for c in student[:-1]] == [f"def {p.function}" for p in exercise.parts]
    assert all("raise NotImplementedError" in c.source for c in student[:-1])
    assert "quiz" in student[-1].metadata["tags"]
    text = "\n".join(c.source for c in nb.cells)
    for q in exercise.questions:
        assert f'"{q.id}": ""' in student[-1].source and q.text in text
        assert all(choice in text for choice in q.choices.values())


def test_reference_filled_notebook_runs_and_prints_the_lab_numbers(tmp_path):
    """With the reference in the student cells, the notebook runs top to bottom
    in a real kernel (its check cells too), prints the lab's figures and draws its three plots."""
    nb = filled_notebook(REFERENCE.read_text(), KEY)
    run_notebook(nb, LAB_NOTEBOOK.parent)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")

    def number(pattern):
        return float(re.search(pattern + r"\s*(-?[\d.]+(?:e-?\d+)?)", text).group(1))

    assert number(r"iteration\s+0: cost") == pytest.approx(0.684610468560574, rel=1e-9)
    assert number(r"iteration\s+9000: cost") == pytest.approx(0.019030137124109114, rel=1e-9)
    assert number(r"\sb:") == pytest.approx(-14.222409982019837, rel=1e-9)
    assert number(r"dj_db:") == pytest.approx(0.49861806546328574, rel=1e-12)
    assert number(r"cost at w = \[2\], b = -5:") == pytest.approx(0.12285479586036101, rel=1e-9)
    images = [o for o in outputs if o.output_type == "display_data" and "image/png" in o.data]
    assert len(images) == 3
