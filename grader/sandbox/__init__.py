"""The trusted side of the sandbox: starting worker processes, isolating them,
calling student functions in them, and the wire format between the two.

Two kinds of file live here. Most are ordinary modules of the grader. The
files of `inside/`, and `wire.py`, `isolation.py` and `landlock.py` besides, are also run in
the worker or the fork server: never imported there, but joined into the text
that `python -I -S -c` runs (see `command`), so they use nothing but the standard
library (and numpy) and each other's names.
"""
import sys
from functools import cache
from pathlib import Path

# The files each process is made of, in order, and the call that starts it.
WORKER = (("wire.py", "inside/identity.py", "inside/seccomp.py", "inside/worker.py"), "main()")
FORKSERVER = (("landlock.py", "inside/identity.py", "isolation.py", "wire.py", "inside/seccomp.py",
               "inside/worker.py", "inside/forkserver.py"), "zygote_main()")


@cache
def script(names: tuple, entry: str) -> str:
    """Source for `python -I -S -c` (see `command`): these files of this folder, one after another, then `entry`.

    The worker and the fork server run from such text, so they never import
    the grader package (nor anything a student could have planted beside it).
    """
    folder = Path(__file__).parent
    return "\n".join((folder / name).read_text() for name in names) + f"\n{entry}\n"


def command(names: tuple, entry: str) -> list[str]:
    """The command that runs `script(names, entry)` in a fresh interpreter.

    Isolated (-I: no environment variables, no user site, no current folder)
    and without running `site` (-S), whose start-up, an editable install's
    import hook included, cost every worker 20 to 30 ms. What student code may
    notice of `site` is done first thing instead: the package folders go on
    the path, `sys.prefix` names the grader's environment, and the builtins
    `site` adds (`exit`, `quit`, `help`, `copyright`, `credits`, `license`)
    are there.
    """
    from .isolation import package_folders

    prelude = (f"import sys\nsys.path.extend({package_folders()!r})\n"
               f"sys.prefix, sys.exec_prefix = {sys.prefix!r}, {sys.exec_prefix!r}\n"
               "import site\nsite.setquit()\nsite.setcopyright()\nsite.sethelper()\ndel site\n")
    return [sys.executable, "-I", "-S", "-c", prelude + script(names, entry)]
