# The fork server ("zygote"): a warm interpreter that forks workers.
#
# Never imported by the grader: `zygote.py` runs `python -I -S -c` with the text of
# landlock.py, isolation.py, wire.py, seccomp.py and worker.py followed by this
# file's. It imports numpy once; each worker is then a fork of it instead of a
# fresh interpreter. It runs no student code itself and never reads a
# submission: a forked child reads its configuration (the student's files among
# it) from its own pipe, so nothing of one student stays in the memory the next
# child copies.
import socket
import struct


def _only_fds(keep):
    """Close every descriptor above stderr except `keep` (the zygote's socket among them)."""
    for name in os.listdir("/proc/self/fd") if os.path.isdir("/proc/self/fd") else []:
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _read_exactly(fd, size):
    data = b""
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            os._exit(0)
        data += chunk
    return data


def _read_config(fd):
    """The first message on the pipe, read to its last byte and no further:
    what follows it (a call sent early) is the worker's to read."""
    header = _read_exactly(fd, 4)
    return Unpacker().feed(header + _read_exactly(fd, int.from_bytes(header, "big")))[0]


def _become_worker(rfd, wfd, out):
    """In a fresh child: isolate exactly as a spawned worker would, then serve."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.dup2(out, 1)
    os.dup2(out, 2)
    _only_fds({rfd, wfd})
    config = _read_config(rfd)
    plan = prepare(config["level"], Limits(**config["limits"]), config["files"],
                   config["hide"], config["host_dir"], config["uid"])
    os.environ.clear()
    os.environ.update(config["env"])
    plan.preexec()
    os.chdir(plan.workdir)
    module_file = os.path.join(plan.workdir, config["module_file"])
    pidns = "1" if config["level"] in NAMESPACE_LEVELS else "0"  # as for a spawned worker
    sys.argv = ["-c", str(rfd), str(wfd), module_file, config["module_name"], pidns, *plan.worker_flags()]
    main()


def zygote_main():
    import ctypes

    libc = ctypes.CDLL(None)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # die with the grader
    # It holds no secret, but nothing of it is for workers to read either; its
    # forks inherit the flag, and those at the user-namespaces level lift it.
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    # The workers' orphans come here rather than to the grader, and, like the
    # workers, are reaped by the kernel.
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    sock = socket.socket(fileno=int(sys.argv[1]))
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the workers
    import numpy  # noqa: F401 - the point of this process: every worker starts with it

    while True:
        try:
            message, fds, _, _ = socket.recv_fds(sock, 16, 3)
        except OSError:
            os._exit(0)
        if not message or len(fds) != 3:
            os._exit(0)
        # The grader learns the pid only once the child leads a session (and
        # so a process group) of its own: it kills the worker by that group,
        # maybe at once, before the child would have got there.
        led, leading = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                sock.close()
                os.close(led)
                os.setsid()
                os.close(leading)
                _become_worker(*fds)
            finally:
                os._exit(70)
        os.close(leading)
        os.read(led, 1)  # end of file: the child leads its session, or is dead
        os.close(led)
        for fd in fds:
            os.close(fd)
        sock.sendall(struct.pack("=i", pid))
