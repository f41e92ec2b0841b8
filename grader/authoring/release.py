"""`grade release NAME --out DIR`: the student bundle of one exercise.

The bundle is a course root holding `exercises/NAME/` (the manifest, the
stubs, the lab notebook, the support files, the README, a blank quiz.toml and
the public checks) and the grader itself with a pyproject.toml and a README
saying how to install it, so that one command sets a student up anywhere.
It is built from an explicit list, never by copying the
folder, and refused when any file of it holds a file or a function body of
`solutions/NAME/`, when the notebook is out of date, or when the reference
solution fails a public check.
"""
from __future__ import annotations

import ast
import json
from pathlib import Path

from ..course import MANIFEST, Exercise
from ..errors import GraderError

MIN_LEAK_CHARS = 25  # shorter bodies ("return x") say nothing about a solution


def bundle_files(exercise: Exercise) -> dict:
    """Path inside the exercise folder -> text, for every file of the bundle."""
    folder = exercise.folder
    names = [MANIFEST, exercise.module_file, *exercise.support, "README.md", exercise.notebook_file]
    files = {name: (folder / name).read_text(encoding="utf-8") for name in names if name and (folder / name).is_file()}
    for missing in (MANIFEST, exercise.module_file, *exercise.support):
        if missing not in files:
            raise GraderError(f"{folder / missing}: file not found")
    public = exercise.public_suites
    if public.is_dir():
        for path in sorted(public.rglob("*.py")):
            if "__pycache__" not in path.parts:
                files[path.relative_to(folder).as_posix()] = path.read_text(encoding="utf-8")
    files[exercise.quiz_file] = blank_quiz(exercise)
    return files


def grader_files(exercise: Exercise) -> dict:
    """Path inside the bundle root -> text: the grader package, its pyproject.toml and the set-up README."""
    package = Path(__file__).parents[1]  # grader/, this file being grader/authoring/release.py
    files = {f"grader/{p.relative_to(package).as_posix()}": p.read_text(encoding="utf-8")
             for p in sorted(package.rglob("*.py")) if "__pycache__" not in p.parts}
    files["pyproject.toml"] = _pyproject(package)
    files["README.md"] = (
        f"# {exercise.title}\n\n"
        f"Your lab is in `exercises/{exercise.name}/`: start with its README.md"
        + (f" or the notebook {exercise.notebook_file}" if exercise.notebook_file else "") + ".\n\n"
        "Set up once, in this folder (Python 3.10 or newer): this installs the `grade` command\n"
        "in a virtual environment and runs it on the exercise.\n\n"
        f"    python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/grade {exercise.name}\n\n"
        f"After that, `.venv/bin/grade {exercise.name}` (or `grade {exercise.name}` with the environment\n"
        "activated: `source .venv/bin/activate`) runs the public checks on your work, from\n"
        "anywhere inside this folder. They are not your grade: your instructor's hidden\n"
        "tests decide it.\n")
    return files


def _pyproject(package: Path) -> str:
    """The grader's own pyproject.toml, or one written from the installed package's metadata."""
    source = package.parent / "pyproject.toml"
    text = source.read_text(encoding="utf-8") if source.is_file() else ""
    if 'name = "mlgrade"' in text:
        return text
    from importlib import metadata

    try:
        requires = [r for r in metadata.requires("mlgrade") or [] if "extra ==" not in r]
        version = metadata.version("mlgrade")
    except metadata.PackageNotFoundError:
        raise GraderError("cannot find the grader's pyproject.toml or its installed metadata to bundle it") from None
    dependencies = "".join(f"    {json.dumps(r)},\n" for r in requires)
    return (
        '[build-system]\nrequires = ["setuptools>=64"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "mlgrade"\nversion = "{version}"\nrequires-python = ">=3.10"\n'
        f"dependencies = [\n{dependencies}]\n\n"
        '[project.scripts]\ngrade = "grader.cli:main"\n\n'
        '[tool.setuptools.packages.find]\ninclude = ["grader*"]\n'
    )


def blank_quiz(exercise: Exercise) -> str:
    """A quiz.toml with every answer empty: written fresh, so no answer can slip out."""
    lines = ["# Your quiz answers: one letter per question (the questions are in README.md)."]
    lines += [f'{q.id} = ""' for q in exercise.questions]
    return "\n".join(lines) + "\n"


def leaks(files: dict, solution_folder: Path) -> list[str]:
    """Where a bundle file holds a whole file or a function body of the solutions."""
    texts = {name: _searchable(name, text) for name, text in files.items()}
    found = []
    for path in sorted(p for p in solution_folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        secret = path.read_text(encoding="utf-8", errors="replace")
        pieces = [("the whole file", _normalise(secret))]
        if path.suffix == ".py":
            pieces += [(f"the body of {name}()", body) for name, body in function_bodies(secret)]
        for what, piece in pieces:
            if len(piece) < MIN_LEAK_CHARS:
                continue
            for name, text in texts.items():
                if piece in text:
                    found.append(f"{name} holds {what} of {path.relative_to(solution_folder.parent)}")
    return found


def function_bodies(source: str) -> list[tuple[str, str]]:
    """(name, normalised body without its docstring) of every function in `source`."""
    lines = source.splitlines()
    bodies = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if (isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)):
                body = body[1:]
            if body:
                bodies.append((node.name, _normalise("\n".join(lines[body[0].lineno - 1:body[-1].end_lineno]))))
    return bodies


def _normalise(text: str) -> str:
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def _searchable(name: str, text: str) -> str:
    """A file's text as it would be read: a notebook's cells rather than its JSON."""
    if name.endswith(".ipynb"):
        cells = json.loads(text).get("cells", [])
        text = "\n".join("".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells)
    return _normalise(text)


def check_release(exercise: Exercise, files: dict) -> None:
    """Refuse to release a bundle that leaks, is stale, or whose public checks the reference fails."""
    from .lab_notebook import is_up_to_date

    if exercise.notebook_source and not is_up_to_date(exercise):
        raise GraderError(f"{exercise.notebook_file} is out of date: run `grade build-notebook {exercise.name}` first")
    if not exercise.has_solutions():
        raise GraderError(f"{exercise.name}: no solutions/{exercise.name}/ to check the bundle against")
    found = leaks(files, exercise.solution_folder)
    if found:
        raise GraderError(f"the bundle would leak the solutions: {'; '.join(found[:3])}")
    from ..grading.canary import reference_submission
    from ..grading.grade import grade

    result = grade(exercise, reference_submission(exercise), student="(reference)", public=True)
    problems = [f"{p.name} / {t.name}: {(t.message or 'failed').splitlines()[0]}"
                for p in result.parts for t in p.tests if not t.passed]
    if problems:
        raise GraderError(f"the reference solution fails public checks: {'; '.join(problems[:3])}")


def write_bundle(exercise: Exercise, out: Path) -> tuple[Path, dict]:
    """Write the student bundle of `exercise` into `out` (a new course root);
    returns the exercise folder written and its files. GraderError when the
    bundle would leak, is stale, or already exists."""
    target = out / "exercises" / exercise.name
    if target.exists():
        raise GraderError(f"{target} already exists; remove it or choose another --out")
    files = bundle_files(exercise)
    root_files = grader_files(exercise)
    check_release(exercise, {**files, **root_files})
    for folder, group in ((target, files), (out, root_files)):
        for relative, text in group.items():
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    return target, files
