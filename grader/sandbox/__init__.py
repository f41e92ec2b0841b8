"""The trusted side of the sandbox: starting worker processes, isolating them,
calling student functions in them, and the wire format between the two.

Two kinds of file live here. Most are ordinary modules of the grader. The
files of `inside/`, and `wire.py`, `isolation.py` and `landlock.py` besides, are also run in
the worker or the fork server: never imported there, but joined into the text
that `python -I -c` runs (see `script`), so they use nothing but the standard
library (and numpy) and each other's names.
"""
from functools import cache
from pathlib import Path

# The files each process is made of, in order, and the call that starts it.
WORKER = (("wire.py", "inside/seccomp.py", "inside/worker.py"), "main()")
FORKSERVER = (("landlock.py", "isolation.py", "wire.py", "inside/seccomp.py", "inside/worker.py",
               "inside/forkserver.py"), "zygote_main()")


@cache
def script(names: tuple, entry: str) -> str:
    """Source for `python -I -c`: these files of this folder, one after another, then `entry`.

    The worker and the fork server run from such text, so they never import
    the grader package (nor anything a student could have planted beside it).
    """
    folder = Path(__file__).parent
    return "\n".join((folder / name).read_text() for name in names) + f"\n{entry}\n"
