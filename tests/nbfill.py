"""Helpers for the notebook tests: the lab notebook with its student cells
filled from a module's source, as a student who worked in it would save it."""
from __future__ import annotations

import ast
import copy

import nbformat
from conftest import ROOT

from grader.authoring.lab_notebook import functions

LAB_NOTEBOOK = ROOT / "exercises" / "exercise3" / "exercise3.ipynb"


def filled_notebook(source: str, quiz: dict | None = None):
    """The lab notebook with each student function cell holding that function
    of `source` (plus the module's imports) and the quiz cell holding `quiz`."""
    nb = nbformat.read(LAB_NOTEBOOK, as_version=4)
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
