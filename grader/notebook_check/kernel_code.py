"""The student's module as the running kernel holds it now, as source text.

`check()` grades the functions as they are defined at this moment, without the
notebook being saved: each part's function is read back from the kernel
(`inspect.getsource`, which IPython makes work for cells), together with what
it uses from the notebook: the student's helper functions, the imports
(`import numpy as np`, `from math import exp`) and plain constants. Nothing
is run here; the text goes to the sandbox like any submission.

IPython's input history (`_ih`) tells the cases a student can be in apart: a
function not defined because its cell was never run, or because its cell has a
syntax error (so the function cannot be defined), or because the cell stopped
with an error before reaching the definition.
"""
from __future__ import annotations

import ast
import builtins
import inspect
import re
import symtable
import sys
import textwrap
import types
from dataclasses import dataclass, field
from pathlib import Path

MAX_CONSTANT_CHARS = 100_000  # a constant's repr beyond this is left behind
MAX_ARRAY_SIZE = 10_000


@dataclass
class KernelCode:
    """A module's source built from the kernel, and how its lines map back to cells."""

    source: str = ""
    places: list = field(default_factory=list)  # per line: (where, line there) or None
    missing: dict = field(default_factory=dict)  # part function -> why it is not in the source
    notes: list = field(default_factory=list)  # what could not be taken along


def latest_definition(name: str, history: list) -> str | None:
    """The last cell run that defines `name` at its top level (by its text: it may not parse)."""
    pattern = re.compile(rf"^(?:async[ \t]+)?def[ \t]+{re.escape(name)}[ \t]*\(", re.M)
    return next((text for text in reversed(history) if pattern.search(text)), None)


def why_undefined(name: str, value, history: list) -> str:
    """Why `name` cannot be checked as it stands in the kernel, or "" when it can."""
    cell = latest_definition(name, history)
    if cell is not None:
        try:
            ast.parse(cell)
        except SyntaxError as exc:
            shown = (exc.text or "").strip()
            return (f"the cell that defines {name} has a syntax error (line {exc.lineno}"
                    f"{': ' + shown if shown else ''}), so {name} cannot be defined: fix it and run the cell again")
    if value is _MISSING:
        if cell is not None:
            return (f"the cell that defines {name} was run but stopped with an error before defining it: "
                    "fix that error and run the cell again")
        return f"{name} is not defined yet: run the cell that defines {name} first"
    if _function_of(value) is None:
        return f"{name} is a {type(value).__name__}, not a function: define it with `def {name}(...):`"
    return ""


_MISSING = object()


def read_kernel(functions: list[str], namespace: dict, history: list, cell_names: dict | None = None,
                given: dict | None = None) -> KernelCode:
    """The module made of the functions named `functions` (the exercise's parts,
    in order) as defined in `namespace`, with what they use; `given` holds
    function objects passed to check() directly, used instead of the namespace's.
    `cell_names` maps a code object's file name to IPython's cell number."""
    builder = _Builder(set(functions), history, cell_names or {})
    code = builder.code
    for name in functions:
        value = (given or {}).get(name, namespace.get(name, _MISSING))
        problem = why_undefined(name, value, history)
        if problem:
            code.missing[name] = problem
        else:
            builder.take(name, value, namespace, parts=True)
    lines, places = [], []
    for text, where, first in [*builder.imports.values(), *builder.constants, *builder.helpers, *builder.parts]:
        block = text.splitlines()
        lines += block + [""]
        places += [(where, first + i) if where else None for i in range(len(block))] + [None]
    code.source = "".join(line + "\n" for line in lines)
    code.places = places
    return code


