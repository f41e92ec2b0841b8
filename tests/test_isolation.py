"""The isolation levels themselves: how they are chosen and named, what
Landlock leaves a worker, what a root worker keeps of root, and the grader's
own process (non-dumpable, the reaper of its workers' orphans). Real workers,
real processes; the hostile corpus (test_hostile.py) grades attacks end to end."""
from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from conftest import REFERENCE, ROOT
from processes import run_reachable, zombies_below

from grader.sandbox import isolation, zygote
from grader.sandbox.landlock import landlock_abi
from grader.sandbox.session import Sandbox

LINUX = sys.platform.startswith("linux")
ROOT_USER = LINUX and os.geteuid() == 0
STRONGEST = isolation.probe()
landlock = pytest.mark.skipif(landlock_abi() < 1, reason="needs Landlock (Linux 5.13)")
as_root = pytest.mark.skipif(not ROOT_USER, reason="needs root")
GRADER_UID = 62000 + os.getpid() % 1000
PR_GET_DUMPABLE, PR_GET_CHILD_SUBREAPER = 3, 37

# What a worker tries; each line "what: ok" or "what: <error>".
PROBES = r'''
import os, tempfile


def _try(name, action):
    try:
        action()
        return f"{name}: ok"
    except OSError as exc:
        return f"{name}: {type(exc).__name__}"


def _write(path):
    with open(path, "w") as f:
        f.write("written by the worker")


def _read(path):
    with open(path) as f:
        f.read()


def probe(outside, hidden, granted):
    import numpy as np

    float(np.linalg.norm(np.arange(10.0)))  # the interpreter and numpy work
    return [
        _try("write own folder", lambda: _write("mine.txt")),
        _try("temporary file", lambda: tempfile.NamedTemporaryFile().close()),
        _try("write /dev/null", lambda: _write("/dev/null")),
        _try("read outside", lambda: _read(os.path.join(outside, "secret.txt"))),
        _try("write outside", lambda: _write(os.path.join(outside, "planted.txt"))),
        _try("list /proc/self", lambda: os.listdir("/proc/self")),
        _try("read granted", lambda: _read(granted)),
        _try("read hidden", lambda: _read(hidden)),
    ]


def capabilities():
    import ctypes

    header = (ctypes.c_uint32 * 2)(0x20080522, 0)
    data = (ctypes.c_uint32 * 6)()
    ctypes.CDLL(None).capget(header, data)
    return [data[0], data[3]]  # effective, low and high words
'''


@pytest.fixture(params=["spawned", "forked"])
def start(request, monkeypatch):
    if request.param == "forked":
        monkeypatch.setenv("GRADER_FORKSERVER", "1")
    yield request.param
    zygote.disable()


@pytest.fixture
def places(monkeypatch):
    """(outside, hidden, granted): a folder the worker must not touch, and a
    folder Landlock grants read-only (through LANDLOCK_SYSTEM) holding a
    hidden folder, as a course inside an interpreter's prefix would be."""
    base = Path(tempfile.mkdtemp(prefix="grader-places-", dir="/var/tmp"))
    base.chmod(0o755)
    (base / "outside").mkdir()
    (base / "outside" / "secret.txt").write_text("not for workers")
    (base / "prefix" / "lib").mkdir(parents=True)
    (base / "prefix" / "lib" / "module.py").write_text("granted = True")
    (base / "prefix" / "solutions").mkdir()
    (base / "prefix" / "solutions" / "key.txt").write_text("q1 = B")
    monkeypatch.setattr(isolation, "LANDLOCK_SYSTEM", (*isolation.LANDLOCK_SYSTEM, str(base / "prefix")))
    yield base / "outside", base / "prefix" / "solutions", base / "prefix" / "lib" / "module.py"
    shutil.rmtree(base, ignore_errors=True)


def _probe(level, places, start):
    outside, hidden, granted = places
    with Sandbox(PROBES, "probes", level=level, hide=[str(hidden)]) as sandbox:
        outcome = sandbox.call("probe", [str(outside), str(hidden / "key.txt"), str(granted)])
        assert outcome.ok, outcome
        assert sandbox.level == level
        return dict(line.split(": ") for line in outcome.value)


# -- choosing and naming the level ---------------------------------------------------------------

