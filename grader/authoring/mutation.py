"""Mutation analysis: how good are an exercise's hidden tests?

Small, plausible bugs are made in the reference solution by editing its syntax
tree (an operator or a sign flipped, a constant changed, a term dropped, a
tuple's order swapped, an argument ignored, an input changed in place). Each
mutant is graded through the same sandboxed path as a student's submission,
on the parts that test the function it changes. A mutant that still earns full
marks there "survives": either the hidden tests have a hole, or the mutant
computes the very same thing as the reference (it is equivalent).

Mutants are graded in parallel by forked copies of this trusted process; the
values they exchange are plain verdicts.
"""
from __future__ import annotations

import ast
import copy
import dataclasses
from contextlib import closing
from dataclasses import dataclass

from .. import testing
from ..course import Exercise
from ..submissions.load import Submission

# op -> the operator a mistake puts in its place
SWAPPED_OPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
               ast.MatMult: ast.Mult, ast.Pow: ast.Mult, ast.FloorDiv: ast.Div, ast.Mod: ast.FloorDiv}
SWAPPED_COMPARISONS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
                       ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}
# Reductions a mistake confuses: np.sum for np.mean forgets the 1/m.
SWAPPED_REDUCTIONS = {"mean": "sum", "sum": "mean", "max": "min", "min": "max", "argmax": "argmin", "argmin": "argmax"}
# Calls that copy their first argument (np.array(w_in), np.copy(x), list(v), ...).
COPYING_CALLS = {"array", "copy", "asarray", "asfarray", "list", "deepcopy"}


@dataclass(frozen=True)
class Mutant:
    """One small edit of the reference module."""

    function: str  # the top-level function it changes
    line: int  # where, in the reference file
    kind: str  # "operator", "sign", "constant", "dropped term", "tuple order", "argument ignored", "in place"
    change: str  # what was edited, e.g. "`X @ w + b` -> `X @ w`"
    source: str  # the whole mutated module
    key: str = ""  # "function: change", unique within the module

    def describe(self) -> str:
        return f"{self.function} line {self.line} [{self.kind}]: {self.change}"


@dataclass(frozen=True)
class Verdict:
    """How one mutant fared: killed when it lost points in its part(s)."""

    mutant: Mutant
    killed: bool
    score: float
    max_score: float
    by: str = ""  # the first failing test, for a killed mutant


def make_mutants(source: str) -> list[Mutant]:
    """Every mutant of `source`, one edit each, in order of appearance.

    Edits that change nothing (or repeat another mutant) are left out; only the
    bodies of top-level functions are edited.
    """
    tree = ast.parse(source)
    seen = {ast.unparse(tree)}
    position = {id(node): i for i, node in enumerate(ast.walk(tree))}
    mutants, counts = [], {}
    for func in tree.body:
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for site, new, kind, change, line in _edits(func):
            mutated = copy.deepcopy(tree)
            _replace(mutated, position[id(site)], new)
            text = ast.unparse(mutated)
            if text in seen:
                continue
            seen.add(text)
            key = f"{func.name}: {change}"
            counts[key] = counts.get(key, 0) + 1
            if counts[key] > 1:
                key += f" #{counts[key]}"
            mutants.append(Mutant(func.name, line, kind, change, text, key))
    return mutants


def _replace(tree, position, new):
    """Put `new` where the node at `position` (in ast.walk order) is."""
    nodes = list(ast.walk(tree))
    old = nodes[position]
    for parent in nodes:
        for name, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, name, new)
                return
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if item is old:
                        value[i] = new
                        return
    raise ValueError("node to replace not found")


def _code(node) -> str:
    return f"`{ast.unparse(node)}`"


def _edits(func):
    """(site, replacement, kind, change, line) for every edit of one function."""
    body = func.body[1:] if _has_docstring(func) else func.body
    for statement in body:
        for node in ast.walk(statement):
            yield from _node_edits(node)
    yield from _ignored_arguments(func)
    yield from _aliased_copies(func)
    yield from _inputs_written(func)


def _has_docstring(func) -> bool:
    first = func.body[0] if func.body else None
    return isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str)


