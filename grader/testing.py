"""What hidden-suite authors use: comparisons, hints for known mistakes, and
the failures they raise.

Every value compared here was decoded by the grader from plain data, so no
student object's `__eq__` or `__array_ufunc__` ever runs. Checks go type, then
shape, then values, so a scalar can never pass for an (n,) array through
broadcasting. A failure's text is what the student reads: the input, expected
vs got, and a hint when the result matches a known mistake.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .sandbox.wire import Opaque

RTOL = 1e-6
ATOL = 1e-8
SMALL = 24  # arrays up to this many elements are shown in full
# Whether failed comparisons look for a matching hint. Mutation analysis needs
# verdicts only, and turns this off to save the time the mistakes' variants take.
HINTS = True
# The first container judged by value since the grader last asked (see
# `judged_by_value`): a list where an array is expected passes its own test,
# yet breaks the arithmetic of code that calls it (`w - alpha * a_list`).
_by_value = ""


def judged_by_value() -> str:
    """The kind of container ("a list", "a tuple") a comparison first accepted
    by value where an array was expected since the last call ("" if none); forgets it."""
    global _by_value
    taken, _by_value = _by_value, ""
    return taken


IN_PLACE = ("leave the caller's arrays alone: `a = a - x` makes a new array, `a -= x` changes the caller's; "
            "copy first (a = a.copy()) if you must change one")


class Mismatch(AssertionError):
    """A check failed; the message is shown to the student as it is. `hint`, when
    a known mistake was recognised, is its advice (also the message's "hint:" line)."""

    def __init__(self, message="", hint=""):
        super().__init__(message)
        self.hint = hint


class StudentFailure(Exception):
    """The student's function did not return (exception, timeout, crash).

    `inputs` are the arguments of the call, for the grader's own hints on
    failed calls (a notebook variable, shapes that do not fit); `hint`, when a
    known mistake was recognised, is its advice (also the message's last line).
    """

    def __init__(self, message, outcome=None, hint="", inputs=()):
        super().__init__(message)
        self.outcome = outcome
        self.hint = hint
        self.inputs = inputs


@dataclass(frozen=True)
class Hint:
    """A known mistake: `variant(reference, *args)` gives what the mistake returns,
    `when(got, *args)` says whether `got` shows it, or `error` is a regular
    expression matched against the failure message of a call that raised."""

    message: str
    variant: Callable | None = None
    when: Callable | None = None
    error: str | None = None

    def matches(self, got, reference, args) -> bool:
        if self.error is not None:
            return False
        try:
            if self.when is not None:
                return bool(self.when(got, *args))
            # A mistake's variant may well overflow (an update going uphill): no warnings on the grader's stderr.
            with np.errstate(all="ignore"):
                wrong = self.variant(reference, *_copies(args))
        except Exception:  # noqa: BLE001 - a variant that cannot run on these inputs matches nothing
            return False
        return problem(got, wrong, "", RTOL, ATOL, equal_nan=True) is None


def show(value) -> str:
    """A short, exact-enough text for a value: small arrays in full."""
    if isinstance(value, np.ndarray):
        if value.size <= SMALL:
            return np.array2string(value, precision=8, separator=", ", max_line_width=100).replace("\n", " ")
        finite = value[np.isfinite(value)] if value.dtype.kind == "f" else value
        span = f", values {finite.min():.4g} to {finite.max():.4g}" if finite.size else ""
        return f"array of shape {value.shape}{span}"
    if isinstance(value, tuple):
        return "(" + ", ".join(show(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, list):
        if len(value) > SMALL:
            return f"list of {len(value)} items: [{show(value[0])}, ..., {show(value[-1])}]"
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, Opaque):
        return f"a {value.type_name} object"
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return repr(value)


def show_call(fn: str, names, args) -> str:
    parts = [f"{n} = {show(a)}" for n, a in zip(names, args)]
    return f"{fn}(" + ", ".join(parts) + ")"


def _kind(value) -> str:
    if isinstance(value, Opaque):
        return f"a {value.type_name} object"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}" if value.ndim else "a 0-d array"
    return f"a {type(value).__name__}"


def _is_real_scalar(value) -> bool:
    if isinstance(value, np.ndarray):
        return value.ndim == 0 and value.dtype.kind in "iuf"
    return type(value) in (int, float) or (isinstance(value, np.generic) and value.dtype.kind in "iuf")


_PLAIN_SCALARS = frozenset([int, float, np.float64, np.float32, np.float16, np.int64, np.int32, np.int16, np.int8,
                            np.uint64, np.uint32, np.uint16, np.uint8])


