"""A seccomp filter for workers without namespaces of their own.

Every such worker: no kernel objects that outlive a process (System V and
POSIX IPC, keys: there is no IPC namespace to take them away), no signals by
proxy (F_SETOWN, FIOSETOWN: the kernel would send them in the worker's name
when its pipe is ready), no other process's resource limits, no namespaces.
A worker whose uid limits nothing (the process level) also gets: threads yes,
new processes no, and signals, tracing and memory access only to itself.

The whole filter is used at the process level (the worker may share the
grader's uid) and in a user namespace started by root (the kernel exempts the
real root user from RLIMIT_NPROC there); its first part at the uid levels.
Like wire.py,
the worker receives this file's text in front of its own, so it imports
nothing but the standard library.
"""
import ctypes
import errno
import os
import platform
import struct

PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
CLONE_THREAD = 0x00010000
_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
# name -> number; fork and vfork do not exist on aarch64.
_SYSCALLS = {
    "x86_64": dict(fork=57, vfork=58, clone=56, clone3=435, kill=62, tkill=200, tgkill=234, rt_sigqueueinfo=129,
                   rt_tgsigqueueinfo=297, ptrace=101, process_vm_readv=310, process_vm_writev=311,
                   pidfd_open=434, pidfd_send_signal=424, pidfd_getfd=438, unshare=272, setns=308,
                   fcntl=72, ioctl=16, prlimit64=302, shmget=29, msgget=68, semget=64, mq_open=240, add_key=248,
                   request_key=249, keyctl=250),
    "aarch64": dict(clone=220, clone3=435, kill=129, tkill=130, tgkill=131, rt_sigqueueinfo=138,
                    rt_tgsigqueueinfo=240, ptrace=117, process_vm_readv=270, process_vm_writev=271,
                    pidfd_open=434, pidfd_send_signal=424, pidfd_getfd=438, unshare=97, setns=268,
                    fcntl=25, ioctl=29, prlimit64=261, shmget=194, msgget=186, semget=190, mq_open=180, add_key=217,
                    request_key=218, keyctl=219),
}
_RET_ALLOW, _RET_KILL = 0x7FFF0000, 0x80000000
F_SETOWN, F_SETOWN_EX, FIOSETOWN, SIOCSPGRP = 8, 15, 0x8901, 0x8902


def _errno(code):
    return 0x00050000 | code


def seccomp_program(machine, own_pid, processes=True):
    """The filter as (code, jt, jf, k) BPF instructions, or None for a machine we do not know.

    Always: no namespaces, no kernel objects that outlive the process, no
    signals by proxy, no other process's limits. With `processes` (a worker
    whose uid limits nothing): no new processes, and signals, tracing and
    memory access to itself only."""
    numbers = _SYSCALLS.get(machine)
    if numbers is None:
        return None

    def ld(offset):
        return (0x20, 0, 0, offset)

    def jeq(k, jt, jf):
        return (0x15, jt, jf, k)

    def ret(k):
        return (0x06, 0, 0, k)

    def refuse(*names):
        return [ins for name in names for ins in (jeq(numbers[name], 0, 1), ret(_errno(errno.EPERM)))]

    prog = [ld(4), jeq(_AUDIT_ARCH[machine], 1, 0), ret(_RET_KILL), ld(0)]
    if machine == "x86_64":
        prog += [(0x35, 0, 1, 0x40000000), ret(_RET_KILL)]  # x32 system calls
    prog += refuse("unshare", "setns", "shmget", "msgget", "semget", "mq_open", "add_key", "request_key", "keyctl")
    if processes:
        for name in ("fork", "vfork"):
            if name in numbers:
                prog += [jeq(numbers[name], 0, 1), ret(_errno(errno.EAGAIN))]
        prog += refuse("tkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "ptrace", "process_vm_readv",
                       "process_vm_writev", "pidfd_open", "pidfd_send_signal", "pidfd_getfd")
        prog += [jeq(numbers["clone3"], 0, 1), ret(_errno(errno.ENOSYS))]  # glibc then falls back to clone
        # clone: threads only
        prog += [jeq(numbers["clone"], 0, 4), ld(16), (0x45, 0, 1, CLONE_THREAD), ret(_RET_ALLOW),
                 ret(_errno(errno.EAGAIN))]
        # kill(pid) and tgkill(tgid): this process only (0 is its own group, which holds only it)
        prog += [jeq(numbers["kill"], 0, 5), ld(16), jeq(own_pid, 2, 0), jeq(0, 1, 0), ret(_errno(errno.EPERM)),
                 ret(_RET_ALLOW)]
        prog += [jeq(numbers["tgkill"], 0, 4), ld(16), jeq(own_pid, 1, 0), ret(_errno(errno.EPERM)),
                 ret(_RET_ALLOW)]
    # fcntl and ioctl: anything but naming a process to signal (the command is the second argument)
    for name, commands in (("fcntl", (F_SETOWN, F_SETOWN_EX)), ("ioctl", (FIOSETOWN, SIOCSPGRP))):
        prog += [jeq(numbers[name], 0, 5), ld(24), jeq(commands[0], 2, 0), jeq(commands[1], 1, 0), ret(_RET_ALLOW),
                 ret(_errno(errno.EPERM))]
    # prlimit64(pid): this process only (0 is itself)
    prog += [jeq(numbers["prlimit64"], 0, 5), ld(16), jeq(0, 2, 0), jeq(own_pid, 1, 0), ret(_errno(errno.EPERM)),
             ret(_RET_ALLOW)]
    prog.append(ret(_RET_ALLOW))
    return prog


def install_filter(processes=True):
    """Install the filter on this process (no_new_privs must be set); False where unknown."""
    prog = seccomp_program(platform.machine().lower(), os.getpid(), processes)
    if prog is None:
        return False
    raw = ctypes.create_string_buffer(b"".join(struct.pack("=HBBI", *ins) for ins in prog))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(prog), ctypes.addressof(raw))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"seccomp: {os.strerror(err)}")
    return True
