"""Building an exercise's lab notebook from the project's own sources.

The notebook (`[notebook] file` of the manifest) is generated, never edited by
hand. Its source (`[notebook] source`) is a script in the "percent" format
(see exercises/exercise3/notebook_source.py); the cells students fill in are
copied from the stubs in the exercise's module, and the quiz from the
manifest, so the three never drift apart. Each student cell is followed by a
cell that checks it on the spot (`check("sigmoid")`, see grader/notebook_check/),
and the notebook ends with `check()` for the whole exercise; these cells are
tagged `check` and are never part of what is graded.

    grade build-notebook exercise3           write the notebook
    grade build-notebook exercise3 --check   exit 1 when it is out of date
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

from ..course import Exercise
from ..errors import GraderError
from ..submissions.notebook import CHECK_TAG, DEMO_TAG, QUIZ_VARIABLE

STUDENT_TAG = "student"
QUIZ_TAG = "quiz"
CHECK_NOTE = ("# Runs the grader's tests on the function as this notebook defines it now (no need to save;\n"
              "# after editing a function, run its cell again). check() checks the whole exercise.\n")
_MARKER = re.compile(r"^# %%(?:[ \t]+(.*?))?[ \t]*$")
KERNEL = {"display_name": "Python 3", "language": "python", "name": "python3"}


def build_notebook(exercise: Exercise):
    """The lab notebook of `exercise`, as an nbformat v4 notebook."""
    import nbformat.v4 as v4

    if not exercise.notebook_source:
        raise GraderError(f"{exercise.name}: the manifest names no [notebook] source")
    source_file = exercise.folder / exercise.notebook_source
    if not source_file.is_file():
        raise GraderError(f"{source_file}: file not found")
    stubs = _functions(exercise.folder / exercise.module_file)
    cells = []
    for kind, argument, body, line in _percent_cells(source_file.read_text(encoding="utf-8")):
        where = f"{source_file.name}:{line}"
        if kind == "markdown":
            cells.append(v4.new_markdown_cell(body))
        elif kind == "code":
            cells.append(v4.new_code_cell(body))
        elif kind == DEMO_TAG:
            cells.append(v4.new_code_cell(body, metadata={"tags": [DEMO_TAG]}))
        elif kind == STUDENT_TAG:
            if body or argument not in stubs:
                raise GraderError(f"{where}: a student cell takes the stub of a function of "
                                  f"{exercise.module_file} by name and nothing else")
            cells.append(v4.new_code_cell(stubs[argument], metadata={"tags": [STUDENT_TAG]}))
            first = not any(CHECK_TAG in c.metadata.get("tags", []) for c in cells)
            cells.append(_check_cell(f'check("{argument}")', CHECK_NOTE if first else ""))
        elif kind == QUIZ_TAG:
            if body:
                raise GraderError(f"{where}: the quiz cell is made from exercise.toml; leave it empty")
            cells.extend(_quiz_cells(exercise))
        else:
            raise GraderError(f"{where}: unknown cell kind '{kind}'")
    cells.append(_check_cell("check()  # the whole exercise" + (", quiz included" if exercise.questions else "")))
    for number, cell in enumerate(cells, 1):
        cell["id"] = f"cell-{number:02d}"  # stable ids keep the built file identical from run to run
    return v4.new_notebook(cells=cells, metadata={"kernelspec": KERNEL, "language_info": {"name": "python"}})


def notebook_text(exercise: Exercise) -> str:
    """The notebook file's text, as `build-notebook` writes it."""
    import nbformat

    text = nbformat.writes(build_notebook(exercise))
    return text if text.endswith("\n") else text + "\n"


def is_up_to_date(exercise: Exercise) -> bool:
    """Whether the notebook on disk is exactly what its sources build."""
    path = exercise.folder / exercise.notebook_file
    return path.is_file() and path.read_text(encoding="utf-8") == notebook_text(exercise)


def _percent_cells(text: str):
    """(kind, argument, body, line) for each cell of a percent-format script."""
    cells, current, lines = [], None, []

    def close():
        if current is not None:
            kind, argument, line = current
            body = "\n".join(lines).strip("\n")
            if kind == "markdown":
                body = "\n".join(re.sub(r"^# ?", "", x) if x.startswith("#") else x for x in body.splitlines())
            cells.append((kind, argument, body, line))

    for number, line in enumerate(text.splitlines(), 1):
        match = _MARKER.match(line)
        if match:
            close()
            words = (match.group(1) or "").split()
            kind = "code" if not words else "markdown" if words[0] == "[markdown]" else words[0]
            current, lines = (kind, " ".join(words[1:]), number), []
        else:
            lines.append(line)
    close()
    return cells


def _functions(path: Path) -> dict:
    """name -> source text of each top-level function of the module at `path`."""
    return functions(path.read_text(encoding="utf-8"))


def functions(text: str) -> dict:
    """name -> source text (decorators included) of each top-level function in `text`."""
    lines = text.splitlines()
    found = {}
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            found[node.name] = "\n".join(lines[first - 1:node.end_lineno])
    return found


def _check_cell(call: str, note: str = ""):
    """A cell that runs the grader's checks in the notebook (tagged `check`: never graded itself)."""
    import nbformat.v4 as v4

    return v4.new_code_cell(f"{note}from grader import check\n{call}", metadata={"tags": [CHECK_TAG]})


def _quiz_cells(exercise: Exercise) -> list:
    import nbformat.v4 as v4

    text = ["## Quiz", "",
            "Answer each question with the letter of one choice, in the cell below "
            f"(or in `{exercise.quiz_file}`; the cell counts when it holds any answer)."]
    for q in exercise.questions:
        text += ["", f"**{q.id}.** {q.text}", ""]
        text += [f"- **{letter}.** {choice}" for letter, choice in q.choices.items()]
    answers = "\n".join(f'    "{q.id}": "",' for q in exercise.questions)
    code = f"# Your answers: one letter between each pair of quotes.\n{QUIZ_VARIABLE} = {{\n{answers}\n}}"
    return [v4.new_markdown_cell("\n".join(text)),
            v4.new_code_cell(code, metadata={"tags": [STUDENT_TAG, QUIZ_TAG]})]
