"""The one error type the grader shows to its users."""


class GraderError(Exception):
    """A problem with the user's input or the course's set-up: shown as one
    line (`grade: error: ...`), exit status 2, never a traceback."""