class _Builder:
    def __init__(self, part_functions: set, history: list, cell_names: dict):
        self.part_functions = part_functions
        self.history = history
        self.cell_names = cell_names
        self.code = KernelCode()
        self.imports: dict[str, tuple] = {}  # bound name -> (text, None, 0)
        self.constants: list[tuple] = []
        self.helpers: list[tuple] = []
        self.parts: list[tuple] = []
        self.seen: set[str] = set()

    def take(self, name: str, value, namespace: dict, parts: bool = False) -> None:
        """Add the definition of function `name` and, first, everything it uses."""
        self.seen.add(name)
        function = _function_of(value)
        try:
            lines, first = inspect.getsourcelines(function)
        except (OSError, TypeError) as exc:
            return self._cannot(name, f"the source of {name} cannot be read ({exc})", parts)
        text = textwrap.dedent("".join(lines)).rstrip("\n")
        try:
            tree = ast.parse(text)
        except SyntaxError:
            tree = None
        defined = {n for node in tree.body for n in _bound_names(node)} if tree else set()
        lambda_ = function.__name__ == "<lambda>"
        if tree is None or (lambda_ and name not in defined):  # a lambda in the middle of a line, say
            return self._cannot(name, f"the source of {name} cannot be read on its own "
                                      f"(define it with `def {name}(...):`)", parts)
        head = tree.body[0] if tree.body else None
        if not lambda_ and getattr(head, "name", None) != function.__name__:  # a file edited since its import
            return self._cannot(name, f"the source of {name} no longer matches the function this kernel holds "
                                      "(its file changed since it was imported): reload it or restart the kernel",
                                parts)
        if name not in defined:  # `sigmoid = my_sigmoid`
            text += f"\n{name} = {function.__name__}"
        scope = getattr(function, "__globals__", namespace)
        for used in sorted(_global_names(text) - defined - {function.__name__}):
            self._use(used, scope, name)
        (self.parts if parts else self.helpers).append((text, self._where(name, function), first))

    def _cannot(self, name: str, problem: str, part: bool) -> None:
        if part:
            self.code.missing[name] = problem
        else:
            self.code.notes.append(f"{problem}; it is checked without it")

    def _where(self, name: str, function) -> str:
        """Where a function's lines are, as IPython's tracebacks say it: "Cell In[5]", or its file."""
        filename = function.__code__.co_filename
        number = self.cell_names.get(filename)
        if number is not None:
            return f"Cell In[{number}]"
        return Path(filename).name if Path(filename).is_file() else f"the cell defining {name}"

    def _use(self, name: str, scope: dict, user: str) -> None:
        """Take along what `user` refers to as `name`: an import, a helper, a constant."""
        if name in self.seen or name in self.part_functions:
            return
        self.seen.add(name)
        if name not in scope:
            return  # a builtin, or undefined: grading says so as it would for a file
        value = scope[name]
        if isinstance(value, types.ModuleType):
            module = value.__name__
            self.imports[name] = (f"import {module}" if module == name else f"import {module} as {name}", None, 0)
            return
        function = _function_of(value)
        if function is not None and getattr(value, "__module__", None) == scope.get("__name__"):
            self.take(name, value, scope)
            return
        imported = _import_line(name, value) or self._import_in_history(name)
        if imported:
            self.imports[name] = (imported, None, 0)
            return
        constant = _constant(name, value)
        if constant:
            self.constants.append((constant, None, 0))
            return
        if name in vars(builtins):  # IPython's display() and the like: not in a plain Python
            return
        self.code.notes.append(f"{user} uses {name}, a {type(value).__name__} of the notebook that cannot be "
                               f"copied into the check: {user} is checked without it")

    def _import_in_history(self, name: str) -> str:
        """The last import statement run in the kernel that binds `name`, as one import."""
        for text in reversed(self.history):
            try:
                tree = ast.parse(text)
            except SyntaxError:
                continue
            for node in reversed([n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]):
                for alias in node.names:
                    bound = alias.asname or alias.name.split(".")[0]
                    if bound != name or alias.name == "*":
                        continue
                    suffix = f" as {alias.asname}" if alias.asname else ""
                    if isinstance(node, ast.Import):
                        return f"import {alias.name}{suffix}"
                    if node.level == 0:
                        return f"from {node.module} import {alias.name}{suffix}"
        return ""


def _function_of(value):
    """The Python function behind `value` (a function, one decorated with functools.wraps, np.vectorize), or None."""
    try:
        unwrapped = inspect.unwrap(value) if callable(value) else value
    except ValueError:  # a cycle of __wrapped__
        unwrapped = value
    for candidate in (unwrapped, getattr(value, "pyfunc", None)):
        if isinstance(candidate, types.FunctionType):
            return candidate
    return None


def _bound_names(node) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    return []


def _global_names(text: str) -> set[str]:
    """The global names `text` refers to (free names of its functions and top level)."""
    found = set()

    def walk(table):
        for symbol in table.get_symbols():
            if symbol.is_referenced() and (symbol.is_global() or table.get_type() == "module"):
                found.add(symbol.get_name())
        for child in table.get_children():
            walk(child)

    walk(symtable.symtable(text, "<cell>", "exec"))
    return found


def _import_line(name: str, value) -> str:
    """`from MODULE import NAME` when that gives back this very object."""
    module = getattr(value, "__module__", None)
    attribute = getattr(value, "__name__", None)
    if not isinstance(module, str) or not isinstance(attribute, str) or module == "__main__":
        return ""
    try:
        found = getattr(sys.modules.get(module), attribute, None)
    except Exception:  # noqa: BLE001 - a module's __getattr__ may raise anything
        return ""
    if found is not value:
        return ""
    return f"from {module} import {attribute}" + (f" as {name}" if name != attribute else "")


def _constant(name: str, value) -> str:
    """`NAME = value` for a plain literal or a small numeric numpy array; "" otherwise."""
    numpy = sys.modules.get("numpy")
    if numpy is not None and type(value) is numpy.ndarray:
        if value.size > MAX_ARRAY_SIZE or value.dtype.kind not in "biuf":
            return ""
        return f'{name} = __import__("numpy").array({value.tolist()!r}, dtype="{value.dtype.str}")'
    if type(value) not in (int, float, complex, str, bytes, bool, type(None), tuple, list, dict, set, frozenset):
        return ""
    text = repr(value)
    if len(text) > MAX_CONSTANT_CHARS:
        return ""
    try:
        same = ast.literal_eval(text) == value
    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
        return ""
    return f"{name} = {text}" if same else ""
