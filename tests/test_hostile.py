"""Hostile submissions (tests/hostile/), each graded by the real `grade` command.

Every test asserts the exact verdict of each part, that `grade` exited 0 and
wrote a complete JSON report naming the level in force, and that nothing
outside the worker changed: the course (a copy whose manifest allows
CALL_SECONDS per call), a sentinel folder outside /tmp, a home folder with a
private key, the repository's own exercises/ and solutions/, the submission
folder, the output folder and the file system's root. No report may show the
secret planted in the grader's environment, and when this very process was
the grader, no zombie may be left. Most run at the strongest isolation level
this machine offers, in-process; others again at the weaker levels, as
subprocesses for the uid levels and for a grader without root.
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
from processes import run_reachable, zombies_below

HOSTILE = Path(__file__).parent / "hostile"
CALL_SECONDS = 1
HELPER_SECONDS = 1
PARTS = ["sigmoid", "compute_cost_logistic", "compute_gradient_logistic", "gradient_descent", "quiz"]
FULL = "full"
# Each part has a test that its arguments are left untouched: a function that
# returns anything without changing them passes it, even a liar.
NOT_UNTOUCHED = "all but untouched"


def _level():
    from grader.sandbox import isolation

    return isolation.probe()


def _landlock_abi():
    from grader.sandbox.landlock import landlock_abi

    return landlock_abi()


STRONGEST = _level()
LANDLOCK = _landlock_abi() > 0
files_protected = pytest.mark.skipif(STRONGEST in ("uid", "process"),
                                     reason="file and secret protection needs namespaces or Landlock")
needs_root = pytest.mark.skipif(STRONGEST != "namespaces+uid", reason="needs root and a kernel that allows namespaces")
needs_landlock = pytest.mark.skipif(not LANDLOCK or os.geteuid() != 0,
                                    reason="needs Landlock, and root to run a grader as another user")
# A uid that is no account's: the grader runs as it in the tests of a grader without root.
GRADER_UID = 61000 + os.getpid() % 1000
# Planted in the grader's environment for every hostile grade; no report may ever show it.
SECRET_NAME = "GRADER_TEST_SECRET"


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


def _make_home(parent: Path, key: str) -> Path:
    """A home folder as a user's would be, with a private key only its owner may read."""
    home = parent / "home"
    (home / ".ssh").mkdir(parents=True)
    home.chmod(0o755)
    (home / ".ssh").chmod(0o700)
    (home / ".ssh" / "id_rsa").write_text(f"-----BEGIN OPENSSH PRIVATE KEY-----\n{key}\n")
    (home / ".ssh" / "authorized_keys").write_text("ssh-ed25519 AAAAC3Nza the-owner\n")
    for name in ("id_rsa", "authorized_keys"):
        (home / ".ssh" / name).chmod(0o600)
    return home


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
def hostile(course, sentinel, tmp_path, grade_cli, monkeypatch, start):
    """hostile(name, level=None, subprocess=False, as_user=False, **subs) ->
    Graded: grade tests/hostile/NAME with every check applied.

    `level` is the level the report must name (default: the strongest); the
    plain `uid` and `process` are forced with GRADER_LANDLOCK=0. The uid
    levels, `subprocess` and `as_user` run `grade` as a subprocess, `as_user`
    as GRADER_UID (a grader without root), on copies that user owns.
    """
    from grader.sandbox import isolation

    def grade(name, level=None, subprocess=False, cwd_in_submission=False, as_user=False, **subs):
        mark, secret, key = ("hx" + secrets.token_hex(6), "gts" + secrets.token_hex(8),
                             "pk" + secrets.token_hex(8))
        base = tmp_path
        if as_user:
            base = Path(tempfile.mkdtemp(prefix="grader-user-", dir="/var/tmp"))
            base.chmod(0o755)
        root = course if not as_user else shutil.copytree(course, base / "course")
        home = _make_home(base, key)
        out = base / "output" / "report.json"
        out.parent.mkdir()
        values = {"SENTINEL": str(sentinel), "COURSE": str(root), "REPO": str(ROOT), "MARK": mark,
                  "REPORT": str(out), "OUTDIR": str(out.parent), "HOME": str(home),
                  **{k.upper(): str(v) for k, v in subs.items()}}
        folder = base / "submission"
        source = HOSTILE / name
        files = [p for p in source.iterdir()] if source.is_dir() else [source.with_suffix(".py")]
        folder.mkdir()
        for path in files:
            # Planted files are stored as NAME.planted: a real conftest.py or
            # numpy.py under tests/ would attack this very test run.
            target = "logistic_regression.py" if path.parent == HOSTILE else path.name.removesuffix(".planted")
            (folder / target).write_text(_substitute(path.read_text(), values))
        (folder / "quiz.toml").write_text(quiz_key_text())
        if as_user:
            for path in [base, *base.rglob("*")]:
                os.chown(path, GRADER_UID, GRADER_UID)
        watched = [root, sentinel, home, ROOT / "exercises", ROOT / "solutions", folder]
        before, at_root = _snapshot(watched), _at_root(mark)
        args = ["exercise3", "--root", root, "--submission", folder, "--json", out]
        level = level or STRONGEST
        env = {SECRET_NAME: secret, **_forcing(level), **({"HOME": str(base)} if as_user else {})}
        zombies = zombies_below(os.getpid())
        started = time.monotonic()
        try:
            if as_user or level.startswith("uid") or subprocess:
                proc = _run_reachable(args, env, uid=GRADER_UID if as_user else None,
                                      cwd=folder if cwd_in_submission else ROOT)
                code, text = proc.returncode, proc.stdout + proc.stderr
            else:
                monkeypatch.delenv("GRADER_LANDLOCK", raising=False)
                for variable, value in env.items():
                    monkeypatch.setenv(variable, value)
                monkeypatch.setattr(isolation, "_PROBED", None)
                result = grade_cli(*args)
                code, text = result.exit_code, result.output
            seconds = time.monotonic() - started
            assert code == 0, text
            report = json.loads(out.read_text())
            _assert_complete(report, level)
            assert _snapshot(watched) == before, "something outside the worker changed"
            assert _at_root(mark) == at_root, "a file at the file system's root was written"
            assert sorted(p.name for p in out.parent.iterdir()) == ["report.json"], "the output folder was written"
            everything = json.dumps(report) + text
            assert secret not in everything and key not in everything
            # This process was the grader: what its workers left is reaped.
            assert zombies_below(os.getpid()) <= zombies
        finally:
            if as_user:
                shutil.rmtree(base, ignore_errors=True)
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


