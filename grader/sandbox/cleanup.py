"""Removing what a worker leaves behind: its folder, and what its uid owns in the kernel.

Both run in `finally` blocks on the way to a report, so neither ever raises:
what cannot be removed is left, and the report is written all the same.
"""
import ctypes
import os
import signal
import stat
import sys

from .inside.identity import become

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def remove_tree(path) -> bool:
    """Remove the folder `path` and everything in it; True when it is gone.

    Without recursion, links never followed, and only as deep as one open
    folder at a time: a submission may leave a tree thousands of folders deep
    (too deep for shutil.rmtree's recursion and for any path), folders it
    made unreadable, and links pointing anywhere.
    """
    try:
        _remove(os.fspath(path))
    except Exception:  # noqa: BLE001 - clean-up must never cost the report
        pass
    return not os.path.lexists(path)


def _remove(path):
    try:
        fd = os.open(path, _DIR_FLAGS)
    except FileNotFoundError:
        return
    except OSError:  # a link or a file where the folder was: remove that
        os.unlink(path)
        return
    # A stack of (folder's name in its parent, its subfolders not yet removed); the open folder is the top's.
    stack = [(None, _empty_files(fd))]
    while True:
        name, subfolders = stack[-1]
        if subfolders:
            child = subfolders.pop()
            try:
                new = os.open(child, _DIR_FLAGS, dir_fd=fd)
            except OSError:
                _try(os.unlink, child, dir_fd=fd)  # replaced meanwhile by something that is not a folder
                continue
            os.close(fd)
            fd = new
            stack.append((child, _empty_files(fd)))
            continue
        stack.pop()
        if not stack:
            os.close(fd)
            _try(os.rmdir, path)
            return
        parent = os.open("..", _DIR_FLAGS, dir_fd=fd)
        os.close(fd)
        fd = parent
        _try(os.rmdir, name, dir_fd=fd)


def _empty_files(fd):
    """Unlink every entry of the open folder `fd` but its subfolders; returns their names."""
    _try(os.fchmod, fd, stat.S_IRWXU)  # the student may have made it unreadable or unwritable
    folders = []
    with os.scandir(fd) as entries:
        for entry in entries:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir:
                folders.append(entry.name)
            else:
                _try(os.unlink, entry.name, dir_fd=fd)
    return folders


def _try(function, *args, **kwargs):
    try:
        function(*args, **kwargs)
    except OSError:
        pass


# -- what a uid owns in the kernel -----------------------------------------------------

KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING = -4, -5
KEYCTL_GET_KEYRING_ID, KEYCTL_CLEAR = 0, 7
_KEYCTL = {"x86_64": 250, "aarch64": 219}.get(os.uname().machine.lower()) if sys.platform == "linux" else None
# Loaded here, not in the fork that clears: a fork of a process with threads must not load libraries.
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None
_SYSV = {"shm": "shmid", "msg": "msqid", "sem": "semid"}  # /proc/sysvipc file -> its id column
IPC_RMID = 0


def clear_uid(uid, kill=True) -> None:
    """Take away everything a sandbox's `uid` left: its processes (with
    `kill`: the levels without a PID namespace to take them down) and the
    kernel objects clear_uid_objects removes. Run in a fork that becomes the
    uid, so the kernel lets it do exactly what the uid may; kill(-1) there
    signals all the uid's processes in one pass under the kernel's task-list
    lock, so none can fork its way out of it."""
    pid = os.fork()
    if pid == 0:
        try:
            become(uid)
            if kill:
                os.kill(-1, signal.SIGKILL)
            clear_uid_objects(uid)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def clear_uid_objects(uid) -> None:
    """Run in a process that has become `uid` (and has no other work): empty
    the uid's keyrings (which outlive its processes) and remove the System V
    shared memory, message queues and semaphores it owns or created (there is
    no IPC namespace to take them away at the levels without one). The seccomp
    filter keeps workers from making any of these; this is for machines
    where there is none."""
    if _LIBC is None:
        return
    libc = _LIBC
    libc.syscall.restype = ctypes.c_long
    if _KEYCTL is not None:
        for keyring in (KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING):
            # Only a keyring that exists: looking one up by its special id would create it, for good.
            found = libc.syscall(_KEYCTL, KEYCTL_GET_KEYRING_ID, ctypes.c_long(keyring), ctypes.c_long(0))
            if found > 0:
                libc.syscall(_KEYCTL, KEYCTL_CLEAR, ctypes.c_long(found))
    for ident in _sysv_owned("shm", uid):
        libc.shmctl(ident, IPC_RMID, None)
    for ident in _sysv_owned("msg", uid):
        libc.msgctl(ident, IPC_RMID, None)
    for ident in _sysv_owned("sem", uid):
        libc.semctl(ident, 0, IPC_RMID)


def _sysv_owned(kind, uid):
    """Ids of the System V objects of `kind` whose owner or creator is `uid`."""
    try:
        with open(f"/proc/sysvipc/{kind}") as f:
            header = f.readline().split()
            rows = [line.split() for line in f]
    except OSError:
        return []
    try:
        columns = [header.index(name) for name in ("uid", "cuid")]
        ident = header.index(_SYSV[kind])
    except ValueError:
        return []
    return [int(row[ident]) for row in rows if any(row[c] == str(uid) for c in columns)]