@pytest.mark.parametrize("isolation_env, landlock_env, named", [
    ("process", "", "process+landlock"),
    ("process+landlock", "", "process+landlock"),
    ("process", "0", "process"),
    ("process", "1", "process+landlock"),
])
@landlock
def test_the_level_in_force_is_named_in_every_report(grade_cli, monkeypatch, tmp_path, isolation_env, landlock_env,
                                                     named):
    monkeypatch.setattr(isolation, "_PROBED", None)
    monkeypatch.setenv("GRADER_ISOLATION", isolation_env)
    monkeypatch.setenv("GRADER_LANDLOCK", landlock_env)
    result = grade_cli("exercise3", "--submission", REFERENCE, "--json", tmp_path / "r.json")
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "r.json").read_text())["isolation"] == named
    assert result.output.rstrip().endswith(f"sandbox: {named})")


def test_a_level_asked_for_and_not_had_is_said_before_the_report(run_grade):
    """GRADER_ISOLATION caps the level; when the machine cannot give the level
    asked for, grading goes on at a weaker one and says so first."""
    proc = run_grade("exercise3", "--submission", REFERENCE, env={"GRADER_ISOLATION": "uid"})
    assert proc.returncode == 0, proc.stderr
    level = proc.stdout.rstrip().rsplit("sandbox: ", 1)[1].rstrip(")")
    if level.startswith("uid"):
        assert "cannot be had here" not in proc.stdout
    else:  # not root, or a folder on the way to the interpreter closed to a throwaway uid
        first = proc.stdout.splitlines()[0]
        assert first.startswith("note: GRADER_ISOLATION=uid cannot be had here (") and \
            first.endswith(f"): graded at {level}"), first


@pytest.mark.parametrize("asked, level, noted", [("uid", "uid+landlock", False), ("uid", "uid", False),
                                                  ("process", "process+landlock", False),
                                                  ("namespaces+uid", "process", True), ("", "process", False)])
def test_only_a_level_weaker_than_asked_is_noted(monkeypatch, asked, level, noted):
    monkeypatch.setenv("GRADER_ISOLATION", asked)
    note = isolation.weaker_than_asked(level)
    assert bool(note) == noted, note
    assert not noted or note.startswith(f"GRADER_ISOLATION={asked} cannot be had here (")


@pytest.mark.parametrize("isolation_env, landlock_env, message", [
    ("container", "", "grade: error: GRADER_ISOLATION='container' is not one of namespaces+uid, user-namespaces, "
                      "uid+landlock, uid, process+landlock, process"),
    ("process", "no", "grade: error: GRADER_LANDLOCK='no' is not 0 or 1"),
    ("uid+landlock", "0", "grade: error: GRADER_ISOLATION=uid+landlock asks for Landlock and GRADER_LANDLOCK=0 "
                          "turns it off"),
])
def test_a_level_that_cannot_be_is_a_one_line_error(run_grade, isolation_env, landlock_env, message):
    proc = run_grade("exercise3", "--submission", REFERENCE,
                     env={"GRADER_ISOLATION": isolation_env, "GRADER_LANDLOCK": landlock_env})
    assert proc.returncode == 2
    assert proc.stderr.strip() == message


# -- what Landlock leaves a worker ---------------------------------------------------------------

@landlock
def test_landlock_leaves_a_worker_its_folder_the_interpreter_and_nothing_else(places, start):
    confined = _probe("process+landlock", places, start)
    # The fork server plans its workers' rules with its own copy of
    # LANDLOCK_SYSTEM, which the `places` fixture does not reach.
    granted = "ok" if start == "spawned" else "PermissionError"
    assert confined == {
        "write own folder": "ok", "temporary file": "ok", "write /dev/null": "ok", "read granted": granted,
        "read outside": "PermissionError", "write outside": "PermissionError", "list /proc/self": "PermissionError",
        "read hidden": "PermissionError",
    }
    assert not (places[0] / "planted.txt").exists()


@landlock
def test_without_landlock_the_process_level_reaches_the_graders_files(places, start):
    # What the level above takes away: the same worker, Landlock off.
    plain = _probe("process", places, start)
    assert plain["read outside"] == plain["read hidden"] == "ok"  # readable by all: only Landlock keeps them
    if os.geteuid() == 0:  # the worker of a root grader is a throwaway uid: root's folders are not its to write
        assert plain["write outside"] == "PermissionError"
        assert not (places[0] / "planted.txt").exists()
    else:
        assert plain["write outside"] == "ok"
        assert (places[0] / "planted.txt").read_text() == "written by the worker"