def _forcing(level):
    """The environment that makes `grade` choose `level`: its name, and for the
    plain `uid` and `process`, Landlock turned off."""
    return {"GRADER_ISOLATION": level, **({"GRADER_LANDLOCK": "0"} if level in ("uid", "process") else {})}


def _at_root(mark):
    """What stands at the file system's root under the names an attack writes there."""
    found = {}
    for name in ("results.json", "report.json", f"grader-{mark}.json"):
        try:
            info = os.lstat(f"/{name}")
            found[name] = (info.st_size, info.st_mtime_ns)
        except FileNotFoundError:
            pass
    return found


def _run_reachable(args, env, uid=None, cwd=ROOT):
    """`python -m grader ARGS` with `env` added, where a throwaway uid reaches the interpreter; as `uid` if given."""
    return run_reachable(["-m", "grader", *map(str, args)], {"PYTHONPATH": str(ROOT), **env}, uid=uid, cwd=cwd)


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
    # call_seconds, or 5x the reference's CPU time for the lab's run when more: on a slow or busy machine, more.
    limit = re.search(r"^gradient_descent\(\) timed out after ([\d.]+) s", first)
    assert limit and float(limit[1]) >= CALL_SECONDS, first
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


def test_a_forged_count_of_dropped_output_is_ignored(hostile):
    graded = hostile("forged_dropped_count")
    graded.expect()
    assert "could not check" not in graded.text


# -- exits and crashes --------------------------------------------------------------------

