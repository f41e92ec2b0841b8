"""Hardening, round 2: a submission may not stall, escape or outlive the grader
at any level, root included. Each attack is a real submission graded by the
real `grade` (in this process, so this process is the grader it attacks), at
the strongest level and at the process level forced (as on a grading
platform's container: root, no namespaces)."""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import REFERENCE, ROOT, quiz_key_text

from grader.sandbox import isolation

LINUX = sys.platform.startswith("linux")
ROOT_USER = LINUX and os.geteuid() == 0
LEVELS = ["strongest", "process"]
as_root = pytest.mark.skipif(not ROOT_USER, reason="the attacks on a root grader need root")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A copy of the course whose calls may take half a second and whose waits are given up after one
    second more than 5x that (so a stall is found quickly)."""
    root = tmp_path_factory.mktemp("course")
    for folder in ("exercises", "solutions"):
        shutil.copytree(ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    manifest = root / "exercises" / "exercise3" / "exercise.toml"
    limits = "call_seconds = 0.5\nhelper_seconds = 0.5\nwait_seconds = 1"
    text = re.sub(r"(?m)^call_seconds = .*$", limits, manifest.read_text())
    manifest.write_text(text)
    return root


@pytest.fixture(params=LEVELS)
def graded(request, course, tmp_path, grade_cli, monkeypatch):
    """graded(extra_source, **subs) -> (report, terminal text): the reference with `extra_source`
    appended (its definitions replace the reference's), graded at the level of the parameter."""
    if request.param == "process":
        monkeypatch.setenv("GRADER_ISOLATION", "process")
    else:
        monkeypatch.delenv("GRADER_ISOLATION", raising=False)
    monkeypatch.setattr(isolation, "_PROBED", None)

    def grade(extra, **subs):
        folder = tmp_path / "submission"
        folder.mkdir(exist_ok=True)
        source = REFERENCE.read_text() + "\n" + extra
        for key, value in subs.items():
            source = source.replace(f"@{key.upper()}@", str(value))
        (folder / "logistic_regression.py").write_text(source)
        (folder / "quiz.toml").write_text(quiz_key_text())
        out = tmp_path / "report.json"
        result = grade_cli("exercise3", "--root", course, "--submission", folder, "--json", out)
        assert result.exit_code == 0, result.output
        report = json.loads(out.read_text())
        assert report["isolation"] == isolation.probe()
        return report, result.output

    grade.level = request.param
    return grade


def scores(report):
    return {p["name"]: p["score"] for p in report["parts"]}


def full(report, part):
    found = next(p for p in report["parts"] if p["name"] == part)
    return found["score"] == found["max_score"]


# -- 1. a worker that stops reading -------------------------------------------------------------

STOPS_READING = '''
import os as _os, time as _time

# Once imported, the worker never reads another request of the grader's.
_os.read = lambda fd, n: _time.sleep(10 ** 6)
'''


def test_a_worker_that_stops_reading_costs_its_own_checks_not_the_grader(graded):
    report, text = graded(STOPS_READING)
    parts = {p["name"]: p for p in report["parts"]}
    messages = [t["message"] for p in report["parts"] if p["name"] != "quiz" for t in p["tests"]]
    assert any("the worker stopped reading the grader's requests" in m for m in messages), messages
    # One wait, then the rest of this submission's checks are not run (and cost no more waiting).
    assert sum("timed out" in m for m in messages) == 0
    for name in ("sigmoid", "compute_cost_logistic", "compute_gradient_logistic", "gradient_descent"):
        assert parts[name]["score"] == 0
    assert full(report, "quiz")


def test_a_batch_gives_up_a_student_past_its_time_limit_and_goes_on(course, tmp_path, run_grade):
    submissions = tmp_path / "submissions"
    (submissions / "stalls").mkdir(parents=True)
    (submissions / "stalls" / "logistic_regression.py").write_text(REFERENCE.read_text() + STOPS_READING)
    (submissions / "honest").mkdir()
    (submissions / "honest" / "logistic_regression.py").write_text(REFERENCE.read_text())
    out = tmp_path / "out"
    args = ["batch", "exercise3", submissions, "--out", out, "--root", course, "--jobs", "2", "--student-seconds", "3"]
    proc = run_grade(*args)
    assert proc.returncode == 0, proc.stderr
    rows = {r["id"]: r for r in _csv(out / "gradebook.csv")}
    assert rows["honest"]["status"] == "graded"
    assert rows["stalls"]["status"] != "graded"
    assert "longer than 3 s of wall-clock time" in rows["stalls"]["note"]
    # Recorded as done: a rerun does not wait for it again.
    again = run_grade(*args)
    assert again.returncode == 0 and "unchanged 2 (skipped)" in again.stdout, again.stdout


def _csv(path):
    import csv

    with open(path, newline="") as f:
        return list(csv.DictReader(f))


# -- 2. a root grader's worker has no privileges of root ------------------------------------------

ATTACKS_ROOT = '''
import ctypes as _ctypes, fcntl as _fcntl, os as _os, resource as _resource, signal as _signal
_real_sigmoid = sigmoid


def _refused(attack):
    try:
        attack()
    except OSError:
        return True
    return False


def _attacks():
    """Each attack, and whether the kernel refused it."""
    grader = _os.getppid()
    found = {
        "no uid 0": 0 not in _os.getresuid() and 0 not in _os.getresgid(),
        "no groups": _os.getgroups() == [],
        "chmod a root file": _refused(lambda: _os.chmod("@TARGET@", 0o666)),
        "utime a root file": _refused(lambda: _os.utime("@TARGET@", (0, 0))),
        "setuid 0": _refused(lambda: _os.setuid(0)),
    }
    if grader > 1:  # (in a PID namespace of its own the worker is its init, and sees no process but its own)
        found["prlimit the grader"] = _refused(lambda: _resource.prlimit(grader, _resource.RLIMIT_NOFILE, (3, 3)))
        found["prlimit init"] = _refused(lambda: _resource.prlimit(1, _resource.RLIMIT_NOFILE, (3, 3)))

    def setown():
        # Ask the kernel to signal the grader (SIGKILL) whenever the result pipe can be written.
        for fd in range(3, 12):
            try:
                _fcntl.fcntl(fd, 10, _signal.SIGKILL)  # F_SETSIG
                _fcntl.fcntl(fd, _fcntl.F_SETOWN, grader)
                _fcntl.fcntl(fd, _fcntl.F_SETFL, _fcntl.fcntl(fd, _fcntl.F_GETFL) | _os.O_ASYNC)
            except OSError:
                continue
    if grader > 1:
        setown()
    return found


_FOUND = _attacks()


def sigmoid(z):
    # Right only while every attack was refused (and the grader, signalled or not, lives to say so).
    if not all(_FOUND.values()):
        raise RuntimeError(f"an attack got through: {_FOUND}")
    return _real_sigmoid(z)
'''


@as_root
def test_a_root_graders_worker_keeps_no_power_of_root(graded, course):
    target = course / "solutions" / "exercise3" / "quiz_key.toml"
    before = target.stat()
    report, text = graded(ATTACKS_ROOT, target=target)
    assert full(report, "sigmoid"), next(p for p in report["parts"] if p["name"] == "sigmoid")["tests"][0]["message"]
    assert scores(report) == {p["name"]: p["max_score"] for p in report["parts"]}
    after = target.stat()
    assert (after.st_mode, after.st_mtime_ns) == (before.st_mode, before.st_mtime_ns)


# -- 3. kernel objects do not outlive the grade --------------------------------------------------

MAKES_OBJECTS = '''
import ctypes as _ctypes, os as _os
_libc = _ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = _ctypes.c_long
_libc.shmget(@KEY@, 4096, 0o1666)
_libc.msgget(@KEY@ + 1, 0o1666)
_libc.semget(@KEY@ + 2, 1, 0o1666)
try:
    _libc.mq_open(b"/@MARK@", 0o100 | 0o2, 0o666, None)
except AttributeError:
    pass
# add_key("user", MARK, ..., KEY_SPEC_USER_KEYRING): keys belong to the uid and outlive its processes.
_KEY = _libc.syscall({"x86_64": 248, "aarch64": 217}[_os.uname().machine], b"user", b"@MARK@", b"secret", 6, -4)
_real_sigmoid = sigmoid


def sigmoid(z):  # right only if the kernel refused the key
    if _KEY >= 0:
        raise RuntimeError("a key was made")
    return _real_sigmoid(z)
'''


@as_root
def test_nothing_a_submission_makes_in_the_kernel_survives_the_grade(graded):
    mark = "hx" + secrets.token_hex(6)
    key = 0x5A000000 + secrets.randbelow(1 << 20) * 4
    report, _ = graded(MAKES_OBJECTS, key=key, mark=mark)
    assert scores(report) == {p["name"]: p["max_score"] for p in report["parts"]}
    for kind in ("shm", "msg", "sem"):
        with open(f"/proc/sysvipc/{kind}") as f:
            keys = {int(line.split()[0]) for line in list(f)[1:]}
        assert not keys & {key, key + 1, key + 2}, kind
    assert not Path("/dev/mqueue", mark).exists()


def test_sandbox_uids_are_never_given_twice():
    seen = {isolation.sandbox_uid() for _ in range(200)}
    assert len(seen) == 200
    pid = os.fork()
    if pid == 0:  # another grading process (a batch's): uids of its own
        os._exit(0 if not ({isolation.sandbox_uid() for _ in range(200)} & seen) else 1)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0


# -- 4. clean-up never costs the report ----------------------------------------------------------

DEEP_TREE = '''
import os as _os
_here = _os.getcwd()
_fd = _os.open(".", _os.O_RDONLY)
open("@MARK@", "w").close()
for _ in range(3000):  # deeper than any recursion, longer than any path
    _os.mkdir("d", dir_fd=_fd)
    _new = _os.open("d", _os.O_RDONLY, dir_fd=_fd)
    _os.close(_fd)
    _fd = _new
_os.close(_os.open("bottom", _os.O_CREAT | _os.O_WRONLY, 0o600, dir_fd=_fd))
_os.fchmod(_fd, 0o500)  # and the deepest folder closed
_os.close(_fd)
'''


def test_a_deep_tree_in_the_working_folder_is_removed_and_costs_nothing(graded):
    mark = "hx" + secrets.token_hex(6)
    report, _ = graded(DEEP_TREE, mark=mark)
    assert scores(report) == {p["name"]: p["max_score"] for p in report["parts"]}
    assert not list(Path(tempfile.gettempdir()).glob(f"grader-*/{mark}"))


def test_remove_tree_removes_what_rmtree_cannot(tmp_path):
    from grader.sandbox.cleanup import remove_tree

    top = tmp_path / "top"
    top.mkdir()
    fd = os.open(top, os.O_RDONLY)
    for _ in range(4000):
        os.mkdir("d", dir_fd=fd)
        new = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = new
    os.symlink(str(ROOT / "solutions"), "link", dir_fd=fd)  # followed, it would remove the solutions
    os.close(fd)
    with pytest.raises((RecursionError, OSError)):
        shutil.rmtree(top)
    assert remove_tree(top) and not top.exists()
    assert (ROOT / "solutions" / "exercise3" / "quiz_key.toml").is_file()


# -- 5. the submission is what is opened, and never the solutions -------------------------------

def test_a_submission_folder_that_is_a_link_into_the_solutions_is_refused(run_grade, tmp_path):
    link = tmp_path / "mine"
    link.symlink_to(ROOT / "solutions" / "exercise3")
    proc = run_grade("exercise3", "--submission", link)
    assert proc.returncode == 2, proc.stdout
    assert proc.stderr.strip().splitlines() == [
        f"grade: error: {link}: it is in the course's solutions, not a submission"]


@pytest.mark.parametrize("how", ["hard link", "file named on its own"])
def test_the_reference_itself_is_refused_however_it_is_named(run_grade, tmp_path, how):
    reference = ROOT / "solutions" / "exercise3" / "logistic_regression.py"
    if how == "hard link":
        folder = tmp_path / "mine"
        folder.mkdir()
        try:
            os.link(reference, folder / "logistic_regression.py")
        except OSError:
            pytest.skip("the temporary folder is on another file system than the course")
        proc = run_grade("exercise3", "--submission", folder)
        wanted = f"{folder / 'logistic_regression.py'}: it is a file of the course's solutions, not a submission"
    else:
        proc = run_grade("exercise3", "--submission", reference)
        wanted = f"{reference.parent}: it is in the course's solutions, not a submission"
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"grade: error: {wanted}"]


