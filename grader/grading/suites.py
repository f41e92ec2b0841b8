"""Hidden suites as one pytest session per process: configured and collected
once, then run again for every submission.

`pytest.main` per submission set up a configuration, loaded plugins and
collected every module again each time, which cost more than the tests. A
`Suites` object does that once (per suite folder, per process) and then, for
each submission, runs the collected items through pytest's own setup, call
and teardown hooks (see `GraderPlugin.run`), much as pytest-xdist's workers
run the items they are handed.
Fixtures, markers, parametrization and conftest files behave exactly as
under `pytest`; each run ends by tearing down every fixture, so nothing
carries over from one submission to the next. The few pytest internals this
takes are all in pytest_internals.py.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from ..errors import GraderError
from .pytest_internals import make_config, teardown_all

UNUSED_PYTEST_PLUGINS = (
    "terminal", "warnings", "logging", "junitxml", "pastebin", "doctest", "unraisableexception",
    "threadexception", "faulthandler", "stepwise", "setuponly", "setupplan", "debugging", "legacypath",
    "cacheprovider",
)

_SESSIONS: dict = {}


class Suites:
    """The collected tests of some suite files, ready to run for any number of submissions."""

    def __init__(self, folder: Path, files: list[Path]):
        from .plugin import GraderPlugin

        self.plugin = GraderPlugin()
        args = [str(f) for f in files] + ["-s", "--assert=plain", "--import-mode=importlib",
                                          "--rootdir", str(folder), "-c", os.devnull]
        for plugin in UNUSED_PYTEST_PLUGINS:
            args += ["-p", f"no:{plugin}"]
        with _IsolatedImports(folder):
            self.config, self.session = make_config(args, [self.plugin])
            self.config.hook.pytest_sessionstart(session=self.session)
            self.config.hook.pytest_collection(session=self.session)
        if self.plugin.collect_errors:
            raise GraderError(f"the test suites in {folder} could not be collected: {self.plugin.collect_errors[0]}")
        self.items = list(self.session.items)

    def run(self, grading, fail_fast: bool = False) -> None:
        """Run every test for `grading`'s submission (stopping at the first failure when `fail_fast`)."""
        self.plugin.grading = grading
        try:
            for item, nextitem in zip(self.items, [*self.items[1:], None]):
                self.plugin.run(item, nextitem)
                if fail_fast and grading.any_failed():
                    break
        finally:
            teardown_all(self.session)  # no fixture outlives its submission
            self.plugin.grading = None


def suites_for(folder: Path, files: list[Path]) -> Suites:
    """The process's `Suites` for these files, collected on first use (and again when a file changed)."""
    key = _key(folder, files)
    if key not in _SESSIONS:
        _SESSIONS[key] = Suites(folder, files)
    return _SESSIONS[key]


def collected(folder: Path, files: list[Path]) -> bool:
    """Whether `suites_for` has these suites ready (collecting them takes no time then)."""
    return _key(folder, files) in _SESSIONS


def _key(folder: Path, files: list[Path]) -> tuple:
    return (str(folder), tuple((str(f), f.stat().st_mtime_ns) for f in files),
            tuple((str(f), f.stat().st_mtime_ns) for f in folder.glob("conftest.py")))


class _IsolatedImports:
    """Collection imports the suites' modules; keep them out of `sys.modules`
    afterwards. The collected items hold their own references, and another
    exercise's suites have modules of the same names (pytest would reuse a
    cached `test_cost`), and our own tests have a `conftest` of their own."""

    def __init__(self, folder: Path):
        self.inside = str(folder) + os.sep

    def __enter__(self):
        self.host_conftest = sys.modules.get("conftest")
        self.autoload = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
        os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"

    def __exit__(self, *exc):
        if self.autoload is None:
            os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = self.autoload
        for name, module in list(sys.modules.items()):
            path = getattr(module, "__file__", None)
            if isinstance(path, str) and path.startswith(self.inside):
                del sys.modules[name]
        if self.host_conftest is None:
            sys.modules.pop("conftest", None)
        else:
            sys.modules["conftest"] = self.host_conftest

