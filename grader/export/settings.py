"""The settings to choose on Gradescope's side for an exported autograder,
worked out from the exercise's limits and the Python the export runs on."""
from __future__ import annotations

import math

from ..course import Exercise
from .pins import python_version

UBUNTU_PYTHON = "3.10"  # the python3 of Gradescope's Ubuntu 22.04 base image


def gradescope_settings(exercise: Exercise) -> str:
    """What to set on the assignment's Configure Autograder and Settings pages, as lines of text."""
    python = python_version()
    limits = exercise.limits
    # The grader's own process takes a few hundred MB beside the worker's address-space limit.
    memory_gb = math.ceil((limits.memory_mb + 1024) / 1024)
    image = "Ubuntu 22.04, Base variant"
    image += "" if python == UBUNTU_PYTHON else f" (setup.sh installs Python {python}, the version exported from)"
    return "\n".join([
        "On Gradescope: a Programming Assignment, then Configure Autograder:",
        f"  base image:  {image}",
        "  upload:      this zip, then Update Autograder; the build log ends with the sandbox level",
        "and the assignment's Settings (Autograder settings):",
        f"  memory:      {memory_gb} GB or more (student code may use {limits.memory_mb} MB in its sandbox)",
        f"  CPU:         1.0 or more (a call of student code gets at least {limits.call_seconds:g} s of CPU time)",
        "  timeout:     the default 10 minutes is ample (one submission takes seconds)",
        "Step by step: docs/gradescope.md",
    ])