def test_a_module_swapped_for_a_link_while_grading_is_read_as_opened(tmp_path):
    """The race: the file is judged and read through one descriptor, so a link put
    in its place after the open changes nothing of what is graded."""
    from grader.submissions.files import Folder, Protected

    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "logistic_regression.py").write_text("mine = True\n")
    protected = Protected([ROOT / "solutions"])
    with Folder(folder, protected) as opened:
        (folder / "logistic_regression.py").unlink()
        (folder / "logistic_regression.py").symlink_to(ROOT / "solutions" / "exercise3" / "logistic_regression.py")
        (folder / "elsewhere").symlink_to(ROOT / "solutions" / "exercise3" / "logistic_regression.py")
        from grader.errors import GraderError

        with pytest.raises(GraderError, match="a symbolic link to a place outside the submission"):
            opened.read("logistic_regression.py", 1 << 20)


def test_grading_a_copy_of_the_reference_outside_the_solutions_still_works(run_grade, tmp_path):
    folder = tmp_path / "copy"
    folder.mkdir()
    (folder / "logistic_regression.py").write_text(REFERENCE.read_text())
    (folder / "quiz.toml").write_text(quiz_key_text())
    proc = run_grade("exercise3", "--submission", folder)
    assert proc.returncode == 0, proc.stderr
    assert "Total: 100 / 100" in proc.stdout
