"""Reading a student's submission from disk: only the expected files are taken."""
from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from ..course import Exercise, load_toml, parse_toml
from ..errors import GraderError
from .files import Folder, Protected

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


def decode(data: bytes, path: Path) -> str:
    """A source file's text, or a one-line GraderError."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise GraderError(f"{path}: not UTF-8 text") from None


def read_quiz(path: Path) -> tuple[dict | None, str]:
    """Answers from a quiz.toml, or (None, reason) when it cannot be read."""
    if not path.is_file():
        return None, ""
    return _answers(lambda: load_toml(path))


def _answers(load) -> tuple[dict | None, str]:
    try:
        data = load()
    except GraderError as exc:
        return None, f"quiz.toml could not be read: {exc}"
    # Values stay as written: a number or a list is an answer in the wrong form, said so per question.
    return {str(k): v for k, v in data.items()}, ""


def _folder_quiz(folder: Folder, name: str) -> tuple[dict | None, str]:
    data = folder.read(name, MAX_SOURCE_BYTES)
    if data is None:
        return None, ""
    return _answers(lambda: parse_toml(data, folder.path / name))


def load_submission(exercise: Exercise, path: Path) -> Submission:
    """A folder holding the module or a notebook (and maybe quiz.toml), a single
    .py file, or a single notebook (.ipynb, with quiz.toml beside it or its quiz cell).

    A folder holding both the module and a notebook is graded by the module,
    unless the module still holds only the stubs and the notebook has work in it.
    Every file is read once, through descriptors (files.py), and none may be
    one of the course's solutions or hidden tests.
    """
    path = Path(path)
    if not path.exists():
        raise GraderError(f"{path}: no such file or folder")
    protected = Protected([exercise.solution_folder.parent] if exercise.solution_folder else [])
    if path.is_dir():
        with Folder(path, protected) as folder:
            module = folder.read(exercise.module_file, MAX_SOURCE_BYTES)
            quiz = _folder_quiz(folder, exercise.quiz_file)
            if module is None:
                return _load_notebook(exercise, folder, _folder_notebook(exercise, folder, required=True), quiz)
            source = decode(module, path / exercise.module_file)
            notebook = None if _has_work(source, exercise) else _folder_notebook(exercise, folder, required=False)
            if notebook is not None:
                sub = _load_notebook(exercise, folder, notebook, quiz)
                if _has_work(sub.source, exercise):
                    sub.notes.append(f"graded {notebook}: {exercise.module_file} still holds only the stubs")
                    return sub
            return Submission(source, path, *quiz)
    if path.suffix not in SUBMISSION_SUFFIXES:
        raise GraderError(f"{path}: expected a folder or a file ending in {' or '.join(SUBMISSION_SUFFIXES)}")
    with Folder(path.parent, protected) as folder:
        if path.suffix == ".py":
            data = folder.read(path.name, MAX_SOURCE_BYTES)
            if data is None:
                raise GraderError(f"{path}: not a file")
            return Submission(decode(data, path), path)
        return _load_notebook(exercise, folder, path.name, _folder_quiz(folder, exercise.quiz_file))


def _folder_notebook(exercise: Exercise, folder: Folder, required: bool) -> str | None:
    """The name of a folder submission's notebook: the lab's own name, else the only one there."""
    if folder.is_file(exercise.notebook_file):
        return exercise.notebook_file
    found = [name for name in folder.names() if name.endswith(".ipynb") and folder.is_file(name)]
    if len(found) == 1:
        return found[0]
    if required and found:
        raise GraderError(f"{folder.path}: holds no {exercise.module_file} and several notebooks "
                          f"({', '.join(found)}); pick one with --submission")
    if required:
        raise GraderError(f"{folder.path}: holds no {exercise.module_file} and no notebook")
    return None


def _load_notebook(exercise: Exercise, folder: Folder, name: str, quiz: tuple) -> Submission:
    """A notebook's code as the module; quiz answers from its quiz cell when it
    answers anything, else from the quiz.toml beside it (`quiz`, as read)."""
    from .notebook import MAX_NOTEBOOK_BYTES, notebook_source, quiz_answers, read_notebook

    path = folder.path / name
    data = folder.read(name, MAX_NOTEBOOK_BYTES)
    if data is None:
        raise GraderError(f"{path}: not a file")
    nb = read_notebook(path, data)
    source, origins = notebook_source(nb)
    if len(source.encode("utf-8")) > MAX_SOURCE_BYTES:
        raise GraderError(f"{path}: its code is larger than {MAX_SOURCE_BYTES // 1024} KB")
    answers, problem = quiz_answers(nb)
    if not any(str(a).strip() for a in (answers or {}).values()):
        from_file, file_problem = quiz
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
