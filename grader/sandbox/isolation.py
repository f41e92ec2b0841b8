"""What the operating system lets us do to isolate a worker, and doing it.

Six levels, strongest first, probed once per process and never assumed:

- ``namespaces+uid`` (Linux, started as root): new mount, network, PID, IPC and
  UTS namespaces; a root file system of its own holding only the interpreter,
  the system's libraries and /etc (read-only), an empty /tmp and the working
  folder; and a throwaway uid of its own.
- ``user-namespaces`` (Linux, unprivileged user namespaces allowed): the same
  namespaces and root inside a user namespace, as a non-root uid there.
- ``uid+landlock`` and ``uid`` (started as root, namespaces refused, as in many
  containers): a throwaway uid and the resource limits on the host's file
  system; with Landlock (landlock.py, Linux 5.13+) the worker may only read
  the interpreter and its libraries and change only its own folder.
- ``process+landlock`` and ``process``: a process of its own with the resource
  limits; on Linux (x86_64, aarch64) a seccomp filter also stops it from
  starting processes, from signalling, tracing or changing the limits of any
  process but itself, and from making kernel objects that outlive it
  (seccomp.py); Landlock as above. A grader running as root gives this
  worker a throwaway uid too (which the worker takes itself once started:
  inside/identity.py), so it never keeps uid 0.

GRADER_ISOLATION=LEVEL caps the level (tests use it to exercise the weaker
ones): `uid` and `process` get Landlock wherever the kernel has it, and
GRADER_LANDLOCK=0 leaves it off. Every level sets the resource limits and
starts the worker in a new session.

The grader's own processes protect themselves too (`before_worker`,
`after_worker`): they are non-dumpable, so no worker that shares their uid can
read their memory or environment through /proc or ptrace, and they adopt and
reap the orphans their workers leave.
"""
import ctypes
import errno
import fcntl
import os
import platform
import resource
import signal
import sys
import tempfile
import time
from dataclasses import dataclass

if __package__:  # imported by the grader; in the fork server's script, these files' texts come first
    from .inside.identity import become
    from .landlock import landlock_abi, landlock_restrict

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC, MS_PRIVATE, MS_RELATIME = 1024, 2048, 4096, 16384, 1 << 18, 1 << 21
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 1, 4, 24, 36, 38
NAMESPACES = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS
# Sandbox uids sit far above any real account's; each sandbox gets its own, never used before (sandbox_uid).
UID_BASE = 200_000
UID_END = 1 << 31
# The uid student code has inside a user namespace: not 0, so exec drops every capability.
INSIDE_UID = 1000
WORKDIR = "/tmp/work"

LEVELS = ("namespaces+uid", "user-namespaces", "uid+landlock", "uid", "process+landlock", "process")
NAMESPACE_LEVELS = LEVELS[:2]
UID_LEVELS = ("namespaces+uid", "uid+landlock", "uid")
LANDLOCK_LEVELS = ("uid+landlock", "process+landlock")


@dataclass(frozen=True)
class Limits:
    """Resource limits for one worker (from the exercise manifest). Times are
    CPU seconds of the student's own code, never wall-clock time (see
    Sandbox._await_reply and docs/authoring.md, "Time limits")."""

    call_seconds: float = 1.0  # what any call may take
    reference_multiple: float = 10.0  # or this many times what the reference takes for the same call, if more
    # What the reference functions standing in for wrong ones may take on top, per call.
    helper_seconds: float = 10.0
    import_seconds: float = 10.0  # starting the worker and importing the student's module
    # Wall-clock seconds, plus 5x its CPU limits, after which a call that waits rather than computes
    # (sleeps, stops reading) is given up: the one wall-clock limit (see transport.wall_net).
    wait_seconds: float = 5.0
    memory_mb: int = 1024
    cpu_seconds: int = 120  # over the worker's whole life
    processes: int = 32
    file_mb: int = 16
    open_files: int = 256
    output_bytes: int = 4096


def _libc():
    # The interpreter's own symbols include libc's; find_library would run ldconfig.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]
    libc.syscall.restype = ctypes.c_long
    return libc


def _check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(libc, source, target, fstype, flags, data):
    _check(libc.mount(source, target.encode(), fstype, flags, data), f"mount {target}")


