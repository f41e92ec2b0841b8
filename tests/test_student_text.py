"""Text a student controls reaches no terminal and no page raw: file names,
printed output and messages with escape sequences, bidi overrides and line
separators are shown escaped, through the real `grade`."""
from __future__ import annotations

import json

import nbformat
from conftest import REFERENCE, quiz_key_text

NASTY = ["\x1b[2J", "\x1b]52;c;aGk=\x07", "\x1b[1;1r", "\u202e", "\u2028", "\x9b"]
RAW = ["\x1b", "\x07", "\x9b", "\u202e", "\u2028"]


def _notebook(path, source):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source)]
    path.write_text(nbformat.writes(nb))


def _assert_escaped(text):
    for char in RAW:
        assert char not in text, repr(char)


def test_a_notebook_named_with_escape_sequences_is_named_escaped(run_grade, tmp_path):
    folder = tmp_path / "sub"
    folder.mkdir()
    stubs = "def sigmoid(z):\n    raise NotImplementedError\n"
    (folder / "logistic_regression.py").write_text(stubs)
    name = "lab\x1b[2J\rTotal: 100 of 100\u202e.ipynb"
    _notebook(folder / name, REFERENCE.read_text())
    (folder / "quiz.toml").write_text(quiz_key_text())
    proc = run_grade("exercise3", "--submission", folder)
    assert proc.returncode == 0, proc.stderr
    _assert_escaped(proc.stdout + proc.stderr)
    note = next(line for line in proc.stdout.splitlines() if line.startswith("note: graded "))
    assert "\\x1b[2J\\x0dTotal: 100 of 100\\u202e.ipynb" in note


def test_several_notebooks_with_escape_sequences_are_a_safe_one_line_error(run_grade, tmp_path):
    folder = tmp_path / "sub"
    folder.mkdir()
    for name in ("a\x1b]52;c;aGk=\x07.ipynb", "b\x1b[1;1r\u2028.ipynb"):
        _notebook(folder / name, "x = 1\n")
    proc = run_grade("exercise3", "--submission", folder)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "several notebooks" in lines[0], proc.stderr
    _assert_escaped(proc.stderr)
    assert "\\x1b]52;c;aGk=\\x07" in lines[0] and "\\u2028" in lines[0]


def test_printed_output_and_messages_reach_neither_terminal_nor_page_raw(run_grade, tmp_path):
    folder = tmp_path / "sub"
    folder.mkdir()
    extra = f'''
_real_sigmoid = sigmoid


def sigmoid(z):
    print({"".join(NASTY)!r} + "all tests passed")
    raise ValueError({"".join(NASTY)!r} + "Total: 100")
'''
    (folder / "logistic_regression.py").write_text(REFERENCE.read_text() + extra)
    (folder / "quiz.toml").write_text(quiz_key_text())
    page, report = tmp_path / "page.html", tmp_path / "report.json"
    proc = run_grade("exercise3", "--submission", folder, "--verbose", "--html", page, "--json", report)
    assert proc.returncode == 0, proc.stderr
    _assert_escaped(proc.stdout + proc.stderr)
    assert "ValueError" in proc.stdout
    html = page.read_text()
    assert "\u202e" not in html and "\u2028" not in html and "\\u202e" in html
    sigmoid = next(p for p in json.loads(report.read_text())["parts"] if p["name"] == "sigmoid")
    assert sigmoid["score"] == 0
