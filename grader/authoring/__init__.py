"""Instructors' tools, none of them on a student's path: `grade check`
(check.py, with mutation.py), `grade new` (scaffold.py), `grade release`
(release.py) and `grade build-notebook` (lab_notebook.py)."""
