"""Grading a class: `grade batch` (run.py), the files it writes and
`grade publish` (outputs.py), and its progress line (progress.py)."""
