"""Becoming a throwaway uid, for good, before student code runs.

Used between fork and exec at the uid and namespace levels (isolation.py), and
by the worker itself at the process level when the grader is root
(worker.py): there the interpreter may sit where no other uid can reach it
(a pyenv under /root), so the worker starts as root, keeps a way to the
folders it imports from, and then drops. Like wire.py, this file's text is
joined into the worker's and the fork server's scripts: standard library only.
"""
import ctypes
import os
import sys

_KEYCTL_JOIN_SESSION_KEYRING = 1


def _find_keyctl():
    number = {"x86_64": 250, "aarch64": 219}.get(os.uname().machine.lower()) if sys.platform == "linux" else None
    return (ctypes.CDLL(None, use_errno=True), number) if number else (None, None)


# Found at import, not in the fork that drops: a fork of a process with threads must not load libraries.
_LIBC, _KEYCTL = _find_keyctl()


def become(uid):
    """Drop to `uid` (as group too) with no supplementary groups; no way back.

    Every id (real, effective, saved, file system) changes, so the kernel also
    clears every capability. Then a new session keyring: the one inherited
    from the grader is root's to read for whoever possesses it.
    """
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    if os.getresuid() != (uid, uid, uid) or os.getresgid() != (uid, uid, uid) or os.getgroups():
        raise OSError(f"could not become uid {uid}")
    try:
        os.setuid(0)
    except PermissionError:
        pass
    else:
        raise OSError("uid 0 could be had back")
    _new_session_keyring()


def _new_session_keyring():
    if _KEYCTL is not None:
        _LIBC.syscall(_KEYCTL, _KEYCTL_JOIN_SESSION_KEYRING, None)


def become_keeping_imports(uid):
    """`become(uid)` in a running interpreter whose import folders `uid` may
    not reach: each such folder of sys.path, and of the packages imported so
    far, is then reached through a descriptor opened before the drop
    (/proc/self/fd/N, which the kernel lets a process follow into its own
    descriptors' folders without walking the path to them)."""
    held = {}
    for path in _import_folders():
        try:
            held[path] = os.open(path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:
            pass
    become(uid)
    moved = {}
    for path, fd in held.items():
        if os.access(path, os.R_OK | os.X_OK):
            os.close(fd)  # reachable as it is: keep the usual names
        else:
            moved[path] = f"/proc/self/fd/{fd}"
    if not moved:
        return

    def rename(entry):
        for old, new in moved.items():
            if entry == old or entry.startswith(old + os.sep):
                return new + entry[len(old):]
        return entry

    sys.path[:] = [rename(p) if isinstance(p, str) else p for p in sys.path]
    for module in list(sys.modules.values()):
        search = getattr(module, "__path__", None)
        if isinstance(search, list):
            search[:] = [rename(p) if isinstance(p, str) else p for p in search]
    sys.path_importer_cache.clear()


def _import_folders():
    """The outermost folders imports come from: sys.path's, with packages' under them."""
    found = [p for p in sys.path if isinstance(p, str) and p and os.path.isdir(p)]
    for module in list(sys.modules.values()):
        search = getattr(module, "__path__", None)
        if isinstance(search, list):
            found += [p for p in search if isinstance(p, str) and os.path.isdir(p)]
    outermost = []
    for path in sorted(set(found)):
        if not any(path.startswith(o + os.sep) for o in outermost):
            outermost.append(path)
    return outermost
