"""mlgrade, an auto-grader for machine-learning labs.

In a notebook: `from grader import check`, then `check(sigmoid)` (see
grader/notebook_check/). Every `grade` command imports this package, so it
stays empty: `check` and what it needs load on first use only.
"""

__all__ = ["check"]


def __getattr__(name):
    if name == "check":
        from .notebook_check import check

        return check
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
