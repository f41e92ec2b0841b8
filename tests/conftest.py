"""Shared fixtures for the project's own tests: the real `grade` command, run
through click's runner or as a subprocess, on real files."""
from __future__ import annotations

import os
import subprocess
import sys
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
REFERENCE = ROOT / "solutions" / "exercise3" / "logistic_regression.py"
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
