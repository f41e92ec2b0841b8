"""The worker and the fork server are never imported: they run from source
text joined from several files (grader.sandbox.script). Check that text as
Python would meet it, since no import ever does."""
from __future__ import annotations

import pytest
from pyflakes import api, messages, reporter

from grader.sandbox import FORKSERVER, WORKER, script


class _Collect(reporter.Reporter):
    def __init__(self):
        self.found = []

    def flake(self, message):
        self.found.append(message)

    def syntaxError(self, filename, msg, lineno, offset, text):  # noqa: N802 - pyflakes' name
        self.found.append(f"syntax error at line {lineno}: {msg}")

    def unexpectedError(self, filename, msg):  # noqa: N802 - pyflakes' name
        self.found.append(msg)


def problems(source: str) -> list[str]:
    """Syntax errors and names used but never defined, as pyflakes sees them."""
    collected = _Collect()
    api.check(source, "<joined>", collected)
    return [str(m) for m in collected.found if not isinstance(m, messages.Message)
            or isinstance(m, (messages.UndefinedName, messages.UndefinedLocal, messages.UndefinedExport))]


@pytest.mark.parametrize("process", [WORKER, FORKSERVER], ids=["worker", "fork server"])
def test_joined_script_compiles_and_defines_every_name_it_uses(process):
    source = script(*process)
    compile(source, "<joined>", "exec")
    assert problems(source) == []


def test_the_check_finds_a_name_no_file_defines():
    files, entry = WORKER
    assert any("undefined name 'run_forever'" in p for p in problems(script(files, "run_forever()")))
    # Each file alone leans on the others: the worker needs wire.py's encoder.
    assert any("undefined name 'encode'" in p for p in problems(script(("inside/worker.py",), "main()")))
