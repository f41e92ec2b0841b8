"""Reading a student's submission from disk: only the expected files are taken."""
from __future__ import annotations

import ast
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..course import Exercise, load_toml
from ..errors import GraderError
from .entries import within

MAX_SOURCE_BYTES = 2 * 1024 * 1024
SUBMISSION_SUFFIXES = (".py", ".ipynb")  # single files that are submissions on their own


@dataclass
class Submission:
    """The student's module source and quiz answers, as plain text and data."""

    source: str
    origin: Path
    quiz: dict | None = None
    quiz_error: str = ""
    notes: list = field(default_factory=list)  # what the student should know about how it was read
    origins: list | None = None  # for a notebook: (code cell, line) of each line of `source`

    def locate(self, message: str, module_file: str) -> str:
        """`message` with the module's line numbers told as places in the notebook."""
        if not self.origins:
            return message
        from .notebook import locate

        return locate(message, self.origins, module_file)

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.source.encode("utf-8")).hexdigest()


def read_text(path: Path) -> str:
    if path.stat().st_size > MAX_SOURCE_BYTES:
        raise GraderError(f"{path}: larger than {MAX_SOURCE_BYTES // 1024} KB")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise GraderError(f"{path}: not UTF-8 text") from None


def read_quiz(path: Path) -> tuple[dict | None, str]:
    """Answers from a quiz.toml, or (None, reason) when it cannot be read."""
    if not path.is_file():
        return None, ""
    try:
        data = load_toml(path)
    except GraderError as exc:
        return None, f"quiz.toml could not be read: {exc}"
    # Values stay as written: a number or a list is an answer in the wrong form, said so per question.
    return {str(k): v for k, v in data.items()}, ""


def load_submission(exercise: Exercise, path: Path) -> Submission:
    """A folder holding the module or a notebook (and maybe quiz.toml), a single
    .py file, or a single notebook (.ipynb, with quiz.toml beside it or its quiz cell).

    A folder holding both the module and a notebook is graded by the module,
    unless the module still holds only the stubs and the notebook has work in it.
    """
    path = Path(path)
    if not path.exists():
        raise GraderError(f"{path}: no such file or folder")
    if path.is_dir():
        module = _own(path / exercise.module_file, path)
        quiz_file = _own(path / exercise.quiz_file, path)
        if not module.is_file():
            return _load_notebook(exercise, _folder_notebook(exercise, path, required=True), quiz_file)
        source = read_text(module)
        notebook = None if _has_work(source, exercise) else _folder_notebook(exercise, path, required=False)
        if notebook is not None:
            sub = _load_notebook(exercise, notebook, quiz_file)
            if _has_work(sub.source, exercise):
                sub.notes.append(f"graded {notebook.name}: {module.name} still holds only the stubs")
                return sub
        return Submission(source, path, *read_quiz(quiz_file))
    _own(path, path.parent)
    if path.suffix == ".py":
        return Submission(read_text(path), path)
    if path.suffix == ".ipynb":
        return _load_notebook(exercise, path, _own(path.parent / exercise.quiz_file, path.parent))
    raise GraderError(f"{path}: expected a folder or a file ending in {' or '.join(SUBMISSION_SUFFIXES)}")


def _own(file: Path, folder: Path) -> Path:
    """`file`, unless it is a symbolic link out of the submission's `folder`, as
    `grade batch` refuses too: a link to the solutions would have them graded,
    and one to any other file would show it in the report."""
    if file.is_symlink() and not within(os.path.realpath(file), os.path.realpath(folder)):
        raise GraderError(f"{file}: a symbolic link to a place outside the submission")
    return file


def _folder_notebook(exercise: Exercise, folder: Path, required: bool) -> Path | None:
    """The notebook of a folder submission: the lab's own name, else the only one there."""
    named = folder / exercise.notebook_file
    if named.is_file():
        return _own(named, folder)
    found = sorted(p for p in folder.glob("*.ipynb") if p.is_file())
    if len(found) == 1:
        return _own(found[0], folder)
    if required and found:
        names = ", ".join(p.name for p in found)
        raise GraderError(f"{folder}: holds no {exercise.module_file} and several notebooks ({names}); "
                          "pick one with --submission")
    if required:
        raise GraderError(f"{folder}: holds no {exercise.module_file} and no notebook")
    return None


def _load_notebook(exercise: Exercise, path: Path, quiz_file: Path) -> Submission:
    """A notebook's code as the module; quiz answers from its quiz cell when it
    answers anything, else from the quiz.toml beside it."""
    from .notebook import notebook_source, quiz_answers, read_notebook

    nb = read_notebook(path)
    source, origins = notebook_source(nb)
    if len(source.encode("utf-8")) > MAX_SOURCE_BYTES:
        raise GraderError(f"{path}: its code is larger than {MAX_SOURCE_BYTES // 1024} KB")
    answers, problem = quiz_answers(nb)
    if not any(str(a).strip() for a in (answers or {}).values()):
        from_file, file_problem = read_quiz(quiz_file)
        if from_file is not None or file_problem:
            answers, problem = from_file, file_problem
    return Submission(source, path, answers, problem, origins=origins)


def _has_work(source: str, exercise: Exercise) -> bool:
    """Whether some graded function of `source` does more than raise NotImplementedError
    (a file that does not parse counts as work: its error is worth showing)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return True
    wanted = {p.function for p in exercise.parts}
    return any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in wanted
               and not _raises_not_implemented(node.body) for node in ast.walk(tree))


def _raises_not_implemented(body) -> bool:
    statements = [s for s in body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if len(statements) != 1 or not isinstance(statements[0], ast.Raise):
        return False
    exc = statements[0].exc
    name = exc.func if isinstance(exc, ast.Call) else exc
    return isinstance(name, ast.Name) and name.id == "NotImplementedError"
