"""`grade export gradescope NAME --out autograder.zip`: the autograder Gradescope
builds its image from.

Gradescope unpacks the zip into /autograder/source and runs setup.sh there
once, as root, while building the image; for each submission it runs
/autograder/run_autograder (a copy of ours) with the upload in
/autograder/submission/, and reads /autograder/results/results.json.
"""
from __future__ import annotations

import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..course import Exercise
from . import bundle
from .wheel import DATE

ROOT_VARIABLE = "MLGRADE_AUTOGRADER_ROOT"  # where /autograder is: only the grader's own tests set it
SETUP_PYTHON_VARIABLE = "MLGRADE_SETUP_PYTHON"  # tests only: take the packages from this interpreter, offline
ENV = "mlgrade-env"  # the grading environment, in /autograder
EXECUTABLE = ("setup.sh", "run_autograder")

SETUP = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder's image
# (written by `grade export gradescope {name}`). It makes a Python {python}
# environment holding the third-party packages at the versions in
# requirements.txt and the grader from {wheel} (never from a package index),
# then locks the solutions away from the sandbox's throwaway users.
set -euo pipefail

ROOT="${{{root_variable}:-/autograder}}"  # only the grader's own tests set it
SOURCE="$ROOT/source"
ENV="$ROOT/{env}"
PY=python{python}

if [ -n "${{{setup_python_variable}:-}}" ]; then
    # The grader's own tests (no network): the environment takes its packages
    # from this interpreter's, which must hold the pinned versions (checked below).
    "${setup_python_variable}" -m venv --without-pip "$ENV"
    FOLDERS='import sysconfig; print(sysconfig.get_path("purelib")); print(sysconfig.get_path("platlib"))'
    "${setup_python_variable}" -c "$FOLDERS" > "$("$ENV/bin/python" -c "$FOLDERS" | head -n 1)/{env}-packages.pth"
else
    if ! "$PY" -c "import ensurepip, venv" >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update
        if ! apt-get install -y "$PY" "$PY-venv"; then
            apt-get install -y software-properties-common
            add-apt-repository -y ppa:deadsnakes/ppa
            apt-get update
            apt-get install -y "$PY" "$PY-venv"
        fi
    fi
    "$PY" -m venv "$ENV"
    "$ENV/bin/python" -m pip install --no-cache-dir --disable-pip-version-check -r "$SOURCE/requirements.txt"
fi
"$ENV/bin/python" -m pip install --no-cache-dir --disable-pip-version-check --no-index --no-deps "$SOURCE/{wheel}"

# The environment must be the tested one: every pinned version, exactly.
"$ENV/bin/python" - "$SOURCE/requirements.txt" <<'CHECK'
import sys
from importlib import metadata
wrong = []
for line in open(sys.argv[1]):
    name, _, version = line.split("#")[0].split(";")[0].strip().partition("==")
    if version:
        try:
            found = metadata.version(name)
        except metadata.PackageNotFoundError:
            found = "nothing"
        if found != version:
            wrong.append(f"{{name}} {{version}} wanted, {{found}} installed")
if wrong:
    sys.exit("setup.sh: the environment is not the tested one: " + "; ".join(wrong))
CHECK

# The sandbox runs student code as throwaway users: they must reach the
# interpreter, and never the solutions.
chmod 755 "$ROOT"
chmod -R go-rwx "$SOURCE/solutions"
if [ -f "$ROOT/run_autograder" ]; then chmod 755 "$ROOT/run_autograder"; fi
"$ENV/bin/python" -I -c 'from grader.sandbox.isolation import probe; print("mlgrade: sandbox level here:", probe())'
"""

RUN = r"""#!/usr/bin/env bash
# Gradescope runs this for every submission (written by `grade export gradescope {name}`).
# The grader writes results/results.json itself, after grading, whatever was uploaded;
# what it prints is for instructors only (stdout_visibility "hidden").
ROOT="${{{root_variable}:-/autograder}}"  # only the grader's own tests set it
cd "$ROOT" || exit 1
"$ROOT/{env}/bin/python" -I -m grader export run gradescope {name}
status=$?
if [ ! -s "$ROOT/results/results.json" ]; then
    # The grader could not even start: say so rather than leave Gradescope without results.
    mkdir -p "$ROOT/results"
    printf '{{"score": 0, "output": "%s", "stdout_visibility": "hidden", "tests": []}}\n' \
        "The autograder failed to run (exit status $status); your instructor can see why in its log." \
        > "$ROOT/results/results.json"
fi
exit 0
"""


@dataclass
class Written:
    """An autograder zip as written: its entries (path, size) and its size in bytes."""

    path: Path
    entries: list
    size: int


def scripts(exercise: Exercise, wheel: str, python: str) -> dict:
    """setup.sh and run_autograder for `exercise`."""
    values = {"name": exercise.name, "python": python, "wheel": wheel, "env": ENV,
              "root_variable": ROOT_VARIABLE, "setup_python_variable": SETUP_PYTHON_VARIABLE}
    return {"setup.sh": SETUP.format(**values), "run_autograder": RUN.format(**values)}


def write_autograder(exercise: Exercise, out: Path) -> Written:
    """Check and write the autograder zip of `exercise` to `out` (replacing it); GraderError when it would leak or
    the reference falls short of full marks."""
    built = bundle.build(exercise, f"grade export gradescope {exercise.name}",
                         lambda wheel, python: scripts(exercise, wheel, python))
    bundle.check(exercise, built)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")
    try:
        with os.fdopen(fd, "wb") as f, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as archive:
            for path, data in sorted(built.files.items()):
                entry = zipfile.ZipInfo(path, DATE)
                entry.external_attr = (0o755 if path in EXECUTABLE else 0o644) << 16
                entry.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(entry, data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        os.unlink(tmp)
        raise
    return Written(out, [(path, len(data)) for path, data in sorted(built.files.items())], out.stat().st_size)
