"""Checking work from inside a notebook: `from grader import check`, then
`check(sigmoid)`, `check("sigmoid")` or `check()` for the whole exercise.

run.py grades through the same sandbox and suites as `grade`; kernel_code.py
reads the student's code back from the kernel; display.py is what the
notebook shows (HTML, with a plain-text fallback).
"""
from .run import check

__all__ = ["check"]