def _all_real_scalars(values) -> bool:
    # The set of types first: a 10000-long cost history is checked at C speed.
    return set(map(type, values)) <= _PLAIN_SCALARS or all(_is_real_scalar(v) for v in values)


def _as_array(got, ndim):
    """`got` as a float array when it is plain numbers: a list or tuple of them
    (nested for more dimensions), or a number where a 0-d array is expected.
    Anything else (objects, subclasses, ragged lists) comes back unchanged."""
    if ndim == 0 and _is_real_scalar(got):
        return np.asarray(float(got))
    if type(got) not in (list, tuple) or not _plain_nested(got, 0):
        return got
    try:
        return np.array(got, dtype=np.float64)
    except ValueError:  # ragged
        return got


def _plain_nested(value, depth) -> bool:
    if type(value) in (list, tuple):
        return depth < 32 and all(_plain_nested(v, depth + 1) for v in value)
    return type(value) in _PLAIN_SCALARS


def _reshape_hint(got, expected) -> str:
    if got.size != expected.size:
        return ""
    if expected.ndim == 1:
        return ": the right number of values in another shape; flatten it (np.ravel(a), or a.reshape(-1))"
    return f": the right number of values in another shape; reshape it to {expected.shape}"


def problem(got, expected, what, rtol=RTOL, atol=ATOL, equal_nan=False, values=True) -> str | None:
    """Why `got` does not match `expected` (type, shape, then values), or None.

    With values=False only types, shapes and lengths are compared."""
    global _by_value  # see judged_by_value
    label = what or "the result"
    if _is_real_scalar(expected):
        if not _is_real_scalar(got):
            return f"{label}: expected a number, got {_kind(got)}"
        if not values:
            return None
        g, e = float(got), float(expected)
        if g == e:
            return None
        if math.isnan(g) and math.isnan(e) and equal_nan:
            return None
        if math.isnan(g) or not abs(g - e) <= atol + rtol * abs(e):
            return f"{label}: expected {e!r}, got {g!r}"
        return None
    if isinstance(expected, np.ndarray):
        if not isinstance(got, np.ndarray):
            # Plain numbers in a list (or a number for a 0-d array) are judged by value.
            container = type(got)
            got = _as_array(got, expected.ndim)
            if not isinstance(got, np.ndarray):
                return f"{label}: expected a numpy array of shape {expected.shape}, got {_kind(got)}"
            if container in (list, tuple):
                _by_value = _by_value or f"a {container.__name__}"
        if got.shape != expected.shape:
            return f"{label}: expected shape {expected.shape}, got shape {got.shape}{_reshape_hint(got, expected)}"
        if got.dtype.kind not in "biuf":
            return f"{label}: expected numbers, got dtype {got.dtype}"
        if not values:
            return None
        g = got.astype(np.float64)
        e = expected.astype(np.float64)
        close = np.isclose(g, e, rtol=rtol, atol=atol, equal_nan=equal_nan)
        if close.all():
            return None
        index = tuple(int(i) for i in np.argwhere(~close)[0])
        at = f"[{', '.join(map(str, index))}]" if index else ""
        summary = f"{int((~close).sum())} of {close.size} values differ"
        if expected.size <= SMALL:
            return f"{label}: expected {show(e)}, got {show(g)} ({summary})"
        return f"{label}: {summary}; first at {at}: expected {float(e[index])!r}, got {float(g[index])!r}"
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)):
            if isinstance(expected, list) and isinstance(got, np.ndarray) and got.ndim == 1:
                got = list(got)
            else:
                return f"{label}: expected a {type(expected).__name__} of {len(expected)} items, got {_kind(got)}"
        if len(got) != len(expected):
            return f"{label}: expected {len(expected)} items, got {len(got)}"
        if isinstance(expected, list) and _all_real_scalars(expected):
            if not _all_real_scalars(got):
                return f"{label}: expected a list of numbers"
            if not values:
                return None
            return problem(np.array([float(v) for v in got]), np.array([float(v) for v in expected]),
                           label, rtol, atol, equal_nan)
        for i, (g, e) in enumerate(zip(got, expected)):
            found = problem(g, e, f"{label}[{i}]", rtol, atol, equal_nan, values)
            if found:
                return found
        return None
    raise TypeError(f"cannot compare with an expected {type(expected).__name__}")


def check(got, expected, what="", rtol=RTOL, atol=ATOL):
    """Raise Mismatch unless `got` matches `expected`."""
    found = problem(got, expected, what, rtol, atol)
    if found:
        raise Mismatch(found)