def _node_edits(node):
    def edit(new, kind):
        return node, new, kind, f"{_code(node)} -> {_code(new)}", node.lineno

    if isinstance(node, ast.BinOp):
        swapped = SWAPPED_OPS.get(type(node.op))
        if swapped:
            yield edit(ast.BinOp(copy.deepcopy(node.left), swapped(), copy.deepcopy(node.right)), "operator")
        left, right = copy.deepcopy(node.left), copy.deepcopy(node.right)
        if isinstance(node.op, (ast.Add, ast.Mult)):
            yield edit(left, "dropped term")
            yield edit(right, "dropped term")
        elif isinstance(node.op, ast.Sub):
            yield edit(left, "dropped term")
            yield edit(ast.UnaryOp(ast.USub(), right), "dropped term")
        elif isinstance(node.op, (ast.Div, ast.FloorDiv, ast.Pow)):
            yield edit(left, "dropped term")
    elif isinstance(node, ast.AugAssign):
        swapped = SWAPPED_OPS.get(type(node.op))
        if swapped:
            yield edit(ast.AugAssign(copy.deepcopy(node.target), swapped(), copy.deepcopy(node.value)), "operator")
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not, ast.Invert)):
        yield edit(copy.deepcopy(node.operand), "sign" if isinstance(node.op, ast.USub) else "operator")
    elif isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            ops = list(node.ops)
            ops[i] = SWAPPED_COMPARISONS[type(op)]()
            yield edit(ast.Compare(copy.deepcopy(node.left), ops, copy.deepcopy(node.comparators)), "operator")
    elif isinstance(node, ast.BoolOp):
        other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        yield edit(ast.BoolOp(other, copy.deepcopy(node.values)), "operator")
    elif isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool):
            yield edit(ast.Constant(not value), "constant")
        elif isinstance(value, (int, float)):
            yield edit(ast.Constant(value + 1), "constant")
            if value != 0:
                yield edit(ast.Constant(type(value)(0)), "constant")
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SWAPPED_REDUCTIONS:
        call = copy.deepcopy(node)
        call.func.attr = SWAPPED_REDUCTIONS[node.func.attr]
        yield edit(call, "operator")
    elif isinstance(node, ast.Tuple) and len(node.elts) >= 2:
        for i in range(len(node.elts) - 1):
            elts = copy.deepcopy(node.elts)
            elts[i], elts[i + 1] = elts[i + 1], elts[i]
            yield edit(ast.Tuple(elts, node.ctx), "tuple order")


def _parameters(func) -> list[str]:
    args = func.args
    names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
    return [n for n in names if n not in ("self", "cls")]


def _uses(func, name) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load) for n in ast.walk(func))


def _with_body(func, body):
    new = copy.deepcopy(func)
    new.body = body
    return new


def _prologue(func):
    return [copy.deepcopy(func.body[0])] if _has_docstring(func) else []


def _ignored_arguments(func):
    """The function behaves as if one argument were zero: `b = b * 0` first thing."""
    rest = func.body[1:] if _has_docstring(func) else func.body
    for name in _parameters(func):
        if not _uses(func, name):
            continue
        zero = ast.parse(f"{name} = {name} * 0").body[0]
        yield func, _with_body(func, _prologue(func) + [zero] + copy.deepcopy(rest)), "argument ignored", \
            f"argument {name} ignored (taken as 0)", func.lineno


def _copied_parameter(statement, params):
    """(local, parameter) for `local = np.array(parameter, ...)` or `local = parameter.copy()`, else None."""
    if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)):
        return None
    call = statement.value
    if not isinstance(call, ast.Call):
        return None
    name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
    if name not in COPYING_CALLS:
        return None
    if call.args and isinstance(call.args[0], ast.Name) and call.args[0].id in params:
        return statement.targets[0].id, call.args[0].id
    owner = getattr(call.func, "value", None)
    if name == "copy" and not call.args and isinstance(owner, ast.Name) and owner.id in params:
        return statement.targets[0].id, owner.id
    return None


def _aliased_copies(func):
    """The classic in-place bug: `w = w_in` instead of a copy, then `w -= ...` changes the caller's array."""
    params = set(_parameters(func))
    for position, statement in enumerate(ast.walk(func)):
        found = _copied_parameter(statement, params)
        if not found:
            continue
        local, param = found
        new = copy.deepcopy(func)
        nodes = list(ast.walk(new))
        nodes[position].value = ast.Name(param, ast.Load())
        updates = 0
        for node in nodes:
            for _, field in ast.iter_fields(node):
                if not isinstance(field, list):
                    continue
                for i, item in enumerate(field):
                    if _is_update_of(item, local):
                        field[i] = ast.AugAssign(ast.Name(local, ast.Store()), item.value.op, item.value.right)
                        updates += 1
        if updates:
            yield func, new, "in place", f"{local} = {param} (no copy), then {local} updated in place", statement.lineno