@pytest.mark.parametrize("name, message", [
    ("sys_exit", "compute_gradient_logistic() raised SystemExit(0): student code must not try to end the grading"),
    ("builtin_exit", "compute_gradient_logistic() raised SystemExit(0): student code must not try to end the grading"),
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


@files_protected
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

@files_protected
def test_solutions_hidden_tests_and_key_cannot_be_read(hostile):
    graded = hostile("read_secrets")
    graded.expect(sigmoid=0, compute_cost_logistic=0, compute_gradient_logistic=0,
                  gradient_descent=0)
    text = json.dumps(graded.report) + graded.text
    for secret in ("Reference solution for exercise3", 'q1 = \\"B\\"', "def test_", "sentinel secret", "logaddexp"):
        assert secret not in text


@pytest.mark.skipif(STRONGEST in ("uid", "process") or (STRONGEST.endswith("landlock") and _landlock_abi() < 4),
                    reason="no network needs namespaces or Landlock's TCP rules (Linux 6.7)")
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

PROCESS_LEVELS = ["process+landlock", "process"] if LANDLOCK else ["process"]
UID_LEVELS = ["uid+landlock", "uid"] if LANDLOCK else ["uid"]


@pytest.mark.parametrize("level", PROCESS_LEVELS)
@pytest.mark.parametrize("name, verdict", [
    ("fork_bomb", {"sigmoid": 0}),
    ("memory_bomb", {"compute_cost_logistic": 0, "compute_gradient_logistic": 0}),
    ("daemon_at_import", {}),
    ("kill_grader", {}),
])
def test_process_level_still_limits_and_kills(hostile, name, verdict, level):
    # The worker shares this process's uid here: kill_grader runs in a subprocess of its own.
    graded = hostile(name, level=level, subprocess=name == "kill_grader")
    graded.expect(**verdict)
    assert _leftovers(graded.mark) == []


@needs_root
@pytest.mark.parametrize("level", UID_LEVELS)
@pytest.mark.parametrize("name, verdict", [
    ("fork_bomb", {"sigmoid": 0}),
    ("daemon_at_import", {}),
    ("kill_grader", {}),
])
def test_uid_level_still_limits_and_kills(hostile, name, verdict, level):
    graded = hostile(name, level=level)
    graded.expect(**verdict)
    assert _leftovers(graded.mark) == []


@pytest.mark.skipif(STRONGEST != "namespaces+uid", reason="needs a machine where both namespace levels work")
@pytest.mark.parametrize("name, verdict", [
    ("fork_bomb", {"sigmoid": 0}),
    ("read_secrets", {"sigmoid": 0, "compute_cost_logistic": 0, "compute_gradient_logistic": 0,
                      "gradient_descent": 0}),
    ("forged_report", {"compute_gradient_logistic": 0}),
    ("write_outside", {"sigmoid": 0}),
])
def test_user_namespace_level_holds_too(hostile, name, verdict):
    graded = hostile(name, level="user-namespaces")
    graded.expect(**verdict)
    assert _leftovers(graded.mark) == []


# -- files outside the worker without namespaces: Landlock ---------------------------------------------

# Each attack on what lies outside the worker, with the verdicts the namespace levels give it.
OUTSIDE = {
    "read_secrets": {"sigmoid": 0, "compute_cost_logistic": 0, "compute_gradient_logistic": 0, "gradient_descent": 0},
    "forged_report": {"compute_gradient_logistic": 0},
    "untrusted_folder": {"sigmoid": 0},
    "write_outside": {"sigmoid": 0},
    "network": {"sigmoid": 0},
}


def _outside_cases(*names):
    tcp = pytest.mark.skipif(_landlock_abi() < 4, reason="Landlock closes TCP from ABI 4 (Linux 6.7)")
    return [pytest.param(name, OUTSIDE[name], id=name, marks=tcp if name == "network" else ())
            for name in names or OUTSIDE]


def _outside(hostile, name, verdict, **how):
    """Grade attack `name` of OUTSIDE and check everything it tried came to nothing."""
    if name == "network":
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            listener.setblocking(False)
            graded = hostile(name, port=listener.getsockname()[1], **how)
            with pytest.raises(BlockingIOError):
                listener.accept()
    else:
        # The submission folder is also the grader's current folder: `python -m grader` must not import from it.
        there = name == "untrusted_folder"
        graded = hostile(name, subprocess=there, cwd_in_submission=there, **how)
    graded.expect(**verdict)
    if name == "read_secrets":
        _assert_no_secrets(graded)
    return graded


def _assert_no_secrets(graded):
    text = json.dumps(graded.report) + graded.text
    for secret in ("Reference solution for exercise3", 'q1 = \\"B\\"', "def test_", "sentinel secret", "logaddexp"):
        assert secret not in text


@pytest.mark.skipif(STRONGEST in ("uid", "process"), reason="file protection needs namespaces or Landlock")
def test_files_outside_the_worker_cannot_be_written_or_read(hostile):
    hostile("write_outside").expect(sigmoid=0)


@needs_landlock
@pytest.mark.parametrize("name, verdict", _outside_cases())
def test_landlock_keeps_a_worker_in_its_folder_without_root_or_namespaces(hostile, name, verdict):
    # A grader that is not root, told to use no namespaces: the student laptop, the locked-down container.
    _outside(hostile, name, verdict, level="process+landlock", as_user=True)


@needs_root
@needs_landlock
@pytest.mark.parametrize("name, verdict", _outside_cases("read_secrets", "network"))
def test_landlock_keeps_a_worker_in_its_folder_at_the_uid_level(hostile, name, verdict):
    # What a throwaway uid alone leaves open: world-readable solutions, and the network.
    _outside(hostile, name, verdict, level="uid+landlock")


# -- the grader's memory ---------------------------------------------------------------------------------

def _user_namespaces_without_root():
    """Whether GRADER_UID may make a user namespace here."""
    import ctypes

    if os.geteuid() != 0:
        return False
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setgid(GRADER_UID)
            os.setuid(GRADER_UID)
            code = 0 if ctypes.CDLL(None).unshare(0x10000000) == 0 else 1
        finally:
            os._exit(code)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0


def _memory_case(level, as_user=False):
    from grader.sandbox import isolation

    works = (os.geteuid() == 0 and LANDLOCK if as_user and level.endswith("landlock")
             else os.geteuid() == 0 if as_user and level == "process"
             else _user_namespaces_without_root() if as_user
             else STRONGEST == "namespaces+uid" and (LANDLOCK or "landlock" not in level) if level.startswith("uid")
             else (LANDLOCK or "landlock" not in level) and isolation._usable(level))
    return pytest.param(level, as_user, id=f"{level}{'-without-root' if as_user else ''}",
                        marks=pytest.mark.skipif(not works, reason=f"{level} cannot be forced here"))


@pytest.mark.parametrize("level, as_user", [
    *(_memory_case(level) for level in ("namespaces+uid", "user-namespaces", "uid+landlock", "uid",
                                        "process+landlock", "process")),
    *(_memory_case(level, as_user=True) for level in ("user-namespaces", "process+landlock", "process")),
])
def test_grader_memory_environment_and_ptrace_are_out_of_reach(hostile, level, as_user, start):
    from grader.sandbox import zygote

    graded = hostile("proc_mem", level=level, as_user=as_user)
    graded.expect(compute_cost_logistic=0)
    messages = graded.messages("compute_cost_logistic")
    assert all(m.startswith("compute_cost_logistic() raised RuntimeError: found nothing in ") for m in messages), \
        messages
    text = json.dumps(graded.report) + graded.text
    assert "Reference solution for exercise3" not in text and "Hidden tests for compute_cost" not in text
    outputs = "\n".join(t["output"] for t in graded.parts["compute_cost_logistic"]["tests"])
    assert "ATTACHED" not in outputs
    if not (as_user or level.startswith("uid")):  # this process was the grader (and started the fork server)
        trusted = [os.getpid(), *([zygote.shared().proc.pid] if start == "forked" else [])]
        for line in outputs.splitlines():
            if line.startswith("pid ") and int(line.split()[1].rstrip(":")) in trusted:
                assert re.fullmatch(r"pid \d+: environ denied .*; mem denied .*; for writing denied .*; "
                                    r"ptrace denied .*", line), line
