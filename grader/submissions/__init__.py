"""Reading what students hand in, in the trusted process, without running it:
a folder, a module, a notebook (load.py, notebook.py), or one entry of a
class's submissions folder, zips included (entries.py)."""
from .load import Submission, load_submission

__all__ = ["Submission", "load_submission"]
