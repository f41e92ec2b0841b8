"""Grading one submission, in the trusted process: the hidden pytest suites
run here under the grader's plugin, calling the student's functions through a
sandbox (grader/sandbox/), and every verdict is made here (grade.py)."""
from .grade import grade

__all__ = ["grade"]
