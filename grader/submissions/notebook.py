"""Notebook submissions: a Jupyter notebook read as the student's module.

The module is the notebook's code cells, in order; stored outputs are never
read. IPython syntax is removed, never run: line magics (`%matplotlib inline`),
shell escapes (`!pip install ...`, `files = !ls`), help (`np.exp?`) and cell
magics (`%%bash`, `%%writefile`); of `%%time`, `%%timeit` and `%%capture`
only the magic line goes, their Python body stays. Magics written without the
% (`pip install numpy`) go too, from cells that are not valid Python otherwise.

Each top-level statement runs in a `try` block of its own, as under notebook
graders that allow errors: a statement that fails while the module is imported
(a print of a function not written yet, say) does not stop the rest. Cells
tagged `demo` (the lab's worked examples, its training run and its plots) keep
only their imports and definitions, so importing a notebook stays fast. A cell
with a syntax error is kept as it is, so the import fails as it would for a
.py file with that error.

The in-notebook checks are left out: cells tagged `check` (the lab notebook's
`check("sigmoid")` cells) and, in any cell, a top-level `check(...)` call or
`from grader import check`. Grading never runs the grader inside the sandbox.
"""
from __future__ import annotations

import ast
import io
import json
import re
import tokenize
import warnings
from pathlib import Path

from ..errors import GraderError

MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024  # stored outputs (images) make notebooks big
DEMO_TAG = "demo"
CHECK_TAG = "check"
QUIZ_VARIABLE = "quiz_answers"
PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun"}
# Magics IPython also runs without the % ("automagic"), as in `pip install numpy`.
AUTOMAGICS = {"pip", "conda", "mamba", "cd", "ls", "pwd", "matplotlib", "load_ext", "reload_ext", "autoreload",
              "time", "timeit", "env", "who", "whos", "history", "run", "config", "pylab", "precision",
              "cat", "mkdir", "rm", "cp", "mv", "reset"}
DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)

_ASSIGNED_ESCAPE = re.compile(r"\s*[A-Za-z_][\w.]*(\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*[!%]")
_HELP = re.compile(r"\s*(\?\??[\w.]+|[\w.]+\?\??)\s*$")


