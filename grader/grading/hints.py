"""Hints on failed calls, for the mistakes students really make, worked out in
the trusted process from what a call came to and the exercise's own files.

- A NameError on a variable of the lab's notebook (`X_train`) or on a size its
  docstrings name (`m` of "X: (m, n) array"): the function worked in the
  notebook only because a cell there defines that name. The hint says which
  argument to use instead. The names come from the exercise's notebook (its
  top-level assignments) and its stub module (parameters and docstrings), not
  from a list kept here.
- A function of a notebook submission that reads such a name: in the
  notebook the name exists, so the function runs, but on other inputs than
  the lab's it fails in ways that do not name the cause (an IndexError, a
  result of the wrong shape). `add_notebook_hints` finds the reads in the
  submission's source and gives each failing test of that part the hint.
- Shapes that do not fit (a product's inner sizes, broadcasting): the hint
  names the shapes the function received and the transpose that would fit.

Also `failure_cause`: what a failed call comes down to, the key under which
reports show failures with one cause once.
"""
from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..course import Exercise


@dataclass(frozen=True)
class LabNames:
    """What the exercise's files say about names: the notebook's variables, and
    each function's parameters and the sizes its docstring gives them."""

    notebook: frozenset = frozenset()
    params: dict = field(default_factory=dict)  # function -> [parameter names]
    sizes: dict = field(default_factory=dict)  # function -> {size name: "X.shape[0]"}


def lab_names(exercise: Exercise) -> LabNames:
    """The names of `exercise`'s notebook and stub module (read once per process)."""
    notebook = exercise.folder / exercise.notebook_file if exercise.notebook_file else None
    return _read_names(str(notebook or ""), str(exercise.folder / exercise.module_file))


@lru_cache(maxsize=8)
def _read_names(notebook: str, module: str) -> LabNames:
    params, sizes = {}, {}
    for node in _tree(_read(module)).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names = [a.arg for a in (*node.args.posonlyargs, *node.args.args)]
            params[node.name] = names
            sizes[node.name] = _sizes(ast.get_docstring(node) or "", names)
    return LabNames(_notebook_variables(notebook) if notebook else frozenset(), params, sizes)


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def _tree(code: str) -> ast.Module:
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ast.Module(body=[], type_ignores=[])


def _notebook_variables(path: str) -> frozenset:
    """Names assigned at the top level of the notebook's code cells."""
    from ..submissions.notebook import strip_ipython

    try:  # the exercise's own notebook: plain JSON is enough, without nbformat's validation
        cells = json.loads(Path(path).read_text(encoding="utf-8")).get("cells", [])
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        return frozenset()
    names = set()
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        for node in _tree(strip_ipython("".join(source) if isinstance(source, list) else str(source))).body:
            if isinstance(node, ast.Assign):
                names.update(n for target in node.targets for n in _bound(target))
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
                names.update(_bound(node.target))
    return frozenset(names)


def _bound(target) -> list:
    """The names an assignment target binds (`m, n = ...` binds both; `X[0] = ...` none)."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for t in target.elts for n in _bound(t)]
    if isinstance(target, ast.Starred):
        return _bound(target.value)
    return []


# A parameter's line in a docstring, with its shape: "X: (m, n) array of examples."
_SHAPE_OF = r"^\s*{}\b[^\n]*?\((\s*[A-Za-z_]\w*\s*(?:,\s*[A-Za-z_]\w*\s*)*,?\s*)\)"


def _sizes(doc: str, params: list) -> dict:
    """Size name -> the expression giving it from the arguments, as the docstring
    shapes them: "X: (m, n) array" makes m X.shape[0] and n X.shape[1]."""
    found = {}
    for name in params:
        shape = re.search(_SHAPE_OF.format(re.escape(name)), doc, re.MULTILINE)
        if shape:
            for axis, size in enumerate(s.strip() for s in shape.group(1).split(",") if s.strip()):
                found.setdefault(size, f"{name}.shape[{axis}]")
    return found


def failure_cause(outcome) -> str:
    """What a failed call comes down to: calls failing with the same exception
    at the same line (or timing out, or crashing) have one cause."""
    if outcome is None or outcome.ok:
        return ""
    if outcome.kind == "exception":
        line = outcome.where[-1].get("line") if outcome.where else None
        return f"{outcome.fn}() raised {outcome.error_type}" + (f" at line {line}" if line else "")
    if outcome.kind == "skipped":
        return f"{outcome.fn}() not run"
    return f"{outcome.fn}(): {outcome.kind}"


def failure_hint(outcome, inputs, exercise: Exercise) -> str:
    """Advice on a failed call of the student's function, or ""."""
    if outcome is None or outcome.kind != "exception":
        return ""
    if outcome.error_type == "NameError":
        named = re.match(r"name '(\w+)' is not defined", outcome.message)
        return _name_hint(outcome.fn, named.group(1), lab_names(exercise)) if named else ""
    if _SHAPE_ERROR.search(outcome.message):
        return _shape_hint(outcome.fn, outcome.message, inputs, lab_names(exercise).params.get(outcome.fn))
    return ""


def import_hint(outcome) -> str:
    """Advice on a module that could not be imported, for the slips Python's own message
    leaves cryptic (indentation above all), or ""."""
    if outcome is None or outcome.kind not in ("load", "exception"):
        return ""
    code = outcome.where[-1].get("code", "") if outcome.where else ""
    line = f"`{code}`" if code else "the line shown"
    message, kind = outcome.message, outcome.error_type
    if kind == "TabError":
        return "the indentation mixes tabs and spaces: indent with spaces only (4 per level)"
    if kind == "IndentationError" and "unindent does not match" in message:
        return (f"{line} is indented by an amount that no line above it in its block has: give it exactly the "
                "indentation of the lines it belongs with (inside a loop, or level with the loop)")
    if kind == "IndentationError" and "expected an indented block" in message:
        return "a line that ends in ':' (def, if, for, while) must be followed by lines indented one level more"
    if kind == "IndentationError" and "unexpected indent" in message:
        return f"{line} is indented more than the line above it, which opens no block: indent it as that line"
    if kind == "SyntaxError" and "expected ':'" in message:
        return f"{line} opens a block (def, if, for, while, else): it must end with ':'"
    if kind == "SyntaxError" and "was never closed" in message:
        return "a bracket or quote opened here is never closed: add the closing one"
    return ""


