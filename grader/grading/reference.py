"""The reference solution in the trusted process: imported once per process,
its results remembered by input, one key for a call and its inputs, the CPU
time it needs for a call, and the source of the functions whose reference
the manifest allows to be shown (to run as stand-ins inside the worker)."""
from __future__ import annotations

import builtins
import hashlib
import importlib.util
import time
from pathlib import Path

from ..errors import GraderError
from ..sandbox import wire

_REFERENCES: dict = {}


def load_reference(path: Path):
    """The reference module, imported by path once per process (it is trusted
    code), behind a memo so repeated inputs (the lab's long run) cost once."""
    key = (str(path), path.stat().st_mtime_ns)
    if key not in _REFERENCES:
        name = f"_reference_{abs(hash(key))}"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _REFERENCES[key] = MemoReference(module)
    return _REFERENCES[key]


class MemoReference:
    """Calls the reference module's functions, remembering results by input."""

    MAX_ELEMENTS = 10_000  # only small inputs are worth a key

    def __init__(self, module):
        self.module = module
        self.memo = {}

    def __getattr__(self, fn):
        # Only reached once per name: the wrapper is kept as an attribute.
        target = getattr(self.module, fn)
        if not callable(target):
            return target

        def call(*args):
            key = call_key(fn, args, ()) if _elements(args) <= self.MAX_ELEMENTS else None
            if key is None:
                return target(*args)
            if key not in self.memo:
                self.memo[key] = wire.encode(target(*args))
            return wire.decode(self.memo[key])  # a fresh copy each time

        import inspect

        call.__signature__ = inspect.signature(target)
        setattr(self, fn, call)
        return call


def _elements(args) -> int:
    import numpy as np

    return sum(a.size for a in args if isinstance(a, np.ndarray))


def manifest_args(raw) -> tuple:
    """A call's arguments as the manifest writes them (early calls and checks): a list stands for a numpy array."""
    import numpy as np

    return tuple(np.array(a) if isinstance(a, list) else a for a in raw)


def call_key(fn, args, oracles) -> str:
    """One key for a call and its inputs (and the reference functions standing in).

    Hashes the values' types and contents directly (an array's dtype, shape
    and bytes), which costs far less than encoding them for the wire.
    """
    digest = hashlib.sha256(f"{fn}\0{list(oracles)}\0".encode())
    for arg in args:
        _feed(digest, arg)
    return digest.hexdigest()


def _feed(digest, value) -> None:
    import numpy as np

    kind = type(value)
    if kind is np.ndarray and not value.dtype.hasobject:
        digest.update(f"array {value.dtype.str} {value.shape}:".encode())
        digest.update(np.ascontiguousarray(value).tobytes())
    elif kind is list or kind is tuple:
        digest.update(f"{kind.__name__} {len(value)}(".encode())
        for item in value:
            _feed(digest, item)
        digest.update(b")")
    else:  # numbers, strings, None; anything else by its JSON form
        text = (repr(value) if kind in (int, float, bool, str, type(None)) or isinstance(value, np.generic)
                else wire.encode(value).data.hex())
        digest.update(f"{kind.__module__}.{kind.__qualname__} {text};".encode())


_SECONDS: dict = {}


def arg_copies(args) -> list:
    """The arguments with each array copied, so that a call cannot change the caller's."""
    import numpy as np

    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


def reference_seconds(reference: MemoReference, fn: str, args) -> float | None:
    """The CPU seconds the reference takes for `fn(*args)` (None if it cannot
    run them), measured once per process and call."""
    key = (id(reference), call_key(fn, args, ()))
    if key not in _SECONDS:
        import numpy as np

        copies = arg_copies(args)
        started = time.process_time()
        try:
            with np.errstate(all="ignore"):
                getattr(reference.module, fn)(*copies)
            _SECONDS[key] = time.process_time() - started
        except Exception:  # noqa: BLE001 - inputs the reference refuses: the call keeps its floor
            _SECONDS[key] = None
    return _SECONDS[key]


