"""Hostile submissions (tests/hostile/), each graded by the real `grade` command.

Every test asserts the exact verdict of each part, that `grade` exited 0 and
wrote a complete JSON report, and that nothing outside the worker changed:
the course (a copy whose manifest allows CALL_SECONDS per call), a sentinel
folder outside /tmp, the repository's own exercises/ and solutions/, and the
submission folder. Most run at the strongest isolation level this machine
offers, in-process; a few run again as subprocesses at the weaker levels.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import stat
import tempfile
import time
from pathlib import Path

import pytest
from conftest import ROOT, quiz_key_text

HOSTILE = Path(__file__).parent / "hostile"
CALL_SECONDS = 2
HELPER_SECONDS = 1
PARTS = ["sigmoid", "compute_cost_logistic", "compute_gradient_logistic", "gradient_descent", "quiz"]
FULL = "full"
# Each part has a test that its arguments are left untouched: a function that
# returns anything without changing them passes it, even a liar.
NOT_UNTOUCHED = "all but untouched"


def _level():
    from grader.sandbox import isolation

    return isolation.probe()


STRONGEST = _level()
namespaces_only = pytest.mark.skipif(STRONGEST not in ("namespaces+uid", "user-namespaces"),
                                     reason="file and secret protection needs the namespace levels")


# -- fixtures -------------------------------------------------------------------

@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A copy of the course whose calls may take CALL_SECONDS of CPU time (so timeouts are quick)."""
    root = tmp_path_factory.mktemp("course")
    for folder in ("exercises", "solutions"):
        shutil.copytree(ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    manifest = root / "exercises" / "exercise3" / "exercise.toml"
    text = manifest.read_text()
    # The reference never needs enough to lift a call over CALL_SECONDS (multiple 2): every loop times out at it.
    text = re.sub(r"(?m)^call_seconds = .*$", f"call_seconds = {CALL_SECONDS}\nhelper_seconds = {HELPER_SECONDS}",
                  text)
    text = re.sub(r"(?m)^reference_multiple = .*$", "reference_multiple = 2", text)
    manifest.write_text(text)
    return root


@pytest.fixture
def sentinel():
    """A world-readable folder outside /tmp that no worker may read or change."""
    folder = Path(tempfile.mkdtemp(prefix="grader-sentinel-", dir="/var/tmp"))
    folder.chmod(0o755)
    (folder / "secret.txt").write_text("sentinel secret 4815162342\n")
    (folder / "secret.txt").chmod(0o644)
    (folder / "inner").mkdir(mode=0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=["spawned", "forked"])
def start(request, monkeypatch):
    """How workers start: spawned fresh, or forked from the warm fork server
    that batches use. Every attack must fail the same way under both."""
    from grader.sandbox import zygote

    if request.param == "forked":
        monkeypatch.setenv("GRADER_FORKSERVER", "1")  # subprocesses too
    yield request.param
    zygote.disable()


@pytest.fixture
def hostile(course, sentinel, tmp_path, grade_cli, run_grade, monkeypatch, start):
    """hostile(name, level=None, subprocess=False, **subs) -> Graded: grade
    tests/hostile/NAME with every check applied, in-process unless `subprocess`."""
    from grader.sandbox import isolation

    def grade(name, level=None, subprocess=False, cwd_in_submission=False, **subs):
        mark = "hx" + secrets.token_hex(6)
        values = {"SENTINEL": str(sentinel), "COURSE": str(course), "REPO": str(ROOT), "MARK": mark,
                  "REPORT": str(tmp_path / "report.json"), **{k.upper(): str(v) for k, v in subs.items()}}
        folder = tmp_path / "submission"
        source = HOSTILE / name
        files = [p for p in source.iterdir()] if source.is_dir() else [source.with_suffix(".py")]
        folder.mkdir()
        for path in files:
            # Planted files are stored as NAME.planted: a real conftest.py or
            # numpy.py under tests/ would attack this very test run.
            target = "logistic_regression.py" if path.parent == HOSTILE else path.name.removesuffix(".planted")
            (folder / target).write_text(_substitute(path.read_text(), values))
        (folder / "quiz.toml").write_text(quiz_key_text())
        watched = [course, sentinel, ROOT / "exercises", ROOT / "solutions", folder]
        before = _snapshot(watched)
        out = tmp_path / "report.json"
        args = ["exercise3", "--root", course, "--submission", folder, "--json", out]
        started = time.monotonic()
        if level == "uid":
            proc = _run_reachable(args)
            code, text = proc.returncode, proc.stdout + proc.stderr
        elif subprocess:
            proc = run_grade(*args, cwd=folder if cwd_in_submission else None, timeout=120,
                             env={"GRADER_ISOLATION": level or STRONGEST})
            code, text = proc.returncode, proc.stdout + proc.stderr
        else:
            if level is not None:
                monkeypatch.setenv("GRADER_ISOLATION", level)
                monkeypatch.setattr(isolation, "_PROBED", None)
            result = grade_cli(*args)
            code, text = result.exit_code, result.output
        seconds = time.monotonic() - started
        assert code == 0, text
        report = json.loads(out.read_text())
        _assert_complete(report, level or STRONGEST)
        assert _snapshot(watched) == before, "something outside the worker changed"
        return Graded(report, text, seconds, mark)

    return grade


class Graded:
    """A graded hostile submission: the JSON report, the terminal text, the wall time."""

    def __init__(self, report, text, seconds, mark):
        self.report, self.text, self.seconds, self.mark = report, text, seconds, mark
        self.parts = {p["name"]: p for p in report["parts"]}

    def scores(self):
        return {name: part["score"] for name, part in self.parts.items()}

    def expect(self, **verdicts):
        """Each part: FULL, 0, NOT_UNTOUCHED (all but its arguments-untouched
        test pass), or the set of test-name prefixes that pass (the rest fail).
        The arguments-untouched test also wants a right result, so an attack
        that returns garbage scores 0 there too."""
        for name in PARTS:
            part, verdict = self.parts[name], verdicts.get(name, FULL)
            passed = {t["name"] for t in part["tests"] if t["passed"]}
            untouched = {t["name"] for t in part["tests"] if t["name"].endswith(" not modified")}
            if verdict == NOT_UNTOUCHED:
                assert len(untouched) == 1, (name, untouched)
                verdict = {t["name"] for t in part["tests"]} - untouched
            if verdict == FULL:
                assert part["score"] == part["max_score"] and len(passed) == len(part["tests"]), (name, self.scores())
            elif verdict == 0:
                assert part["score"] == 0 and not passed, (name, self.scores())
            else:
                wanted = {t["name"] for t in part["tests"] if t["name"].startswith(tuple(verdict))}
                assert passed == wanted, (name, passed)
                assert all(any(w.startswith(prefix) for w in wanted) for prefix in verdict), (name, wanted)
                assert part["score"] == round(sum(t["max_score"] for t in part["tests"] if t["passed"]), 2)
                assert 0 < part["score"] < part["max_score"]

    def messages(self, part):
        return [t["message"] for t in self.parts[part]["tests"]]


# Runs `python -m grader ARGS` in a private mount namespace where the first
# folder on the way to the interpreter that other users cannot enter (such as
# /root) is made enterable, so a throwaway uid can run the interpreter there.
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
os.execv(sys.executable, [sys.executable, "-m", "grader", *sys.argv[1:]])
"""


def _run_reachable(args):
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(ROOT), "GRADER_ISOLATION": "uid"}
    return subprocess.run([sys.executable, "-c", _REACHABLE, *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, env=env)


def _substitute(text, values):
    return re.sub(r"@([A-Z]+)@", lambda m: values.get(m.group(1), m.group(0)), text)


def _snapshot(folders):
    """Every path under `folders` with its type, mode, size and content hash."""
    found = {}
    for folder in folders:
        for path in [folder, *sorted(folder.rglob("*"))]:
            if "__pycache__" in path.parts:
                continue
            info = path.lstat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if stat.S_ISREG(info.st_mode) else ""
            found[str(path)] = (stat.S_IFMT(info.st_mode), stat.S_IMODE(info.st_mode), info.st_size, digest)
    return found


def _assert_complete(report, level):
    assert report["status"] == "graded"
    assert report["isolation"] == level
    assert [p["name"] for p in report["parts"]] == PARTS
    for part in report["parts"]:
        assert part["tests"], part["name"]
        assert part["score"] == round(min(sum(t["score"] for t in part["tests"]), part["max_score"]), 2)
    assert report["score"] == round(sum(p["score"] for p in report["parts"]), 2)


def _strings(data):
    """Every string in a JSON document."""
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for value in data.values():
            yield from _strings(value)
    elif isinstance(data, list):
        for value in data:
            yield from _strings(value)


def _leftovers(mark, wait=3.0):
    """Live processes or threads named `mark` (zombies are dead); waits a little for the kernel to reap."""
    deadline = time.monotonic() + wait
    while True:
        alive = []
        for comm in Path("/proc").glob("[0-9]*/task/*/comm"):
            try:
                if comm.read_text().strip() != mark:
                    continue
                state = (comm.parent / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state not in ("Z", "X"):
                alive.append(str(comm.parent))
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


# -- time ------------------------------------------------------------------------

def test_looping_gradient_descent_costs_only_its_own_part(hostile):
    graded = hostile("loop_gradient_descent")
    graded.expect(gradient_descent=0)
    first, *rest = graded.messages("gradient_descent")
    assert f"gradient_descent() timed out after {CALL_SECONDS} s" in first
    assert rest and all(m.startswith("not run: gradient_descent() timed out in an earlier test") for m in rest)
    # One timeout, not one per test: the grade takes seconds, not minutes.
    assert graded.report["seconds"] < 30


def test_loop_ignoring_every_signal_is_killed(hostile):
    graded = hostile("loop_ignores_signals")
    graded.expect(sigmoid=0)
    assert f"sigmoid() timed out after {CALL_SECONDS} s" in graded.messages("sigmoid")[0]


# -- memory -------------------------------------------------------------------------

def test_memory_bomb_fails_with_memory_limit_exceeded(hostile):
    graded = hostile("memory_bomb")
    graded.expect(compute_cost_logistic=0, compute_gradient_logistic=0)
    for part in ("compute_cost_logistic", "compute_gradient_logistic"):
        assert all(m.startswith("memory limit exceeded") for m in graded.messages(part)), graded.messages(part)


# -- processes ------------------------------------------------------------------------

def test_fork_bomb_is_contained_and_killed(hostile):
    graded = hostile("fork_bomb")
    graded.expect(sigmoid=0)
    assert f"sigmoid() timed out after {CALL_SECONDS} s" in graded.messages("sigmoid")[0]
    assert _leftovers(graded.mark) == []


def test_daemon_and_thread_started_at_import_are_gone_when_grade_returns(hostile):
    graded = hostile("daemon_at_import")
    graded.expect()
    assert _leftovers(graded.mark) == []


# -- output ---------------------------------------------------------------------------

def test_output_flood_is_captured_per_call_and_cut(hostile):
    graded = hostile("output_flood")
    graded.expect(compute_cost_logistic=0)
    tests = graded.parts["compute_cost_logistic"]["tests"]
    assert all("raised ValueError: flooded" in t["message"] for t in tests)
    for test in tests:
        kept = test["output"].split("\n... (")[0]
        assert len(kept) <= 4096
    assert re.search(r"\(2\d{8} more characters of output cut\)", tests[0]["output"])
    assert len(graded.text) < 100_000


# -- exits and crashes --------------------------------------------------------------------

@pytest.mark.parametrize("name, message", [
    ("sys_exit", "compute_gradient_logistic() raised SystemExit(0): student code must not try to end the grading"),
    ("raise_system_exit", "compute_gradient_logistic() raised SystemExit('done grading')"),
    ("keyboard_interrupt", "compute_gradient_logistic() raised KeyboardInterrupt"),
    ("base_exception", "compute_gradient_logistic() raised BaseException(not an Exception)"),
    ("pytest_exit", "compute_gradient_logistic() raised Exit(stop the session)"),
    ("os_exit", "compute_gradient_logistic(): the worker exited with status 3"),
    ("segfault", "compute_gradient_logistic(): the worker crashed with a segmentation fault"),
    ("recursion", "unbounded recursion (RecursionError)"),
])
def test_exits_and_crashes_fail_only_that_function(hostile, name, message):
    graded = hostile(name)
    graded.expect(compute_gradient_logistic=0)
    assert all(m.startswith(message) for m in graded.messages("compute_gradient_logistic")), \
        graded.messages("compute_gradient_logistic")


@pytest.mark.parametrize("name, message", [
    ("import_error", "importing the module failed: RuntimeError: broken at import time"),
    ("import_exit", "the module stopped the worker while being imported"),
])
def test_failed_import_zeroes_the_functions_and_keeps_the_quiz(hostile, name, message):
    graded = hostile(name)
    graded.expect(sigmoid=0, compute_cost_logistic=0, compute_gradient_logistic=0, gradient_descent=0)
    for part in PARTS[:4]:
        [text] = graded.messages(part)
        assert text.startswith(message)


# -- verdicts ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name, part, message", [
    ("float_subclass", "compute_cost_logistic", "expected a number, got a logistic_regression.Cost object"),
    ("ndarray_subclass", "sigmoid", "logistic_regression.Agreeable"),
    ("object_array", "sigmoid", "numpy.ndarray object"),
    ("arbitrary_object", "compute_gradient_logistic",
     "expected a tuple of 2 items, got a logistic_regression.Liar object"),
    ("pickle_payload", "compute_gradient_logistic", "expected a number, got a builtins.bytes object"),
])
def test_values_that_lie_are_the_wrong_type(hostile, name, part, message):
    graded = hostile(name)
    graded.expect(**{part: 0})
    failed = [t["message"] for t in graded.parts[part]["tests"] if not t["passed"]]
    assert all(message in m for m in failed), failed


def test_monkeypatching_numpy_and_pytest_changes_no_verdict(hostile):
    hostile("monkeypatch_checkers").expect(sigmoid=0, compute_cost_logistic=0)


def test_printed_success_and_forged_report_lines_earn_nothing(hostile):
    graded = hostile("printed_passed")
    graded.expect(sigmoid=0, compute_cost_logistic=0)
    for text in [graded.text, *_strings(graded.report)]:
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]", text), repr(text)
    # Forged report lines stay inside the indented "printed:" block or the one-line message.
    assert [line for line in graded.text.splitlines() if line.startswith("Total:")] == \
        [f"Total: {graded.report['score']:g} / 100"]


@namespaces_only
def test_forged_results_files_change_nothing(hostile):
    graded = hostile("forged_report")
    graded.expect(compute_gradient_logistic=0)


# -- the submission folder ---------------------------------------------------------------------

def test_files_beside_the_module_have_no_effect(hostile, sentinel):
    # Run from inside the submission folder: `python -m grader` must not import its numpy.py either.
    graded = hostile("untrusted_folder", subprocess=True, cwd_in_submission=True)
    graded.expect(sigmoid=0)
    assert sorted(p.name for p in sentinel.iterdir()) == ["inner", "secret.txt"]


# -- secrets, files, network ---------------------------------------------------------------------

@namespaces_only
def test_solutions_hidden_tests_and_key_cannot_be_read(hostile):
    graded = hostile("read_secrets")
    graded.expect(sigmoid=0, compute_cost_logistic=0, compute_gradient_logistic=0,
                  gradient_descent=0)
    text = json.dumps(graded.report) + graded.text
    for secret in ("Reference solution for exercise3", 'q1 = \\"B\\"', "def test_", "sentinel secret", "logaddexp"):
        assert secret not in text


@namespaces_only
def test_no_network(hostile):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        graded = hostile("network", port=listener.getsockname()[1])
        with pytest.raises(BlockingIOError):
            listener.accept()
    graded.expect(sigmoid=0)


def test_callers_frames_and_heap_hold_no_expected_value(hostile):
    hostile("stack_frames").expect(sigmoid=0)


def test_hard_coded_public_answers_pass_only_the_public_examples(hostile):
    hostile("hardcoded_answers").expect(
        sigmoid={"sigmoid(0) is 0.5"},
        compute_cost_logistic={"cost on the lab's data [w=[1,1],b=-3]"},
        compute_gradient_logistic={"gradient at w = [2, 3], b = 1"},
        gradient_descent={"the lab's run"},
    )


def test_mutated_inputs_touch_only_the_workers_copies(hostile):
    graded = hostile("mutate_inputs")
    graded.expect(sigmoid=NOT_UNTOUCHED, compute_cost_logistic=NOT_UNTOUCHED, gradient_descent=NOT_UNTOUCHED)
    for part in ("sigmoid", "compute_cost_logistic", "gradient_descent"):
        [failed] = [t["message"] for t in graded.parts[part]["tests"] if not t["passed"]]
        assert "changed in place" in failed or "changed its argument" in failed, failed


# -- the grader's own channels ---------------------------------------------------------------------

def test_reference_helpers_refuse_hostile_requests(hostile):
    graded = hostile("oracle_abuse")
    graded.expect(sigmoid=0, compute_gradient_logistic=0, gradient_descent=0)
    assert graded.messages("compute_gradient_logistic")[0].startswith(
        "compute_gradient_logistic() timed out: the reference functions standing in for yours (judged wrong in "
        f"their own parts) worked over {HELPER_SECONDS} s for this call")


def test_meddling_with_the_workers_pipes_costs_only_those_functions(hostile):
    graded = hostile("protocol_abuse")
    graded.expect(sigmoid=0, gradient_descent=0)
    assert all("did student code write to the grader's pipe?" in m for m in graded.messages("sigmoid"))


def test_student_code_cannot_kill_the_grader(hostile):
    # In a subprocess: were the grader killable, this test's own process would be the grader.
    hostile("kill_grader", subprocess=True).expect()


# -- the weaker levels: limits and kills still hold --------------------------------------------------

@pytest.mark.parametrize("name, verdict", [
    ("fork_bomb", {"sigmoid": 0}),
    ("memory_bomb", {"compute_cost_logistic": 0, "compute_gradient_logistic": 0}),
    ("daemon_at_import", {}),
    ("kill_grader", {}),
])
def test_process_level_still_limits_and_kills(hostile, name, verdict):
    # The worker shares this process's uid here: kill_grader runs in a subprocess of its own.
    graded = hostile(name, level="process", subprocess=name == "kill_grader")
    graded.expect(**verdict)
    assert _leftovers(graded.mark) == []


@pytest.mark.skipif(STRONGEST != "namespaces+uid", reason="needs root and a kernel that allows namespaces")
@pytest.mark.parametrize("name, verdict", [
    ("fork_bomb", {"sigmoid": 0}),
    ("daemon_at_import", {}),
    ("kill_grader", {}),
])
def test_uid_level_still_limits_and_kills(hostile, name, verdict):
    graded = hostile(name, level="uid")
    graded.expect(**verdict)
    assert _leftovers(graded.mark) == []


@pytest.mark.skipif(STRONGEST != "namespaces+uid", reason="needs a machine where both namespace levels work")
@pytest.mark.parametrize("name, verdict", [
    ("fork_bomb", {"sigmoid": 0}),
    ("read_secrets", {"sigmoid": 0, "compute_cost_logistic": 0, "compute_gradient_logistic": 0,
                      "gradient_descent": 0}),
    ("forged_report", {"compute_gradient_logistic": 0}),
])
def test_user_namespace_level_holds_too(hostile, name, verdict):
    graded = hostile(name, level="user-namespaces")
    graded.expect(**verdict)
    assert _leftovers(graded.mark) == []
