"""`grade new NAME`: a new exercise in the course, ready to edit.

It writes the manifest, the stub module students fill in, the reference, one
hidden suite per part with a first test (and a conftest.py with a fixture and
a hint), the quiz file and its key, and a README. Every function starts as the
same small working example (the linear model's predictions), so that
`grade check NAME` passes straight away; the instructor then replaces it.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from ..errors import GraderError

NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
PART_POINTS = 80  # shared by the parts; the quiz has the rest of 100
QUIZ_POINTS = 20


def _toml_text(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(value, ensure_ascii=False)


def _split(total: int, n: int) -> list[int]:
    """`total` points in n whole shares, the larger ones first."""
    return [total // n + (i < total % n) for i in range(n)]


def manifest(title: str, module: str, functions: list[str]) -> str:
    points = _split(PART_POINTS, len(functions))
    parts = "\n".join(
        f'[[parts]]\nname = "{f}"\nfunction = "{f}"\npoints = {p}\nsuite = "test_{f}.py"\n'
        for f, p in zip(functions, points)
    )
    return f'''# The manifest: everything the grader needs to know about this exercise.
title = {_toml_text(title)}
module = "{module}"   # the file students edit: {module}.py
points = {PART_POINTS + QUIZ_POINTS}   # the total; `grade check` verifies that parts and quiz add up to it

[limits]
call_seconds = 1      # CPU seconds a call may take (or reference_multiple x the reference's, if more)
memory_mb = 1024      # address-space limit of the worker process

# Parts, graded in this order. Each names the function it grades and its hidden
# suite in solutions/<exercise>/tests/. A part may call the functions of the
# parts before it; those are replaced by the reference's unless judged correct.
{parts}
[quiz]
points = {QUIZ_POINTS}
file = "quiz.toml"

[[quiz.questions]]
id = "q1"
text = "For X of shape (m, n), what shape does {functions[0]}(X, w, b) return?"
choices = {{ A = "(m,): one prediction per example.", B = "(n,): one value per feature.", \
C = "(m, n)", D = "A single number." }}
'''


def stub_module(name: str, title: str, functions: list[str], reference: bool) -> str:
    title = title.replace("\\", "/").replace('"', "'")  # it goes into a docstring
    head = (f'"""Reference solution: {title}."""' if reference else
            f'"""{title}.\n\nFill in the functions below. Each one raises NotImplementedError until\n'
            f'you replace that line with your code. Check your work with `grade {name}`.\n"""')
    body = "    return X @ w + b\n" if reference else "    # ---- your code here ----\n    raise NotImplementedError\n"
    functions_text = "\n\n".join(f'''def {f}(X, w, b):
    """For now the linear model's prediction w.x + b for every row x of X
    (what `grade new` starts each function as: replace it with what {f}() computes).

    Args:
        X: (m, n) array of examples.
        w: (n,) array of weights.
        b: a number, the bias.
    Returns:
        An (m,) array: one prediction per example.
    """
{body}''' for f in functions)
    return f"{head}\nimport numpy as np\n\n\n{functions_text}"


def conftest(functions: list[str]) -> str:
    hints = "\n".join(f"        {f}=(bias_ignored(\"{f}\"),)," for f in functions)
    return f'''"""Fixtures shared by the hidden suites: random cases and the known mistakes that hints recognise."""
from types import SimpleNamespace

import numpy as np
import pytest

from grader.testing import Hint


@pytest.fixture
def make_case(rng):
    """make_case(m, n) -> (X, w, b): random data and a nonzero bias (b = 0 would hide a forgotten b)."""

    def make(m, n):
        X = rng.normal(0.0, 1.0, size=(m, n))
        w = rng.normal(0.0, 1.0, size=n)
        b = float(rng.uniform(0.5, 1.5) * rng.choice([-1.0, 1.0]))
        return X, w, b

    return make


def bias_ignored(fn):
    """A known mistake: the result matches the reference's with b = 0."""
    return Hint("the bias b seems to be ignored: the model is w.x + b",
                variant=lambda reference, X, w, b: getattr(reference, fn)(X, w, 0.0))


@pytest.fixture
def hints():
    return SimpleNamespace(
{hints}
    )
'''


def suite(function: str) -> str:
    return f'''"""Hidden tests for {function}."""
import pytest

from grader.testing import expect_same, expect_unchanged


@pytest.mark.points(3)
@pytest.mark.parametrize("m, n", [(1, 1), (5, 2), (40, 3)])
def test_random_data(student, reference, hints, make_case, m, n):
    """{function} on random data with a nonzero bias"""
    expect_same(student, reference, "{function}", *make_case(m, n), hints=hints.{function})


@pytest.mark.points(1)
def test_leaves_inputs_untouched(student, make_case):
    """X and w are not modified"""
    expect_unchanged(student, "{function}", *make_case(6, 2))
'''


def readme(name: str, title: str, module: str, functions: list[str]) -> str:
    todo = "\n".join(f"{i}. `{f}(X, w, b)` returns the model's prediction for every row of X."
                     for i, f in enumerate(functions, 1))
    return f'''# {title}

What this exercise is about, the formulas, and the data students work on.

## What to do

Open `{module}.py` and replace each `raise NotImplementedError` with your code:

{todo}

Then answer the quiz below in `quiz.toml`: one letter per question.

## Check your work

    grade {name}

grades every function and the quiz and tells you what went wrong where. The
grader tests your functions on other data than any example here, so do not
hard-code sizes or answers.

## Quiz

**q1.** For X of shape (m, n), what shape does {functions[0]}(X, w, b) return?
- A. (m,): one prediction per example.
- B. (n,): one value per feature.
- C. (m, n)
- D. A single number.
'''


def scaffold(root: Path, name: str, title: str, module: str, functions: list[str]) -> list[Path]:
    """Write the files of a new exercise; returns them. GraderError if NAME exists or a name is unusable."""
    if not NAME_PATTERN.match(name):
        raise GraderError(f"'{name}' cannot name an exercise: use letters, digits, '_' and '-', starting with a letter")
    for what, value in [("module", module), *(("function", f) for f in functions)]:
        if not value.isidentifier():
            raise GraderError(f"'{value}' cannot name a Python {what}")
    if len(set(functions)) != len(functions):
        raise GraderError("each --function must be named once")
    folder, solutions = root / "exercises" / name, root / "solutions" / name
    for existing in (folder, solutions):
        if existing.exists():
            raise GraderError(f"{existing} already exists")
    files = {
        folder / "exercise.toml": manifest(title, module, functions),
        folder / f"{module}.py": stub_module(name, title, functions, reference=False),
        folder / "quiz.toml": ('# Your quiz answers: one letter per question (the questions are in README.md).\n'
                               'q1 = ""\n'),
        folder / "README.md": readme(name, title, module, functions),
        solutions / f"{module}.py": stub_module(name, title, functions, reference=True),
        solutions / "quiz_key.toml": "# The quiz's answer key (instructor only).\nq1 = \"A\"\n",
        solutions / "tests" / "conftest.py": conftest(functions),
        **{solutions / "tests" / f"test_{f}.py": suite(f) for f in functions},
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(files)