def _is_update_of(statement, name) -> bool:
    """`name = name <op> expr`."""
    return (isinstance(statement, ast.Assign) and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name) and statement.targets[0].id == name
            and isinstance(statement.value, ast.BinOp) and isinstance(statement.value.left, ast.Name)
            and statement.value.left.id == name)


def _inputs_written(func):
    """The function returns the right value but leaves its array arguments changed (+1)."""
    params = [n for n in _parameters(func) if _uses(func, n)]
    if not params:
        return
    rest = func.body[1:] if _has_docstring(func) else func.body
    writes = "\n".join(
        f"    if type({p}).__name__ == 'ndarray' and {p}.size and {p}.flags.writeable:\n        {p}[...] = {p} + 1"
        for p in params
    )
    wrapper = ast.parse(f"try:\n    pass\nfinally:\n{writes}").body[0]
    wrapper.body = copy.deepcopy(rest)
    yield (func, _with_body(func, _prologue(func) + [wrapper]), "in place",
           "array arguments changed in place (+1) on return", func.lineno)


# -- grading -------------------------------------------------------------------

def parts_of(exercise: Exercise, mutant: Mutant):
    """The parts that grade the function a mutant changes (every part, for a helper function)."""
    return [p for p in exercise.parts if p.function == mutant.function] or list(exercise.parts)


def grade_mutant(exercise: Exercise, mutant: Mutant) -> Verdict:
    """Grade one mutant through the sandbox on its parts alone (no quiz)."""
    from ..grading.grade import grade

    parts = parts_of(exercise, mutant)
    only = dataclasses.replace(exercise, parts=parts, questions=[], quiz_points=0.0)
    result = grade(only, Submission(mutant.source, exercise.reference_file), student=f"(mutant {mutant.key})",
                   fail_fast=True)
    graded = [result.part(p.name) for p in parts]
    score = sum(p.score for p in graded)
    top = sum(p.max_score for p in graded)
    failed = next((t for p in graded for t in p.tests if not t.passed), None)
    by = f"{failed.name}: {failed.message.splitlines()[0] if failed.message else 'failed'}" if failed else ""
    return Verdict(mutant, score < top, score, top, by)


def _verdict_only(exercise: Exercise, mutant: Mutant) -> dict:
    """One task of a pool process: grade a mutant for its verdict alone (no hints:
    their mistakes' variants cost time and change no verdict)."""
    testing.HINTS = False
    verdict = grade_mutant(exercise, mutant)
    return {"killed": verdict.killed, "score": verdict.score, "max_score": verdict.max_score, "by": verdict.by}


def grade_mutants(exercise: Exercise, mutants: list[Mutant], jobs: int | None = None, progress=None) -> list[Verdict]:
    """Grade every mutant, `jobs` at a time (default: one per core); verdicts in the mutants' order.

    The mutants are graded by forked copies of this process (the batch's fork
    pool), which inherit the reference and the collected suites loaded here.
    `progress(done, total)` is called after each verdict.
    """
    from ..errors import GraderError
    from ..grading.forkpool import ForkPool, cores
    from ..grading.grade import suites_of
    from ..grading.reference import load_reference
    from ..sandbox import isolation

    jobs = max(1, min(jobs or cores(), len(mutants) or 1))
    # Done once here, so that the forked workers inherit them instead of each redoing them.
    isolation.probe()
    load_reference(exercise.reference_file)
    for parts in {tuple(parts_of(exercise, m)) for m in mutants}:
        suites_of(dataclasses.replace(exercise, parts=list(parts)), public=False)

    found = {}
    pool = ForkPool(jobs, lambda task: _verdict_only(exercise, mutants[task["index"]]))
    with closing(pool.run({"index": i} for i in range(len(mutants)))) as finished:  # closing kills the children
        for task, reply in finished:
            if reply is None:
                raise GraderError(f"grading the mutant '{mutants[task['index']].key}' stopped its grading process "
                                  "unexpectedly")
            found[task["index"]] = reply
            if progress:
                progress(len(found), len(mutants))
    return [Verdict(mutants[i], **found[i]) for i in range(len(mutants))]
