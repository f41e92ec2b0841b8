"""Processes for the tests: zombies a grader left, and graders run as another user."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _table() -> dict[int, tuple[str, int]]:
    """pid -> (state, parent pid) of every process."""
    table = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        table[int(stat.parent.name)] = (fields[0], int(fields[1]))
    return table


def zombies_below(pid: int) -> set[int]:
    """Zombies whose parent is process `pid` or one of its descendants."""
    table = _table()
    below, grew = {pid}, True
    while grew:
        more = {p for p, (_, parent) in table.items() if parent in below} - below
        below |= more
        grew = bool(more)
    return {p for p, (state, parent) in table.items() if state == "Z" and parent in below}


# Runs the command ARGS in a private mount namespace where the first folder on
# the way to the interpreter that other users cannot enter (such as /root) is
# made enterable, so that a throwaway uid can run the interpreter there, as it
# can on Gradescope, where Python is installed system-wide; as REACHABLE_UID
# when that is set.
_REACHABLE = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
def check(result, what):
    if result != 0:
        raise OSError(ctypes.get_errno(), what)
check(libc.unshare(0x00020000), "unshare")
check(libc.mount(None, b"/", None, 16384 | (1 << 18), None), "make / private")
# Both the venv (sys.prefix) and the interpreter it points to (sys.base_prefix).
closed = {}
for prefix in {os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix)}:
    parts = prefix.strip("/").split("/")
    for i in range(1, len(parts)):
        folder = "/" + "/".join(parts[:i])
        if not os.stat(folder).st_mode & 0o001:
            closed.setdefault(folder, set()).add(folder + "/" + parts[i])
            break
for folder, inners in closed.items():
    fds = {inner: os.open(inner, os.O_PATH) for inner in inners}
    check(libc.mount(b"tmpfs", folder.encode(), b"tmpfs", 0, b"mode=755"), "cover")
    for inner, fd in fds.items():
        os.mkdir(inner)
        check(libc.mount(f"/proc/self/fd/{fd}".encode(), inner.encode(), None, 4096 | 16384, None), "bind back")
uid = os.environ.pop("REACHABLE_UID", "")
if uid:
    os.setgroups([])
    os.setgid(int(uid))
    os.setuid(int(uid))
os.execv(sys.argv[1], sys.argv[1:])
"""


def run_reachable(args: list[str], env: dict, uid: int | None = None, cwd: Path | None = None,
                  timeout: float = 180) -> subprocess.CompletedProcess:
    """`python ARGS` with `env` added (needs root), where a throwaway uid can
    reach the interpreter even in a folder closed to others (/root); run as
    `uid` (a grader without root) if given."""
    env = {**os.environ, **env, **({"REACHABLE_UID": str(uid)} if uid is not None else {})}
    return subprocess.run(reachable([sys.executable, *args]), cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, env=env)


def reachable(command: list[str]) -> list[str]:
    """`command` (a program and its arguments) wrapped to run where a
    throwaway uid can reach the interpreter (needs root; see above)."""
    return [sys.executable, "-I", "-c", _REACHABLE, *command]