def add_notebook_hints(results: dict, source: str, exercise: Exercise) -> None:
    """Give the failing tests of each part whose function reads a variable of
    the lab's notebook (or a size such as m) from the module, instead of
    working from its arguments, the hint that says so; tests that have a hint
    keep theirs. `results`: part name -> its TestResults, changed in place."""
    unexplained = [(part.function, [t for t in results.get(part.name, []) if not t.passed and not t.hint])
                   for part in exercise.parts]
    if not any(tests for _, tests in unexplained):  # the usual case costs nothing
        return
    lab, tree = lab_names(exercise), _tree(source)
    for fn, tests in unexplained:
        read = _notebook_read(tree, fn, lab) if tests else ""
        hint = _name_hint(fn, read, lab, reads=True) if read else ""
        for test in tests if hint else ():
            test.hint = hint
            test.message += f"\nhint: {hint}"


def _notebook_read(tree: ast.Module, fn: str, lab: LabNames) -> str:
    """The first name of the notebook's (or a size) that function `fn` reads but never sets, or ""."""
    names = lab.notebook | {size for sizes in lab.sizes.values() for size in sizes}
    # A notebook's module puts each cell's statements in a try block: look below the top level too.
    defined = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == fn]
    if not defined:
        return ""
    node = max(defined, key=lambda n: n.lineno)  # the definition in force: the last
    arguments = node.args
    own = {a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                           *filter(None, (arguments.vararg, arguments.kwarg)))}
    own |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    read = [n for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
            and n.id in names and n.id not in own]
    return min(read, key=lambda n: (n.lineno, n.col_offset)).id if read else ""


def _name_hint(fn: str, name: str, lab: LabNames, reads: bool = False) -> str:
    params = lab.params.get(fn)
    if params is None:
        return ""
    size = lab.sizes.get(fn, {}).get(name)
    in_notebook = name in lab.notebook
    if not (size or in_notebook):
        return ""
    if reads:
        what = f"{fn}() reads {name} from the notebook, not from its arguments"
    elif in_notebook:
        what = f"{name} is a variable of the lab's notebook, not of {fn}()"
    else:
        what = f"{name} is not defined in {fn}() (a variable of your notebook?)"
    if size:
        return f"{what}: compute it from the arguments, {name} = {size}"
    same = [p for p in params if p.split("_")[0] == name.split("_")[0]]
    if same:
        return f"{what}: use its argument {same[0]} instead"
    if len(params) == 1:
        return f"{what}: work from its argument {params[0]} alone"
    return f"{what}: work from its arguments ({', '.join(params)}) alone"


_SHAPE_ERROR = re.compile(r"could not be broadcast|not aligned|^matmul: .*mismatch|could not broadcast|"
                          r"non-broadcastable")
_SHAPE = re.compile(r"\((\d+(?:,\s*\d+)*)?,?\)")


def _shape_hint(fn: str, message: str, inputs, params) -> str:
    names = params or [f"arg{i}" for i in range(len(inputs))]
    arrays = [(n, a.shape) for n, a in zip(names, inputs) if isinstance(a, np.ndarray) and a.ndim]
    if not arrays:
        return ""
    received = f"{fn}() received " + ", ".join(f"{n} {_text(s)}" for n, s in arrays)
    shapes = [tuple(int(d) for d in m.group(1).split(",")) if m.group(1) else () for m in _SHAPE.finditer(message)]
    product = re.search(r"size (\d+) is different from (\d+)", message)
    if "not aligned" in message and len(shapes) >= 2:
        left, right = shapes[0], shapes[1]
        inner = (left[-1], right[0] if len(right) == 1 else right[-2])
    elif product:  # numpy names the second operand's size first
        operand = re.search(r"operand (\d)", message)
        own, wanted = int(product.group(1)), int(product.group(2))
        inner = (wanted, own) if not operand or operand.group(1) == "1" else (own, wanted)
    else:
        inner = None
    if inner:
        fixes = [f"{n}.T, of shape {_text(s[::-1])}" for n, s in arrays if s == (inner[1], inner[0])]
        return (f"{received}; a product in it has inner sizes {inner[0]} and {inner[1]} "
                "(A @ B needs A's last size = B's first)" + (f": try {fixes[0]}" if fixes else ""))
    if len(shapes) < 2:
        return ""
    a, b = shapes[0], shapes[1]
    fixes = [f"{n}.T" for n, s in arrays if len(s) == 2 and s in (a, b) and _broadcasts(s[::-1], b if s == a else a)]
    vector = next((v for v, o in ((a, b), (b, a)) if len(v) == 1 and len(o) == 2 and o[0] == v[0]), None)
    if vector:
        fixes.append(f"make the {_text(vector)} operand a column with .reshape(-1, 1)")
    return (f"{received}; shapes {_text(a)} and {_text(b)} meet in an elementwise operation, which needs "
            "sizes that match from the right (or are 1)" + (f": try {', or '.join(fixes)}" if fixes else ""))


def _broadcasts(a, b) -> bool:
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


def _text(shape) -> str:
    return f"({shape[0]},)" if len(shape) == 1 else f"({', '.join(map(str, shape))})"