# -- the folders a worker may see ------------------------------------------------

def package_folders():
    """The folders of installed packages, in the grader's order: its
    site-packages (or dist-packages) and the one holding numpy. Workers start
    without `site` and put these on their own path."""
    import importlib.util

    # Found, not imported: the grader imports numpy while the worker starts.
    numpy_folder = os.path.dirname(os.path.dirname(importlib.util.find_spec("numpy").origin))
    found = [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
    found += [numpy_folder] if numpy_folder not in found else []
    return [p for p in dict.fromkeys(found) if os.path.isdir(p)]


def python_paths():
    """Folders the worker's interpreter needs (stdlib, venv, site-packages)."""
    found = {p for p in (sys.prefix, sys.base_prefix, os.path.dirname(sys.executable))}
    found.add(os.path.dirname(os.path.realpath(sys.executable)))
    found.update(package_folders())
    return [p for p in found if os.path.isdir(p)]


def _under(path, folder):
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _outermost(paths):
    result = []
    for path in sorted(set(paths)):
        if not any(_under(path, r) for r in result):
            result.append(path)
    return result


def root_plan():
    """What the worker's root file system is made of: (binds, links).

    `binds` are (source, target) pairs mounted read-only: the system's
    programs, libraries and /etc, and the interpreter's folders, each at its
    real path and at the path the interpreter knows it by (a venv's
    bin/python must be found where sys.executable says). `links` recreate the
    top-level symbolic links of merged-/usr systems (/lib -> usr/lib).
    """
    links, targets = {}, {}
    for name in ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc"):
        path = "/" + name
        if os.path.islink(path):
            links[path] = os.readlink(path)
        elif os.path.isdir(path):
            targets[path] = path
    for path in python_paths():
        real = os.path.realpath(path)
        for target in {real, os.path.abspath(path)}:
            if not any(_under(target, link) for link in links):
                targets[target] = real
    keep = _outermost(targets)
    return [(targets[t], t) for t in keep], links


# Read-only for a worker Landlock confines, beside the interpreter's folders:
# the C libraries and the dynamic loader (which must be executable), and the
# few files libc and Python read as they start (without them, local time is
# UTC and the locale changes, without a word).
LANDLOCK_SYSTEM = ("/usr/lib", "/usr/lib64", "/usr/lib32", "/lib", "/lib64", "/lib32", "/usr/local/lib",
                   "/etc/ld.so.cache", "/etc/localtime", "/usr/share/zoneinfo", "/usr/share/locale/locale.alias",
                   "/dev/urandom", "/dev/random", "/dev/zero")


def landlock_rules(workdir, hide=()):
    """What a worker confined by Landlock may use: (read_only, read_write) paths.

    Read-only: the interpreter's folders (not all of sys.path: a .pth entry
    may name the course itself) and LANDLOCK_SYSTEM. Read-write: its own
    folder and /dev/null. Never /proc: there a root worker could read other
    processes' environment, dumpable or not. A read-only folder holding one of
    `hide` is granted as its other entries, so no grant reaches what is hidden.
    """
    hidden = [os.path.realpath(p) for p in hide]
    read_only = set()
    for path in (*python_paths(), sys.exec_prefix, sys.base_exec_prefix, *LANDLOCK_SYSTEM):
        read_only.update(_excluding(path, hidden))
    return sorted(read_only), [workdir, "/dev/null"]


def _excluding(path, hidden):
    """[path], or the entries of folder `path` that hold nothing `hidden` (recursively)."""
    real = os.path.realpath(path)
    if not any(_under(h, real) for h in hidden):
        return [path]
    if real in hidden or os.path.islink(path) or not os.path.isdir(path):
        return []  # hidden, or a link to a folder holding a hidden one
    return [kept for name in sorted(os.listdir(path)) for kept in _excluding(os.path.join(path, name), hidden)]


# -- the namespace levels: a root of our own ------------------------------------------

_DEVICES = ("null", "zero", "full", "random", "urandom")
_MOUNT_FLAGS = {  # statvfs f_flag bit -> mount flag, to keep locked flags on a read-only remount
    1: MS_RDONLY, 2: MS_NOSUID, 4: MS_NODEV, 8: MS_NOEXEC,
    1024: MS_NOATIME, 2048: MS_NODIRATIME, 4096: MS_RELATIME,
}
_PIVOT_ROOT = {"x86_64": 155, "amd64": 155, "aarch64": 41, "arm64": 41, "riscv64": 41,
               "ppc64le": 203, "ppc64": 203, "s390x": 217, "i686": 217, "armv7l": 218}


def _mount_flags(path):
    flags = os.statvfs(path).f_flag
    return sum(m for bit, m in _MOUNT_FLAGS.items() if flags & bit)


def _submounts(target):
    """Mount points at or below `target` (from /proc/self/mountinfo)."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = line.split()[4].encode().decode("unicode_escape")
            if _under(point, target):
                found.append(point)
    return found


def _enter_namespaces(libc, level):
    flags = NAMESPACES | (CLONE_NEWUSER if level == "user-namespaces" else 0)
    uid, gid = os.getuid(), os.getgid()
    if level == "user-namespaces":
        # A fork of the non-dumpable grader is non-dumpable too, and such a
        # process may not write its own uid_map. Until its exec, this copy of
        # the grader is open to processes of its uid: no worker can see it
        # (each has a PID namespace of its own).
        libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
    _check(libc.unshare(flags), "unshare")
    if level == "user-namespaces":
        # Only our own ids, mapped to a non-root id: the exec that follows the
        # set-up drops every capability the new namespace gave us.
        with open("/proc/self/setgroups", "w") as f:
            f.write("deny")
        with open("/proc/self/uid_map", "w") as f:
            f.write(f"{INSIDE_UID} {uid} 1")
        with open("/proc/self/gid_map", "w") as f:
            f.write(f"{INSIDE_UID} {gid} 1")
    _mount(libc, None, "/", None, MS_REC | MS_PRIVATE, None)


def _build_root(libc, plan, files, owner):
    """Make a tmpfs the root file system: the plan's folders read-only, /dev's
    harmless devices, an empty /tmp and WORKDIR holding `files` (owned by `owner`)."""
    binds, links = plan
    sources = [(os.open(src, os.O_PATH), target) for src, target in binds]
    devices = [(os.open(f"/dev/{d}", os.O_PATH), f"/dev/{d}") for d in _DEVICES if os.path.exists(f"/dev/{d}")]
    # /tmp becomes the new root: the old /tmp is covered on the way.
    new = "/tmp"
    _mount(libc, b"tmpfs", new, b"tmpfs", MS_NOSUID | MS_NODEV, b"size=64m,mode=755")
    for fd, target in sources:
        where = new + target
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            os.makedirs(where, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(where), exist_ok=True)
            open(where, "w").close()
        _mount(libc, f"/proc/self/fd/{fd}".encode(), where, None, MS_BIND | MS_REC, None)
        for point in _submounts(where):
            _mount(libc, None, point, None, MS_BIND | MS_REMOUNT | MS_RDONLY | _mount_flags(point), None)
        os.close(fd)
    os.makedirs(new + "/dev", mode=0o755)
    for fd, target in devices:
        open(new + target, "w").close()
        _mount(libc, f"/proc/self/fd/{fd}".encode(), new + target, None, MS_BIND, None)
        os.close(fd)
    for path, target in links.items():
        os.symlink(target, new + path)
    for folder in ("/tmp", "/dev/shm", "/var/tmp"):
        os.makedirs(new + folder, exist_ok=True)
        os.chmod(new + folder, 0o1777)
    os.makedirs(new + WORKDIR, mode=0o700)
    _write_files(new + WORKDIR, files, owner)
    os.chdir(new)
    number = _PIVOT_ROOT.get(platform.machine().lower())
    if number is None:
        raise OSError(errno.ENOSYS, f"pivot_root: unknown machine {platform.machine()}")
    # pivot_root(".", ".") stacks the old root on the new one; detaching it leaves no way back.
    _check(libc.syscall(number, b".", b"."), "pivot_root")
    _check(libc.umount2(b".", MNT_DETACH), "umount old root")
    os.chdir(WORKDIR)


def _write_files(folder, files, owner):
    for name, text in files.items():
        path = os.path.join(folder, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        if owner is not None:
            os.chown(path, owner, owner)
    if owner is not None:
        os.chown(folder, owner, owner)


# -- starting a worker ------------------------------------------------------------

@dataclass
class Plan:
    """How one worker is started: the function run between fork and exec,
    and where its files are (`workdir` as the worker sees it; `host_dir` is
    the grader's folder to remove afterwards, at the levels without a root of
    their own)."""

    preexec: object
    workdir: str
    host_dir: str | None
    uid: int | None
    seccomp: str  # the filter the worker installs before student code runs: "processes", "objects" or ""
    late_uid: bool = False  # the worker becomes `uid` itself, once started (a root grader at the process level)

    def worker_flags(self):
        """The worker's last two arguments: its seccomp filter, and the uid it takes itself ("-": none)."""
        return [self.seccomp or "-", str(self.uid) if self.late_uid else "-"]


def prepare(level, limits, files, hide=(), host_dir=None, uid=None):
    """Plan a worker at `level` holding `files` (name -> text) in its working folder.

    `hide`: folders that must stay invisible even if the worker's read-only
    folders hold them (namespace and Landlock levels; nothing is hidden at the
    others). `host_dir`: the folder to use at the levels without a root of
    their own (default: a new temporary one). `uid`: the throwaway uid at the
    uid levels (default: a new one).
    """
    libc = _libc() if sys.platform.startswith("linux") else None
    late_uid = has_uid(level) and level not in UID_LEVELS
    uid = (uid or sandbox_uid()) if has_uid(level) else None
    if level in NAMESPACE_LEVELS:
        host_dir = None
        plan = root_plan()
        hidden = [h for h in (os.path.realpath(p) for p in hide) if os.path.isdir(h)]
        workdir = WORKDIR
    else:
        host_dir = workdir = host_dir or tempfile.mkdtemp(prefix="grader-")
        _write_files(workdir, files, uid)
    rules = landlock_rules(workdir, hide) if level in LANDLOCK_LEVELS else None

    def preexec():
        if level in NAMESPACE_LEVELS:
            _enter_namespaces(libc, level)
            _build_root(libc, plan, files, uid)
            for path in hidden:
                if os.path.isdir(path):
                    _mount(libc, b"tmpfs", path, b"tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, b"size=4k,mode=000")
        _set_limits(limits, level)
        if uid is not None and not late_uid:
            become(uid)
        if libc is not None:
            libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        # Last: the steps above open what the worker itself may not. Where the
        # level promised Landlock, no Landlock is no worker.
        if rules is not None and not landlock_restrict(*rules):
            raise OSError(errno.ENOSYS, "Landlock is not available")

    # RLIMIT_NPROC holds a throwaway uid; it cannot hold the grader's own uid,
    # nor the real root user, whom the kernel exempts even inside a user namespace.
    # No kernel objects that outlive the worker (seccomp.py): keys belong to the uid at every level.
    no_fork = base_level(level) == "process" or (level == "user-namespaces" and os.geteuid() == 0)
    seccomp = "processes" if no_fork else "objects"
    return Plan(preexec, workdir, host_dir, uid, seccomp, late_uid)


def has_uid(level):
    """Whether a worker at `level` runs as a throwaway uid: at the uid levels, and
    at the process levels when the grader is root (Linux), so that no worker keeps uid 0."""
    return level in UID_LEVELS or (base_level(level) == "process" and sys.platform.startswith("linux")
                                   and os.geteuid() == 0)


def base_level(level):
    """The level without Landlock (`uid+landlock` -> `uid`)."""
    return level.removesuffix("+landlock")


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
    if base_level(level) != "process":
        # Counted per uid: the sandbox's own (or, in a user namespace, its own
        # uid there), so the limit holds the sandbox alone. At the process
        # level the uid may be the grader's: the seccomp filter does this job.
        limit(resource.RLIMIT_NPROC, limits.processes)


def worker_env(home):
    """The whole environment of a worker: nothing of the grader's but a few CPU settings."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env


# -- probing ---------------------------------------------------------------------

_PROBED = None


def probe():
    """The strongest isolation level that works here (at most GRADER_ISOLATION's)."""
    global _PROBED
    if _PROBED is not None:
        return _PROBED
    wanted = os.environ.get("GRADER_ISOLATION", "").strip() or LEVELS[0]
    landlock = os.environ.get("GRADER_LANDLOCK", "").strip()
    problem = (f"GRADER_ISOLATION={wanted!r} is not one of {', '.join(LEVELS)}" if wanted not in LEVELS
               else f"GRADER_LANDLOCK={landlock!r} is not 0 or 1" if landlock not in ("", "0", "1")
               else f"GRADER_ISOLATION={wanted} asks for Landlock and GRADER_LANDLOCK=0 turns it off"
               if landlock == "0" and wanted in LANDLOCK_LEVELS else "")
    if problem:
        from ..errors import GraderError

        raise GraderError(problem)
    if wanted + "+landlock" in LEVELS:
        wanted += "+landlock"  # `uid` and `process` mean: with Landlock where the kernel has it
    for level in LEVELS[LEVELS.index(wanted):]:
        if not (level in LANDLOCK_LEVELS and landlock == "0") and _usable(level):
            _PROBED = level
            return level
    raise AssertionError("unreachable: the process level always works")


def weaker_than_asked(level):
    """A note when GRADER_ISOLATION asked for a level this machine cannot give
    and `level` is what grading fell back to ('' otherwise)."""
    asked = os.environ.get("GRADER_ISOLATION", "").strip()
    if not asked or level in (asked, asked + "+landlock"):
        return ""
    if not sys.platform.startswith("linux"):
        why = "it needs Linux"
    elif asked in UID_LEVELS and os.geteuid() != 0:
        why = "it needs root"
    elif asked in LANDLOCK_LEVELS:
        why = "the kernel has no Landlock"
    elif asked in NAMESPACE_LEVELS:
        why = "the kernel refused this process new namespaces"
    else:
        why = "a throwaway uid cannot reach the interpreter: a folder on its way, such as /root, is closed to others"
    return f"GRADER_ISOLATION={asked} cannot be had here ({why}): graded at {level}"


def _usable(level):
    if level == "process":
        return True
    if not sys.platform.startswith("linux"):
        return False
    if level in UID_LEVELS and os.geteuid() != 0:
        return False
    if level in LANDLOCK_LEVELS and landlock_abi() < 1:
        return False
    try:
        libc = _libc()
        plan = root_plan() if level in NAMESPACE_LEVELS else None
        rules = landlock_rules(tempfile.gettempdir()) if level in LANDLOCK_LEVELS else None
    except (OSError, ImportError):
        return False
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            if plan is not None:
                _enter_namespaces(libc, level)
                _build_root(libc, plan, {"probe.py": ""}, UID_BASE if level == "namespaces+uid" else None)
                code = 0 if os.path.exists(sys.executable) else 1
            else:
                # Without a root of its own, the worker must reach the interpreter where it is.
                if level in UID_LEVELS:
                    os.setgid(UID_BASE)
                    os.setuid(UID_BASE)
                if rules is None or landlock_restrict(*rules):
                    for path in (sys.executable, *python_paths()):
                        if os.path.isdir(path):
                            os.listdir(path)
                        else:
                            open(path, "rb").close()
                    code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


_UIDS = {"pid": 0, "next": 0, "end": 0}  # this process's block of uids not yet given out
UID_BLOCK = 64
UID_STATE = ("/run/mlgrade-sandbox-uids", "/var/tmp/mlgrade-sandbox-uids")


def sandbox_uid():
    """A uid for one sandbox, never given to another before on this machine.

    Uids come in blocks from a counter in a root-only state file (under
    /run), taken under a lock, so no two graders, nor a grader started after
    another ended, share one: keys and files a uid leaves behind reach no
    later student. Where no such file can be kept, blocks start at a random
    place in the two billion sandbox uids.
    """
    if _UIDS["pid"] != os.getpid() or _UIDS["next"] >= _UIDS["end"]:
        start = _take_block()
        _UIDS.update(pid=os.getpid(), next=start, end=start + UID_BLOCK)
    _UIDS["next"] += 1
    return _UIDS["next"] - 1


def _take_block():
    for path in UID_STATE:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError:
            continue
        try:
            info = os.fstat(fd)
            if info.st_uid != os.geteuid() or info.st_mode & 0o077:
                continue  # someone else's file: not to be believed
            fcntl.flock(fd, fcntl.LOCK_EX)
            text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            start = int(text) if text.isdigit() and UID_BASE <= int(text) < UID_END - UID_BLOCK else UID_BASE
            data = str(start + UID_BLOCK).encode()
            os.ftruncate(fd, 0)
            os.pwrite(fd, data, 0)
            return start
        except OSError:
            continue
        finally:
            os.close(fd)
    import secrets

    return UID_BASE + secrets.randbelow((UID_END - UID_BASE) // UID_BLOCK - 1) * UID_BLOCK


# -- the grader's own processes ------------------------------------------------------

_ADOPTING = {"pid": 0, "workers": 0}  # per process: a forked child starts from nothing


def protect_grader():
    """Make this process non-dumpable (Linux; nothing elsewhere): then a process
    of the same uid without CAP_SYS_PTRACE (a worker) cannot open its
    /proc/PID/mem or environ, nor trace it. Its /proc/self stays readable to
    itself, a fork inherits the flag and an exec clears it."""
    if sys.platform.startswith("linux"):
        _libc().prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def before_worker():
    """Call before starting a worker: this process becomes non-dumpable and,
    while it has workers, the parent of their orphans (a child subreaper), so
    what they leave behind is reaped here (`after_worker`), never left to a
    PID 1 that may not reap."""
    protect_grader()
    if _ADOPTING["pid"] != os.getpid():
        _ADOPTING.update(pid=os.getpid(), workers=0)
    _ADOPTING["workers"] += 1
    if _ADOPTING["workers"] == 1 and sys.platform.startswith("linux"):
        _libc().prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def after_worker(session, uid=None, wait=2.0):
    """Call once the worker that led `session` (its pid) is killed and waited
    for: reap the orphans it left. Its killed processes (in its session or,
    at the uid levels, running as its `uid`) are waited for up to `wait`
    seconds; other adopted orphans are reaped if they are already dead.
    Children that someone here waits for are never touched: they lead a
    session of their own (workers, the fork server) or share ours (the
    batch's grading processes, short-lived commands)."""
    if _ADOPTING["pid"] == os.getpid() and _ADOPTING["workers"] > 0:
        _ADOPTING["workers"] -= 1
    if not sys.platform.startswith("linux"):
        return
    ours = os.getsid(0)
    deadline = time.monotonic() + wait
    while True:
        dying = False
        for pid in _children():
            found = _process(pid)
            if found is None:
                continue
            state, sid, owner = found
            left = (sid == session and pid != session) or (uid is not None and owner == uid)
            if not left and sid in (pid, ours):
                continue
            reaped = False
            if state in ("Z", "X"):
                try:
                    # 0 while the zombie still has threads exiting (a PID
                    # namespace's first process waits for the namespace to empty)
                    reaped = os.waitpid(pid, os.WNOHANG)[0] == pid
                except ChildProcessError:
                    reaped = True
            dying = dying or (left and not reaped)
        if not dying or time.monotonic() >= deadline:
            break
        time.sleep(0.002)
    if _ADOPTING["pid"] == os.getpid() and _ADOPTING["workers"] == 0:
        _libc().prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


def _children():
    """The pids of this process's children."""
    me = os.getpid()
    try:
        pids = set()
        for task in os.listdir(f"/proc/{me}/task"):
            with open(f"/proc/{me}/task/{task}/children") as f:
                pids.update(int(p) for p in f.read().split())
        return pids
    except OSError:  # a kernel without /proc/PID/task/TID/children: ask every process
        return {int(p) for p in os.listdir("/proc") if p.isdigit() and _parent(int(p)) == me}


def _parent(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _process(pid):
    """(state, session, uid) of process `pid`, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open(f"/proc/{pid}/status") as f:
            uid = next(int(line.split()[1]) for line in f if line.startswith("Uid:"))
        return fields[0], int(fields[3]), uid
    except (OSError, IndexError, ValueError, StopIteration):
        return None