def test_a_read_only_grant_never_reaches_a_hidden_folder(tmp_path):
    (tmp_path / "prefix" / "lib" / "deep").mkdir(parents=True)
    (tmp_path / "prefix" / "course" / "solutions").mkdir(parents=True)
    (tmp_path / "prefix" / "course" / "exercises").mkdir()
    (tmp_path / "prefix" / "bin").symlink_to(tmp_path / "prefix" / "course")
    hidden = [str(tmp_path / "prefix" / "course" / "solutions")]
    granted = isolation._excluding(str(tmp_path / "prefix"), hidden)
    assert granted == [str(tmp_path / "prefix" / "course" / "exercises"), str(tmp_path / "prefix" / "lib")]
    assert isolation._excluding(str(tmp_path / "prefix" / "lib"), hidden) == [str(tmp_path / "prefix" / "lib")]


@pytest.mark.skipif(not ROOT_USER, reason="needs root")
@pytest.mark.parametrize("level", ["process", "process+landlock"] if landlock_abi() else ["process"])
def test_a_root_worker_keeps_no_capability(level, start):
    with Sandbox(PROBES, "probes", level=level) as sandbox:
        outcome = sandbox.call("capabilities", [])
    assert outcome.ok and outcome.value == [0, 0]


# -- the grader's own process ----------------------------------------------------------------------

_GRADER_NEEDS = r"""
import ctypes, json, os, resource, sys
sys.path.insert(0, sys.argv[1])
from grader.sandbox import helpers, isolation
isolation.protect_grader()
found = {"dumpable": ctypes.CDLL(None).prctl(3, 0, 0, 0, 0), "uid": os.getuid()}
for name in ("statm", "status", "mountinfo"):
    with open(f"/proc/self/{name}") as f:
        found[name] = bool(f.read())
before = resource.getrlimit(resource.RLIMIT_AS)
found["memory guard"] = helpers._limit_memory(64) is not None and resource.getrlimit(resource.RLIMIT_AS) != before
print(json.dumps(found))
"""


@as_root
def test_a_non_dumpable_grader_without_root_still_reads_what_it_needs_of_itself():
    proc = run_reachable(["-c", _GRADER_NEEDS, str(ROOT)], {}, uid=GRADER_UID, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"dumpable": 0, "uid": GRADER_UID, "statm": True, "status": True,
                                       "mountinfo": True, "memory guard": True}


def test_the_grade_command_makes_itself_non_dumpable(grade_cli, tmp_path):
    result = grade_cli("exercise3", "--submission", REFERENCE, "--json", tmp_path / "r.json")
    assert result.exit_code == 0
    if LINUX:
        assert ctypes.CDLL(None).prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0


@as_root
def test_the_memory_attack_works_where_nothing_protects_the_grader():
    # The control for test_hostile's memory tests: the attack, run against a
    # parent holding the secrets, reads them while that parent is dumpable and
    # its child keeps root's powers, and nothing once the parent is not.
    parent = r"""
import ctypes, os, subprocess, sys
sys.path.insert(0, sys.argv[1])
from grader.sandbox import isolation
held = "Reference solution for exercise3, as the grader holds it"
if sys.argv[3] == "protected":
    isolation.protect_grader()
    libc = isolation._libc()

    def powerless():  # root's uid without root's powers: what a same-uid worker is at worst
        for cap in range(64):
            if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP, up to the kernel's last capability
                break
        header = (ctypes.c_uint32 * 2)(0x20080522, 0)
        libc.capset(header, (ctypes.c_uint32 * 6)())
else:
    powerless = None
attack = open(sys.argv[2]).read() + "\nhits = []\nprint(_look(os.getppid(), hits, time.monotonic() + 5))\nprint(hits)"
done = subprocess.run([sys.executable, "-I", "-c", attack], capture_output=True, text=True, preexec_fn=powerless)
print(done.stdout, done.stderr)
"""
    attack = ROOT / "tests" / "hostile" / "proc_mem.py"
    found = {}
    for how in ("open", "protected"):
        proc = subprocess.run([sys.executable, "-c", parent, str(ROOT), str(attack), how], capture_output=True,
                              text=True, timeout=60, env={**os.environ, "GRADER_TEST_SECRET": "gts-control"})
        found[how] = proc.stdout
    assert "GRADER_TEST_SECRET=gts-control" in found["open"]
    assert "Reference solution for exercise3, as the grader holds it" in found["open"]
    assert "ptrace ATTACHED" in found["open"]
    assert "environ denied" in found["protected"] and "ptrace denied" in found["protected"]
    assert "gts-control" not in found["protected"] and "as the grader holds it" not in found["protected"]


