import os
import sys

# `python -m grader` puts the current folder first on sys.path: a student's
# numpy.py there must not replace numpy in the grader.
sys.path[:] = [p for p in sys.path if p not in ("", os.getcwd())]

from .cli import main  # noqa: E402

main()
