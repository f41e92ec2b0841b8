"""Helpers for the notebook tests: the lab notebook with its student cells
filled from a module's source, as a student who worked in it would save it,
and running a notebook in a real kernel that imports the grader of a given
course root."""
from __future__ import annotations

import ast
import copy
import os

import nbformat
from conftest import ROOT

from grader.authoring.lab_notebook import functions

LAB_NOTEBOOK = ROOT / "exercises" / "exercise3" / "exercise3.ipynb"


def filled_notebook(source: str, quiz: dict | None = None, notebook=LAB_NOTEBOOK):
    """The lab notebook (or `notebook`) with each student function cell holding
    that function of `source` (plus the module's imports) and the quiz cell holding `quiz`."""
    nb = nbformat.read(notebook, as_version=4)
    nb = copy.deepcopy(nb)
    tree = ast.parse(source)
    imports = "\n".join(ast.get_source_segment(source, n)
                        for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom)))
    defined = functions(source)
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "student" not in tags:
            continue
        if "quiz" in tags:
            if quiz is not None:
                body = "\n".join(f'    "{k}": "{v}",' for k, v in quiz.items())
                cell.source = f"quiz_answers = {{\n{body}\n}}"
            continue
        (name,) = functions(cell.source)
        cell.source = f"{imports}\n\n{defined[name]}" if imports else defined[name]
    return nb


def write_notebook(nb, path):
    nbformat.write(nb, str(path))
    return path


def student_cell(nb, function: str):
    """The student cell of the notebook that defines `function`."""
    return next(c for c in nb.cells if "student" in c.metadata.get("tags", []) and f"def {function}(" in c.source)


def run_notebook(nb, folder, root=ROOT, skip=(), allow_errors=False, timeout=120):
    """Run `nb`'s code cells in order, except the cells at the indexes in `skip`,
    in one kernel whose current folder is `folder` and whose `import grader`
    finds the grader of the course at `root` (as the student's installed grader
    would be found). The outputs are kept in `nb`, which is returned."""
    from nbclient import NotebookClient

    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
                            resources={"metadata": {"path": str(folder)}})
    env = {**os.environ, "PYTHONPATH": str(root)}
    with client.setup_kernel(env=env):
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code" and index not in skip:
                client.execute_cell(cell, index)
    return nb
