"""What the operating system lets us do to isolate a worker, and doing it.

Three levels, probed once per process and never assumed:

- ``namespaces+uid`` (Linux, started as root): new mount, network, PID, IPC and
  UTS namespaces, the solutions and other private folders covered by empty
  file systems, a private /tmp, and a throwaway uid of its own.
- ``user-namespaces`` (Linux, unprivileged user namespaces allowed): the same
  namespaces inside a user namespace, without the change of uid.
- ``process``: a process of its own with resource limits only.

Every level sets the resource limits and starts the worker in a new session.
"""
import ctypes
import ctypes.util
import os
import resource
import signal
import sys
from dataclasses import dataclass

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
NAMESPACES = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS
# Sandbox uids sit far above any real account's.
UID_BASE = 200_000

LEVELS = ("namespaces+uid", "user-namespaces", "process")


@dataclass(frozen=True)
class Limits:
    """Resource limits for one worker (from the exercise manifest)."""

    call_seconds: float = 5.0
    memory_mb: int = 1024
    cpu_seconds: int = 120
    processes: int = 32
    file_mb: int = 16
    open_files: int = 256
    output_bytes: int = 4096


def _libc():
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]
    return libc


def _check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(libc, source, target, fstype, flags, data):
    _check(
        libc.mount(source, target.encode(), fstype, flags, data),
        f"mount {target}",
    )


def _enter_namespaces(libc, level):
    flags = NAMESPACES | (CLONE_NEWUSER if level == "user-namespaces" else 0)
    uid, gid = os.getuid(), os.getgid()
    _check(libc.unshare(flags), "unshare")
    if level == "user-namespaces":
        with open("/proc/self/setgroups", "w") as f:
            f.write("deny")
        with open("/proc/self/uid_map", "w") as f:
            f.write(f"0 {uid} 1")
        with open("/proc/self/gid_map", "w") as f:
            f.write(f"0 {gid} 1")
    _mount(libc, None, "/", None, MS_REC | MS_PRIVATE, None)


def python_paths():
    """Folders the worker's interpreter needs (stdlib, venv, site-packages); never hidden."""
    import numpy

    found = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, os.path.dirname(sys.executable))}
    found.add(os.path.dirname(os.path.realpath(sys.executable)))
    found.add(os.path.dirname(os.path.dirname(os.path.realpath(numpy.__file__))))
    found.update(os.path.realpath(p) for p in sys.path if p.endswith(("site-packages", "dist-packages")))
    return _outermost(p for p in found if os.path.isdir(p))


def _outermost(paths):
    result = []
    for path in sorted(set(paths)):
        if not any(_under(path, r) for r in result):
            result.append(path)
    return result


def _under(path, folder):
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def hideable(paths):
    """The paths that can be covered without hiding the interpreter itself."""
    needed = python_paths()
    result = []
    for path in paths:
        real = os.path.realpath(path)
        if not os.path.isdir(real) or real == "/" or _under(real, "/tmp"):
            continue
        if any(_under(n, real) for n in needed):
            continue
        result.append(real)
    return _outermost(result)


def closed_ancestors(needed):
    """Folders on the way to `needed` that other users cannot enter (such as /root)."""
    closed = set()
    for path in needed:
        parts = path.strip(os.sep).split(os.sep)
        for i in range(1, len(parts)):
            folder = os.sep + os.sep.join(parts[:i])
            if not os.stat(folder).st_mode & 0o001:
                closed.add(folder)
                break
    return _outermost(closed)


def _cover(libc, folder, keep, options):
    """Mount an empty tmpfs on `folder`, then bind the paths in `keep` back into it."""
    keep = [k for k in keep if _under(k, folder) and k != folder]
    fds = [os.open(k, os.O_PATH | os.O_DIRECTORY) for k in keep]
    _mount(libc, b"tmpfs", folder, b"tmpfs", MS_NOSUID | MS_NODEV, options)
    for path, fd in zip(keep, fds):
        os.makedirs(path, exist_ok=True)
        _mount(libc, f"/proc/self/fd/{fd}".encode(), path, None, MS_BIND | MS_REC, None)
        os.close(fd)


def prepare(level, limits, uid, module_name, source, hide, files=None):
    """Build the function that runs in the child between fork and exec.

    At namespace levels it writes the module (and `files`, name -> text) into a
    fresh private /tmp and returns the module's path; at the process level the
    caller writes them into a folder of its own.
    """
    libc = _libc() if level != "process" else None
    module_file = f"/tmp/work/{module_name}.py"
    needed = python_paths() if level != "process" else []
    closed = closed_ancestors(needed) if level == "namespaces+uid" else []

    def preexec():
        if level != "process":
            _enter_namespaces(libc, level)
            for path in hide:
                _mount(libc, b"tmpfs", path, b"tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, b"size=4k,mode=000")
            for path in closed:
                _cover(libc, path, needed, b"size=4k,mode=755")
            for path in ("/tmp", "/var/tmp", "/dev/shm"):
                if os.path.isdir(path):
                    _cover(libc, path, needed, b"size=64m,mode=1777")
            os.makedirs("/tmp/work", mode=0o700)
            written = {module_file: source}
            written.update({f"/tmp/work/{name}": text for name, text in (files or {}).items()})
            for path, text in written.items():
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
                if level == "namespaces+uid":
                    os.chown(path, uid, uid)
            if level == "namespaces+uid":
                os.chown("/tmp/work", uid, uid)
            os.chdir("/tmp/work")
        _set_limits(limits, level)
        if level == "namespaces+uid":
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
        if sys.platform.startswith("linux"):
            libc_ = libc or _libc()
            libc_.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
            libc_.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    return preexec, module_file


def _set_limits(limits, level):
    mb = 1024 * 1024

    def limit(which, value):
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError, AttributeError):
            pass  # not every platform has every limit (macOS has no RLIMIT_AS)

    limit(resource.RLIMIT_CORE, 0)
    limit(resource.RLIMIT_AS, limits.memory_mb * mb)
    limit(resource.RLIMIT_FSIZE, limits.file_mb * mb)
    limit(resource.RLIMIT_NOFILE, limits.open_files)
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 2))
    if level == "namespaces+uid":
        limit(resource.RLIMIT_NPROC, limits.processes)


def probe():
    """The strongest isolation level that works here, tried in a throwaway child."""
    global _PROBED
    if _PROBED is not None:
        return _PROBED
    _PROBED = "process"
    if sys.platform.startswith("linux") and os.environ.get("GRADER_ISOLATION") != "process":
        candidates = ["namespaces+uid"] if os.geteuid() == 0 else []
        candidates.append("user-namespaces")
        for level in candidates:
            if _try_level(level):
                _PROBED = level
                break
    return _PROBED


_PROBED = None


def _try_level(level):
    try:
        libc = _libc()
    except OSError:
        return False
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            _enter_namespaces(libc, level)
            _mount(libc, b"tmpfs", "/tmp", b"tmpfs", MS_NOSUID | MS_NODEV, b"size=1m")
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def sandbox_uid():
    """A uid of this grading process's own, so limits and clean-up stay per worker."""
    return UID_BASE + os.getpid()


def kill_uid(uid):
    """SIGKILL every process running as `uid` (used when the worker had one of its own)."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgid(uid)
            os.setuid(uid)
            os.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