def read_notebook(path: Path, data: bytes | None = None):
    """The notebook at `path` (nbformat 4), or a one-line GraderError; `data`:
    its bytes, when they were read already (once, from an opened file)."""
    import nbformat

    path = Path(path)
    if data is None:
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            raise GraderError(f"{path}: larger than {MAX_NOTEBOOK_BYTES // (1024 * 1024)} MB")
        data = path.read_bytes()
    try:
        text = data.decode("utf-8")
        data = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise GraderError(f"{path}: not a valid notebook (not JSON: {_first_line(exc)})") from None
    except RecursionError:
        raise GraderError(f"{path}: not a valid notebook (nested too deeply)") from None
    if not isinstance(data, dict) or "nbformat" not in data:
        raise GraderError(f"{path}: not a valid notebook (no nbformat field)")
    if _has_surrogates(data):  # "\ud800" is valid JSON but no text: it could not be sent or hashed
        raise GraderError(f"{path}: not a valid notebook (it holds text that is not valid Unicode)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # missing cell ids and the like are not the student's problem
            nb = nbformat.reads(text, as_version=4)
            nbformat.validate(nb)
    except Exception as exc:  # noqa: BLE001 - nbformat raises several unrelated types for malformed files
        raise GraderError(f"{path}: not a valid notebook ({_first_line(exc)})") from None
    return nb


def _has_surrogates(data) -> bool:
    """Whether any string of the JSON data `data` (keys included) holds a lone surrogate."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False


def _first_line(exc) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def code_cells(nb) -> list:
    """(source, tags) of every code cell, in order."""
    return [(str(c.source), list(c.get("metadata", {}).get("tags", []))) for c in nb.cells if c.cell_type == "code"]


def notebook_source(nb) -> tuple[str, list]:
    """The Python module a notebook amounts to (see the module docstring), and
    where each of its lines comes from: (code cell number, line in the cell),
    or None for lines the conversion added."""
    future, body = [], []
    for number, (source, tags) in enumerate(code_cells(nb), 1):
        if CHECK_TAG in tags:
            continue
        body.append((f"# --- code cell {number}" + (" (demo: definitions only)" if DEMO_TAG in tags else ""), None))
        cell_future = []
        body.extend((text, None if line is None else (number, line))
                    for text, line in _guarded(strip_ipython(source), DEMO_TAG in tags, cell_future))
        future.extend((text, (number, line)) for text, line in cell_future)
    lines = [("# The code cells of a notebook, as the grader runs them.", None), *future, *body]
    return "".join(text + "\n" for text, _ in lines), [origin for _, origin in lines]


def strip_ipython(source: str) -> str:
    """`source` with IPython-only lines replaced by `pass` (cell magics: see the module docstring)."""
    lines = python_lines(source)
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        name = lines[first].lstrip()[2:].split(maxsplit=1)[0] if lines[first].strip() != "%%" else ""
        if name not in PYTHON_CELL_MAGICS:
            return ""
        lines[first] = ""
    starts = _logical_line_starts(lines)
    for i, line in enumerate(lines):
        if i in starts and _is_ipython(line):
            lines[i] = _pass(line)
    code = "\n".join(lines)
    if _parses(code):
        return code
    # Only in code that is not Python anyway: `pip install x`, `cd ..` and the like.
    without = "\n".join(_pass(line) if i in starts and _is_automagic(line) else line for i, line in enumerate(lines))
    return without if _parses(without) else code


def python_lines(code: str) -> list:
    """`code` split where Python ends a line (\\n, \\r\\n, \\r), so that the line numbers
    match the parser's; str.splitlines also splits at form feeds and U+2028,
    which may sit in a comment or a string."""
    lines = code.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return lines[:-1] if lines[-1] == "" else lines


def _pass(line: str) -> str:
    return line[: len(line) - len(line.lstrip())] + "pass"


def _is_automagic(line: str) -> bool:
    """`WORD args` with WORD a magic's name and args that cannot continue a Python expression."""
    word, _, rest = line.strip().partition(" ")
    rest = rest.strip()
    if word not in AUTOMAGICS or not rest:
        return False
    return not (rest[0] in "=([,:;+-*/%<>!&|^~@" or re.match(r"\.\s*[A-Za-z_]", rest))


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _is_ipython(line: str) -> bool:
    text = line.lstrip()
    return text[:1] in ("%", "!") or bool(_ASSIGNED_ESCAPE.match(line)) or bool(_HELP.match(line))


def _logical_line_starts(lines: list) -> set:
    """Indexes of the lines that begin a logical line: not inside a string,
    brackets or a backslash continuation. A line that is itself IPython syntax
    is not scanned, so its quotes and brackets cannot confuse what follows."""
    starts, depth, quote, continued = set(), 0, "", False
    for index, line in enumerate(lines):
        if not quote and depth == 0 and not continued:
            starts.add(index)
            if _is_ipython(line):
                continue
        continued = False
        i = 0
        while i < len(line):
            ch = line[i]
            if quote:
                if ch == "\\":
                    i += 2
                    continue
                if line.startswith(quote, i):
                    i += len(quote)
                    quote = ""
                    continue
            elif ch == "#":
                break
            elif ch in "\"'":
                quote = ch * 3 if line.startswith(ch * 3, i) else ch
                i += len(quote)
                continue
            elif ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth = max(depth - 1, 0)
            elif ch == "\\" and i == len(line) - 1:
                continued = True
            i += 1
        if len(quote) == 1:  # a one-quote string cannot span lines unless continued
            continued = line.endswith("\\")
            quote = quote if continued else ""
    return starts


def _guarded(code: str, demo: bool, future: list) -> list:
    """(line, line number in `code` or None) of `code` with every top-level
    statement group in its own try block; for a demo cell only its definitions.
    Code that does not parse is left as it is. `__future__` imports go to `future`."""
    lines = python_lines(code)
    try:
        tree = ast.parse(code)
        inside_strings = _string_interior_lines(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError, tokenize.TokenError):
        return [(line, number) for number, line in enumerate(lines, 1)]
    out, done = [], 0
    for first, last, nodes in _statement_groups(tree):
        out.extend((lines[i], i + 1) for i in range(done, first - 1))  # comments and blank lines between statements
        done = last
        group = [(lines[i], i + 1) for i in range(first - 1, last)]
        if all(isinstance(n, ast.ImportFrom) and n.module == "__future__" for n in nodes):
            future.extend(group)
            continue
        if demo and not all(isinstance(n, DEFINITIONS) for n in nodes):
            continue
        if all(isinstance(n, ast.Pass) or _is_check(n) for n in nodes):  # removed IPython lines, checks
            continue
        out.append(("try:", None))
        out.extend((line if number in inside_strings else "    " + line, number) for line, number in group)
        out += [("except Exception:", None), ("    pass", None)]
    out.extend((lines[i], i + 1) for i in range(done, len(lines)))
    return out


def _is_check(node) -> bool:
    """`check(...)`, `grader.check(...)` or `from grader import check`: the in-notebook checks."""
    if isinstance(node, ast.ImportFrom):
        return node.module == "grader" and all(a.name == "check" for a in node.names)
    call = node.value if isinstance(node, ast.Expr) else None
    function = call.func if isinstance(call, ast.Call) else None
    return (isinstance(function, ast.Name) and function.id == "check") or (
        isinstance(function, ast.Attribute) and function.attr == "check"
        and isinstance(function.value, ast.Name) and function.value.id == "grader")


def _statement_groups(tree) -> list:
    """(first line, last line, statements): top-level statements, merged when they share a line."""
    groups = []
    for node in tree.body:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        if groups and first <= groups[-1][1]:
            groups[-1] = (groups[-1][0], max(groups[-1][1], node.end_lineno), groups[-1][2] + [node])
        else:
            groups.append((first, node.end_lineno, [node]))
    return groups


def _string_interior_lines(code: str) -> set:
    """Line numbers that lie inside a multi-line string: indenting them would change the string."""
    inside = set()
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.start[0] < token.end[0] and token.type not in (tokenize.NEWLINE, tokenize.NL):
            inside.update(range(token.start[0] + 1, token.end[0] + 1))
    return inside


def locate(message: str, origins: list, module_file: str) -> str:
    """`message` with the line numbers of the converted module (`at line N:`,
    `(MODULE.py, line N)`) told as places in the notebook's code cells."""

    def place(number: str) -> str:
        index = int(number) - 1
        origin = origins[index] if 0 <= index < len(origins) else None
        return f"code cell {origin[0]}, line {origin[1]}" if origin else f"line {number} of the converted notebook"

    message = re.sub(r"\bat line (\d+):", lambda m: f"at {place(m.group(1))}:", message)
    return re.sub(rf"\({re.escape(module_file)}, line (\d+)\)", lambda m: f"({place(m.group(1))})", message)


def quiz_answers(nb) -> tuple[dict | None, str]:
    """The answers in the notebook's quiz cell (`quiz_answers = {...}`, the
    last one wins), read without running anything; (None, "") when there is
    no such cell, (None, reason) when it cannot be read."""
    found, problem = None, ""
    for source, _ in code_cells(nb):
        if QUIZ_VARIABLE not in source:
            continue
        try:
            tree = ast.parse(strip_ipython(source))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            found, problem = None, f"the quiz cell ({QUIZ_VARIABLE} = ...) has a syntax error"
            continue
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == QUIZ_VARIABLE
                                                    for t in node.targets):
                try:
                    value = ast.literal_eval(node.value)
                except (ValueError, TypeError, SyntaxError, RecursionError):
                    value = None
                found, problem = _answers(value), ""
                if found is None:
                    problem = f"the quiz cell: {QUIZ_VARIABLE} must be a plain dict like {{\"q1\": \"B\"}}"
    return found, problem


def _answers(value) -> dict | None:
    """The quiz cell's dict as text answers, or None when it is no dict (or holds values that cannot be text)."""
    if not isinstance(value, dict):
        return None
    try:
        return {str(k): str(v) for k, v in value.items()}
    except (ValueError, RecursionError):  # str() of an integer of thousands of digits; lists nested too deeply
        return None