def _state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return fields[0], int(fields[1])
    except FileNotFoundError:
        return None


@pytest.mark.skipif(not LINUX, reason="child subreapers are Linux's")
def test_orphans_of_a_worker_come_to_the_grader_and_are_reaped():
    libc, flag = ctypes.CDLL(None), ctypes.c_int()
    isolation.before_worker()
    libc.prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(flag), 0, 0, 0)
    assert flag.value == 1
    read, write = os.pipe()
    worker = os.fork()
    if worker == 0:  # a worker in a session of its own whose child outlives it
        try:
            os.setsid()
            orphan = os.fork()
            if orphan == 0:
                time.sleep(60)
            else:
                os.write(write, str(orphan).encode())
        finally:
            os._exit(0)
    os.close(write)
    orphan = int(os.read(read, 32))
    os.close(read)
    os.waitpid(worker, 0)  # as Sandbox.close waits for its worker
    deadline = time.monotonic() + 5
    while _state(orphan)[1] != os.getpid() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _state(orphan)[1] == os.getpid()  # adopted here, not by PID 1
    os.kill(orphan, signal.SIGKILL)  # as Sandbox.close kills what the worker left
    isolation.after_worker(worker)
    assert _state(orphan) is None  # dead and reaped: not even a zombie
    libc.prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(flag), 0, 0, 0)
    assert flag.value == 0  # no worker left: orphans go where they went before


@pytest.mark.skipif(not LINUX, reason="child subreapers are Linux's")
def test_reaping_orphans_never_takes_a_child_someone_waits_for():
    isolation.before_worker()
    leader = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"], start_new_session=True)
    same_session = subprocess.Popen([sys.executable, "-c", "raise SystemExit(4)"])
    for child in (leader, same_session):
        while _state(child.pid)[0] != "Z":
            time.sleep(0.01)
    isolation.after_worker(session=-1)
    assert (leader.wait(), same_session.wait()) == (3, 4)


_GRADE_AND_COUNT_ZOMBIES = r"""
import json, os, sys
sys.path[:0] = [sys.argv[1], os.path.join(sys.argv[1], "tests")]
from grader.cli import cli
from processes import zombies_below
for submission in sys.argv[4:]:
    cli.main(["exercise3", "--root", sys.argv[2], "--submission", submission], standalone_mode=False)
with open(sys.argv[3], "w") as f:
    json.dump(sorted(zombies_below(os.getpid())), f)
"""


@as_root
@pytest.mark.skipif(STRONGEST != "namespaces+uid", reason="needs root and a kernel that allows namespaces")
def test_no_zombie_is_left_after_submissions_that_fork(tmp_path, start):
    # The grader grades a fork bomb, a double-forked daemon and a submission
    # that tries to kill it, then looks for zombies among its descendants. At
    # the uid level, where a worker's processes outlive it until killed by
    # uid (test_hostile checks the other levels after every grade).
    course = tmp_path / "course"
    for folder in ("exercises", "solutions"):
        shutil.copytree(ROOT / folder, course / folder, ignore=shutil.ignore_patterns("__pycache__"))
    manifest = course / "exercises" / "exercise3" / "exercise.toml"
    manifest.write_text(manifest.read_text().replace("call_seconds = ", "call_seconds = 1\n# was: "))
    submissions = []
    for name in ("fork_bomb", "daemon_at_import", "kill_grader"):
        (tmp_path / name).mkdir()
        text = (ROOT / "tests" / "hostile" / f"{name}.py").read_text().replace("@MARK@", "zb" + name[:8])
        (tmp_path / name / "logistic_regression.py").write_text(text)
        submissions.append(str(tmp_path / name))
    out = tmp_path / "zombies.json"
    proc = run_reachable(["-c", _GRADE_AND_COUNT_ZOMBIES, str(ROOT), str(course), str(out), *submissions],
                         {"GRADER_ISOLATION": "uid"}, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count(f"sandbox: {'uid+landlock' if landlock_abi() else 'uid'})") == 3
    assert json.loads(out.read_text()) == []
    assert zombies_below(os.getpid()) == set()