def expect_same(student, reference, fn: str, *args, hints=(), rtol=RTOL, atol=ATOL) -> Any:
    """Call `fn` on `args` in the student's module and the reference; they must match.

    Returns the student's value. On a mismatch the message shows the input,
    expected vs got, and the first hint whose mistake the result matches.
    """
    try:
        got = getattr(student, fn)(*args)
    except StudentFailure as failure:
        for hint in hints:
            if hint.error and re.search(hint.error, str(failure)):
                raise StudentFailure(f"{failure}\nhint: {hint.message}", failure.outcome, hint.message,
                                     failure.inputs) from None
        raise
    expected = getattr(reference, fn)(*_copies(args))
    found = problem(got, expected, "", rtol, atol)
    if found:
        raise mismatch(found, fn, student.argnames(fn), args, got, reference, hints, expected)
    return got


def expect_unchanged(student, fn: str, *args, reference=None, hints=(), rtol=RTOL, atol=ATOL) -> Any:
    """Call `fn` on `args` in the student's module; fail if it changed any array argument in place.

    With `reference`, the result must also match the reference's, so that a
    function doing nothing earns nothing here (a wrong value gets the first
    matching hint). Returns the student's value. Arrays are compared exactly
    (NaN equals NaN).
    """
    before = _copies(args)
    outcome = student.call(fn, *args)
    names = student.argnames(fn)
    if not outcome.ok:
        raise StudentFailure(f"{outcome.describe()}\ninput: {show_call(fn, names, args)}", outcome, inputs=args)
    for name, old, new in zip(names, before, outcome.args_after):
        if not isinstance(old, np.ndarray):
            continue
        if (not isinstance(new, np.ndarray) or new.shape != old.shape
                or not np.array_equal(new, old, equal_nan=old.dtype.kind == "f")):
            shown = show(new) if isinstance(new, np.ndarray) else "something else"
            raise Mismatch(f"{fn}() changed its argument {name} in place: it was {show(old)}, afterwards {shown}\n"
                           f"input: {show_call(fn, names, args)}\nhint: {IN_PLACE}", IN_PLACE)
    if reference is not None:
        expected = getattr(reference, fn)(*before)
        found = problem(outcome.value, expected, "", rtol, atol)
        if found:
            wrong = mismatch(found, fn, names, args, outcome.value, reference, hints, expected)
            raise Mismatch(f"the arguments were left unchanged (good), but the value is wrong: {wrong}", wrong.hint)
    return outcome.value


def explain(found, fn, names, args, got, reference, hints) -> str:
    """The student-facing message for a failed comparison."""
    return str(mismatch(found, fn, names, args, got, reference, hints))


def mismatch(found, fn, names, args, got, reference, hints, expected=None) -> Mismatch:
    """The Mismatch for a failed comparison: what differs, the input, and the
    first hint whose mistake `got` matches; with `expected`, failing those, how
    to reshape a result that has the right size in the wrong shape."""
    lines = [found.replace("the result", "result", 1), f"input: {show_call(fn, names, args)}"]
    advice = ""
    if HINTS:
        advice = next((h.message for h in hints if h.matches(got, reference, args)), "")
        advice = advice or (reshape_advice(got, expected) if expected is not None else "")
    if advice:
        lines.append(f"hint: {advice}")
    return Mismatch("\n".join(lines), advice)


def reshape_advice(got, expected, what="the result") -> str:
    """How to fix a value of the right size in the wrong shape (an (n, 1) column
    where an (n,) array is expected, a one-element array for a number, a
    transposed matrix), or ""."""
    if isinstance(expected, (tuple, list)) and isinstance(got, (tuple, list)) and len(got) == len(expected):
        base = "result" if what == "the result" else what
        return next((a for i, (g, e) in enumerate(zip(got, expected))
                     if (a := reshape_advice(g, e, f"{base}[{i}]"))), "")
    if not isinstance(got, np.ndarray) or got.dtype.kind not in "biuf":
        return ""
    if _is_real_scalar(expected) and got.size == 1 and got.ndim > 0:
        return f"{what} is an array of shape {got.shape}, not a number: return float(...) or .item() of it"
    if not isinstance(expected, np.ndarray) or got.shape == expected.shape or got.size != expected.size:
        return ""
    if expected.ndim == 1 and got.ndim == 2 and 1 in got.shape:
        # In symbols, so that every check failing this way gives the same hint.
        kind = "a column, shape (n, 1)," if got.shape[1] == 1 else "a row, shape (1, n),"
        return (f"{what} is {kind} where a 1-D array, shape (n,), is expected: flatten it with .reshape(-1) "
                "or np.squeeze(...), or keep the arrays it comes from 1-D")
    if got.ndim == 2 and got.shape[::-1] == expected.shape:
        return f"{what} has shape {got.shape} where {expected.shape} is expected: is it transposed?"
    return ""


def _copies(args):
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)