class ShownReference:
    """The reference functions of the parts marked `public_reference` in the
    manifest, as source to run inside the worker: each with the imports,
    literal constants and helper functions it uses, and nothing else. A shown
    function may call only functions of earlier parts that are shown too (or
    helpers of its own), never a later part's, so no call ever carries a
    reference the student may not see."""

    def __init__(self, source: str, parts, where: str):
        import ast

        tree = ast.parse(source)
        self.definitions: dict[str, tuple[int, str]] = {}  # name -> (position, source)
        self.imports: set[str] = set()
        nodes: dict[str, ast.FunctionDef] = {}
        for position, node in enumerate(tree.body):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    one = type(node)(names=[alias], **({"module": node.module, "level": node.level}
                                                      if isinstance(node, ast.ImportFrom) else {}))
                    name = alias.asname or alias.name.split(".")[0]
                    self.definitions[name] = (position, ast.unparse(one))
                    self.imports.add(name)
            elif isinstance(node, ast.Assign) and _literal(node.value):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        self.definitions[target.id] = (position, ast.unparse(node))
            elif isinstance(node, ast.FunctionDef):
                nodes[node.name] = node
                self.definitions[node.name] = (position, ast.unparse(node))
        order = [p.function for p in parts]
        self.functions = [p.function for p in parts if p.public_reference]
        self.needs: dict[str, set[str]] = {}
        for fn in self.functions:
            if fn not in nodes:
                raise GraderError(f"{where}: the reference defines no function {fn}() to show")
            allowed = set(order[:order.index(fn)]) & set(self.functions)
            self.needs[fn] = self._needs(fn, nodes, set(order), allowed, where, set())
        self._bundles: dict = {}

    def _needs(self, fn, nodes, part_functions, allowed, where, seen) -> set[str]:
        """The top-level names `fn` needs defined beside it, itself included."""
        seen.add(fn)
        for name in sorted(_free_names(nodes[fn])):
            if name in seen or name in self.imports or (name in self.definitions and name not in nodes):
                seen.add(name)
            elif name in nodes and (name in allowed or name not in part_functions):
                self._needs(name, nodes, part_functions, allowed, where, seen)
            elif not hasattr(builtins, name):
                raise GraderError(
                    f"{where}: the reference's {fn}() uses {name}, which cannot be shown with it (a shown "
                    "reference may use imports, literal constants, its own helpers and the shown functions "
                    "of earlier parts)")
        return seen

    def bundle(self, names) -> dict:
        """What a call sends the worker to run the reference's `names` there."""
        key = tuple(sorted(names))
        if key not in self._bundles:
            needed = set().union(*(self.needs[n] for n in key))
            parts = sorted(self.definitions[n] for n in needed if n in self.definitions)
            self._bundles[key] = {"source": "\n".join(dict.fromkeys(text for _, text in parts)) + "\n",
                                  "names": list(key)}
        return self._bundles[key]


def _literal(node) -> bool:
    import ast

    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _free_names(function) -> set[str]:
    """Names `function` (an ast.FunctionDef) reads that it does not bind itself (globals or builtins)."""
    import ast

    bound, read = set(), set()
    for node in ast.walk(function):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node is not function:
            bound.add(node.name)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update(a.asname or a.name.split(".")[0] for a in node.names)
    return read - bound


_SHOWN: dict = {}


def shown_reference(exercise) -> ShownReference | None:
    """The exercise's shown reference functions (None when no part is marked), once per process."""
    if not any(p.public_reference for p in exercise.parts):
        return None
    path = exercise.reference_file
    key = (str(path), path.stat().st_mtime_ns, tuple(p.function for p in exercise.parts if p.public_reference))
    if key not in _SHOWN:
        _SHOWN[key] = ShownReference(path.read_text(encoding="utf-8"), exercise.parts, str(path))
    return _SHOWN[key]
