"""Shared fixtures for the project's own tests: the real `grade` command, run
through click's runner or as a subprocess, on real files."""
from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import settings

# Property-based tests: CI runs a fixed budget with a fixed seed (the same
# examples every run); HYPOTHESIS_PROFILE=long explores much further by hand.
settings.register_profile("ci", max_examples=150, derandomize=True, deadline=None, print_blob=True)
settings.register_profile("long", max_examples=5000, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parents[1]
# The reference as a student would hand it in: a copy, since the grader refuses
# to grade a file of the course's solutions/ as a submission.
_COPIES = Path(tempfile.mkdtemp(prefix="grader-tests-reference-"))
atexit.register(shutil.rmtree, _COPIES, True)
REFERENCE = _COPIES / "logistic_regression.py"
REFERENCE.write_text((ROOT / "solutions" / "exercise3" / "logistic_regression.py").read_text())
STUBS = ROOT / "exercises" / "exercise3" / "logistic_regression.py"


def quiz_key_text(exercise: str = "exercise3") -> str:
    """The key as a student's quiz.toml would hold it (all answers right)."""
    return (ROOT / "solutions" / exercise / "quiz_key.toml").read_text()


@pytest.fixture
def grade_cli():
    """Invoke `grade ARGS...` in-process through click's runner."""
    from grader.cli import cli

    def invoke(*args, cwd: Path | None = None):
        runner = CliRunner()
        old = Path.cwd()
        os.chdir(cwd or ROOT)
        try:
            return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)
        finally:
            os.chdir(old)

    return invoke


@pytest.fixture
def run_grade():
    """Run `grade ARGS...` as a real subprocess; returns the CompletedProcess."""

    def run(*args, cwd: Path | None = None, timeout: float = 300, env: dict | None = None):
        full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
        return subprocess.run(
            [sys.executable, "-m", "grader", *[str(a) for a in args]],
            cwd=cwd or ROOT, capture_output=True, text=True, timeout=timeout, env=full_env,
        )

    return run


@pytest.fixture
def make_submission(tmp_path):
    """make_submission(source, quiz=None, name='sub') -> a folder holding the module (and quiz.toml)."""

    def make(source: str, quiz: str | None = None, name: str = "sub", module: str = "logistic_regression") -> Path:
        folder = tmp_path / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{module}.py").write_text(source)
        if quiz is not None:
            (folder / "quiz.toml").write_text(quiz)
        return folder

    return make


@pytest.fixture(params=["spawned", "forked"])
def start_mode(request):
    """Workers started as fresh interpreters, and forked from the fork server."""
    if request.param == "forked":
        from grader.sandbox import zygote

        zygote.enable()
        yield request.param
        zygote.disable()
    else:
        yield request.param


# -- sharing set-ups under pytest-xdist (pyproject.toml runs the tests with -n auto --dist loadgroup) -----------

# Module-scoped fixtures cheap enough to be made again on each xdist worker: a copy of the course, a Course object.
# Every other module-scoped fixture is a set-up that tests only read (a graded class, a built bundle, an exported
# autograder, a cluster's run): the tests that use one run in one group, on one worker, so it is made once per run
# as without xdist, and in the module's order (test_batch.py's tests build on one another's runs).
CHEAP_MODULE_FIXTURES = {"course", "exercise"}


def _shared_setups(item) -> list[str]:
    names = item._fixtureinfo.name2fixturedefs
    return [name for name in item.fixturenames
            if name in names and names[name][-1].scope != "function" and name not in CHEAP_MODULE_FIXTURES
            and names[name][-1].baseid]  # defined in a test module, not in a plugin or this conftest


def _group(module) -> str:
    """The module's name, or that of the test module it takes a set-up from (test_late.py grades test_lms.py's
    class once per session through test_lms.graded_class): one group, one worker, one set-up."""
    for value in vars(module).values():
        home = getattr(value, "__module__", None)
        if callable(value) and home and home != module.__name__ and home.startswith("test_"):
            return home
    return module.__name__


def pytest_xdist_auto_num_workers(config):
    """`-n auto`: one xdist worker more than CPUs, since many tests wait on subprocesses (batches,
    clusters, stalled workers) and would leave a CPU idle meanwhile (3 workers grade the suite in
    203 s on 2 CPUs, where 2 take 233 s)."""
    return (os.cpu_count() or 1) + 1


# -- how workers start: both ways for every test, or one way each --------------------------------------------

# Fixtures whose parameter is the way workers start (spawned fresh, or forked from the fork server).
START_FIXTURES = ("start_mode", "start")


def pytest_addoption(parser):
    parser.addoption(
        "--start-modes", choices=("one", "other", "both"), default="one",
        help="one (default): each test that takes a start mode runs under one of the two, spawned or forked, "
             "chosen by its name, so that the suite covers both ways about equally; other: the tests `one` "
             "leaves out, only (.ci/run runs them after the default run); both: all of them")


def _one_start_mode(items):
    """Keep, of each test's two start modes, the one its name (less the mode) picks; the rest are deselected."""
    kept, dropped = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        mode = next((params[name] for name in START_FIXTURES if name in params), None)
        if mode is None:
            kept.append(item)
            continue
        key = item.nodeid.replace(f"[{mode}-", "[").replace(f"-{mode}]", "]").replace(f"-{mode}-", "-")
        key = key.replace(f"[{mode}]", "")
        (kept if ("spawned", "forked")[zlib.crc32(key.encode()) % 2] == mode else dropped).append(item)
    return kept, dropped


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    modes = config.getoption("--start-modes")
    if modes != "both":
        kept, dropped = _one_start_mode(items)
        if modes == "other":
            kept, dropped = dropped, kept
        items[:] = kept
        if dropped:
            config.hook.pytest_deselected(items=dropped)
    for item in items:
        if item.get_closest_marker("xdist_group") is None and _shared_setups(item):
            item.add_marker(pytest.mark.xdist_group(_group(item.module)))
