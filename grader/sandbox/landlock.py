"""Landlock (Linux 5.13+): a process gives up, for good, every file it was not
granted, without root.

Used at the `uid+landlock` and `process+landlock` levels (isolation.py): the
worker may read the interpreter and the libraries it needs, and read and
write its own folder, nothing else. Landlock also keeps it from tracing any
process outside its domain (so from opening their /proc/PID/mem), from TCP
(ABI 4), and from signalling processes outside its domain (ABI 6).

Like isolation.py, this file is also joined as text into the fork server's
script, so it uses the standard library only and every name it defines starts
with `landlock_` or `_ll_`.
"""
import ctypes
import os
import stat
import sys

# The system calls have the same numbers on every architecture (the generic table).
_LL_CREATE_RULESET, _LL_ADD_RULE, _LL_RESTRICT_SELF = 444, 445, 446
_LL_CREATE_RULESET_VERSION = 1
_LL_RULE_PATH_BENEATH = 1
_LL_PR_SET_NO_NEW_PRIVS = 38

# File-system rights (include/uapi/linux/landlock.h): thirteen in ABI 1, then one each in ABI 2, 3 and 5.
_LL_EXECUTE, _LL_WRITE_FILE, _LL_READ_FILE, _LL_READ_DIR = 1, 2, 4, 8
_LL_REFER, _LL_TRUNCATE, _LL_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_LL_READ = _LL_EXECUTE | _LL_READ_FILE | _LL_READ_DIR
# The only rights a rule on a file (not a folder) may carry.
_LL_ON_FILES = _LL_EXECUTE | _LL_WRITE_FILE | _LL_READ_FILE | _LL_TRUNCATE | _LL_IOCTL_DEV
_LL_TCP = 3  # bind and connect (ABI 4); no rule grants either
_LL_SCOPES = 3  # abstract unix sockets and signals, to this domain only (ABI 6)


class _LLRulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _LLPathBeneath(ctypes.Structure):
    _pack_ = 1  # packed in the kernel's header: 12 bytes
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _ll_syscall(number, *args):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    ctypes.set_errno(0)
    result = libc.syscall(ctypes.c_long(number), *args)
    return result, (ctypes.get_errno() if result < 0 else 0)


def landlock_abi():
    """The kernel's Landlock ABI version; 0 where there is none (not Linux, not
    built in, disabled at boot, or refused by a container's seccomp profile)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        version, _ = _ll_syscall(_LL_CREATE_RULESET, ctypes.c_void_p(None), ctypes.c_size_t(0),
                                 ctypes.c_uint32(_LL_CREATE_RULESET_VERSION))
    except (OSError, AttributeError):
        return 0
    return max(int(version), 0)


def landlock_restrict(read_only, read_write):
    """Confine this thread and everything it starts from now on: `read_only`
    paths (folders or files) may be read and executed, `read_write` ones also
    changed, anything else not at all; no TCP; no signals out of the domain.

    Paths that do not exist (or that this uid cannot reach) are skipped. Returns False where Landlock is
    missing (nothing was done), True once confined; raises OSError when it
    fails half-way. Call it single-threaded: other threads stay free.
    """
    abi = landlock_abi()
    if abi < 1:
        return False
    handled = (1 << 13) - 1
    handled |= (_LL_REFER if abi >= 2 else 0) | (_LL_TRUNCATE if abi >= 3 else 0) | (_LL_IOCTL_DEV if abi >= 5 else 0)
    attr = _LLRulesetAttr(handled, _LL_TCP if abi >= 4 else 0, _LL_SCOPES if abi >= 6 else 0)
    size = 8 if abi < 4 else 16 if abi < 6 else 24  # only the fields this kernel knows
    ruleset, err = _ll_syscall(_LL_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        raise OSError(err, f"landlock_create_ruleset: {os.strerror(err)}")
    try:
        for paths, rights in ((read_only, _LL_READ & handled), (read_write, handled)):
            for path in paths:
                _ll_add_rule(ruleset, path, rights)
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_LL_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"no_new_privs: {os.strerror(err)}")
        done, err = _ll_syscall(_LL_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0))
        if done < 0:
            raise OSError(err, f"landlock_restrict_self: {os.strerror(err)}")
    finally:
        os.close(ruleset)
    return True


def _ll_add_rule(ruleset, path, rights):
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # missing, or out of this uid's reach: nothing to grant
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            rights &= _LL_ON_FILES  # the kernel refuses folder rights on a file
        rule = _LLPathBeneath(rights, fd)
        done, err = _ll_syscall(_LL_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(_LL_RULE_PATH_BENEATH),
                                ctypes.byref(rule), ctypes.c_uint32(0))
        if done < 0:
            raise OSError(err, f"landlock_add_rule {path}: {os.strerror(err)}")
    finally:
        os.close(fd)
