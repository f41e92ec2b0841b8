"""Property-based tests of every parser of untrusted input but the wire format:
quiz.toml, notebooks, zip entries and the exercise manifest.

Each reads what hypothesis makes up (random, mutated or truncated input) and
must give either its result or a one-line GraderError, never another
exception and never a hang. CI runs the fixed-seed "ci" profile (tests/conftest.py);
`HYPOTHESIS_PROFILE=long python -m pytest tests/test_properties.py` explores further.
Every bug these tests found is pinned with an @example.
"""
from __future__ import annotations

import ast
import io
import json
import math
import os
import shutil
import signal
import stat
import struct
import tempfile
import warnings
import zipfile
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pytest
from conftest import REFERENCE, ROOT, quiz_key_text
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from grader.course import Course, parse_manifest, tomllib
from grader.errors import GraderError
from grader.grading.quiz import check_answers, form_problem, grade_quiz, normalise
from grader.submissions import entries
from grader.submissions.load import Submission, load_submission, read_quiz
from grader.submissions.notebook import notebook_source, quiz_answers, strip_ipython

EXERCISE = Course(ROOT).exercise("exercise3")
KEY = tomllib.loads(quiz_key_text())
LAB_NOTEBOOK = EXERCISE.folder / EXERCISE.notebook_file
MANIFEST_TEXT = (EXERCISE.folder / "exercise.toml").read_text()
# Slow examples (a whole notebook through nbformat, a course on disk) get a fifth of the budget.
FEWER = settings(max_examples=max(10, settings.default.max_examples // 5),
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
HANG_SECONDS = 60  # a parser call takes milliseconds; this only turns a hang into a failure


class Hung(BaseException):
    """A parser did not return: raised by the watchdog (a BaseException, so no `except Exception` hides it)."""


@contextmanager
def watchdog():
    def fire(*_):
        raise Hung(f"no answer after {HANG_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.alarm(HANG_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def one_line(error: Exception) -> str:
    text = str(error)
    assert text and "\n" not in text and "\r" not in text, repr(text)
    assert "Traceback" not in text
    return text


def printable(text: str) -> bool:
    """No control characters a terminal would act on (tab aside)."""
    return all(ch == "\t" or (ch.isprintable() and ch not in "\u2028\u2029") for ch in text)


# -- made-up text ---------------------------------------------------------------

# Strings a student or a broken tool might produce, beyond what st.text() favours.
AWKWARD = ["", " ", "\t", "\n", "\r\n", "\r", "\x00", "\x0c", "\x1b[2J", "\x7f", "\u2028", "\u2029", "\ufeff",
           "\ud800", "\udcff", "é", "ß", "\ufb01", "Ａ", "'", '"', "'''", "\\", "(", "[" * 300, "%", "%%", "!",
           "?", "#", "a" * 300, "0x" + "f" * 5000, "9" * 5000, "B", " b. ", "c)"]
texts = st.one_of(st.text(max_size=40), st.sampled_from(AWKWARD),
                  st.lists(st.sampled_from(AWKWARD) | st.text(max_size=5), max_size=5).map("".join))
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=-2**63, max_value=2**63 - 1),
                    st.floats(), texts)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(texts, inner, max_size=4), max_leaves=12)


def toml_value(value) -> str:
    """`value` written as TOML (or as close as TOML allows: a surrogate makes it invalid, as it should)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return json.dumps(value).replace("\x7f", "\\u007f")  # JSON's escapes are TOML's, bar DEL
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in value.items()) + "}"
    return '""'  # None has no TOML form


def toml_document(table: dict) -> str:
    return "".join(f"{json.dumps(str(k))} = {toml_value(v)}\n" for k, v in table.items())


toml_values = st.recursive(st.one_of(st.booleans(), st.integers(min_value=-2**63, max_value=2**63 - 1),
                                     st.floats(), texts),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=3),
                           max_leaves=10)
question_ids = st.sampled_from([q.id for q in EXERCISE.questions]) | texts
answers = st.one_of(st.sampled_from(["A", "B", "C", "D", "E", "a", " b ", "c.", "d)", "", "AB", "ß"]), toml_values)


def encoded(text: str, how: str) -> bytes:
    if how == "utf-16":
        return text.encode("utf-16", "surrogatepass")
    if how == "latin-1":
        return text.encode("latin-1", "replace")
    return text.encode("utf-8", "surrogatepass")


@contextmanager
def scratch():
    with tempfile.TemporaryDirectory(prefix="props-") as folder:
        yield Path(folder)


# -- quiz.toml --------------------------------------------------------------------

quiz_documents = st.one_of(
    st.dictionaries(question_ids, answers, max_size=7).map(toml_document),
    texts,
    st.builds(lambda depth, kind: "q1 = " + ("[" * depth + "]" * depth if kind else "{a=" * depth + "1" + "}" * depth),
              st.integers(1, 3000), st.booleans()),
)


@given(quiz_documents, st.sampled_from(["utf-8", "utf-16", "latin-1"]))
@example("q1 = " + "[" * 3000 + "]" * 3000, "utf-8")  # nesting deeper than the parser's recursion: was a traceback
@example('q1 = "\\u001b[2J B"\nq2 = "A\\nB"', "utf-8")  # control characters in an answer: not echoed raw
def test_quiz_toml_gives_answers_or_a_reason(text, how):
    with scratch() as folder:
        path = folder / "quiz.toml"
        path.write_bytes(encoded(text, how))
        with watchdog():
            found, problem = read_quiz(path)
        if found is None:
            assert problem.startswith("quiz.toml could not be read: ") and "\n" not in problem
        else:
            assert problem == "" and all(isinstance(k, str) for k in found)
        with watchdog():
            part = grade_quiz(EXERCISE, found, KEY, unreadable=bool(problem))
            form = check_answers(EXERCISE, found)
    each = EXERCISE.quiz_points / len(EXERCISE.questions)
    assert [t.name for t in part.tests] == [q.id for q in EXERCISE.questions]
    for test in part.tests:
        raw = (found or {}).get(test.name, "")
        right = isinstance(raw, str) and normalise(raw) == normalise(KEY[test.name])
        assert (test.passed, test.score) == ((True, each) if right else (False, 0.0)), (raw, test)
        assert printable(test.message), test.message  # the quiz's messages reach the student's terminal
        assert len(test.message) < 500
    assert 0 <= part.score <= EXERCISE.quiz_points
    assert all(printable(p) and p.split(":")[0] in KEY for p in form)


@given(st.fixed_dictionaries({q.id: st.tuples(st.sampled_from(["", " ", "\t"]), st.booleans(),
                                                st.sampled_from(["", ".", ")"]), st.sampled_from(["", " ", "\n"]))
                              for q in EXERCISE.questions}))
def test_the_key_however_written_scores_full_marks(styles):
    written = {}
    for qid, (before, lower, after, trailing) in styles.items():
        letter = KEY[qid].lower() if lower else KEY[qid]
        written[qid] = before + letter + after + trailing
    with scratch() as folder:
        (folder / "quiz.toml").write_text(toml_document(written))
        found, problem = read_quiz(folder / "quiz.toml")
    assert problem == "" and check_answers(EXERCISE, found) == []
    assert grade_quiz(EXERCISE, found, KEY).score == EXERCISE.quiz_points


@given(answers)
def test_form_problem_is_one_printable_line(raw):
    for question in EXERCISE.questions:
        message = form_problem(question, raw)
        assert printable(message) and len(message) < 500, message
        if isinstance(raw, str) and normalise(raw) in question.choices:
            assert message == ""


# -- notebooks ----------------------------------------------------------------------

LAB = json.loads(LAB_NOTEBOOK.read_text())


def json_paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from json_paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from json_paths(value, (*prefix, index))


def mutate(document, draw, steps: int):
    """`document` (JSON data) with `steps` random edits: a value replaced, a key or item removed or added."""
    document = json.loads(json.dumps(document))
    for _ in range(steps):
        path = draw(st.sampled_from(list(json_paths(document))))
        if not path:
            continue
        *to_parent, last = path
        parent = document
        for key in to_parent:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "remove", "add", "text"]))
        if action == "replace":
            parent[last] = draw(json_values)
        elif action == "remove":
            del parent[last]
        elif action == "text" and isinstance(parent[last], str):
            parent[last] = draw(st.sampled_from(AWKWARD)) + parent[last]
        elif isinstance(parent, dict):
            parent[draw(texts)] = draw(json_values)
        else:
            parent.insert(last, draw(json_values))
    return document


def raw_edit(text: str, draw) -> str:
    """`text` cut short, or with a few characters spliced in."""
    if draw(st.booleans()):
        return text[: draw(st.integers(0, len(text)))]
    at = draw(st.integers(0, len(text)))
    return text[:at] + draw(st.sampled_from(AWKWARD) | st.text(max_size=3)) + text[at:]


@st.composite
def mutated_json(draw, document, max_steps: int, raw_edits: bool = True) -> str:
    """`document` after a few random edits, as JSON text; sometimes with the text itself damaged."""
    text = json.dumps(mutate(document, draw, draw(st.integers(1, max_steps))), ensure_ascii=draw(st.booleans()))
    if raw_edits and draw(st.integers(0, 4)) == 0:
        text = raw_edit(text, draw)
    return text


def check_submission(path: Path):
    """load_submission on `path`: a usable Submission or a one-line GraderError; nothing else."""
    try:
        with watchdog():
            sub = load_submission(EXERCISE, path)
    except GraderError as exc:
        one_line(exc)
        return None
    assert isinstance(sub, Submission) and isinstance(sub.source, str)
    sub.source.encode("utf-8")  # what the sandbox sends, and what the digest hashes
    assert len(sub.digest) == 64
    if sub.origins is not None:
        assert len(sub.origins) == sub.source.count("\n")
    if sub.quiz is not None:
        assert all(isinstance(k, str) for k in sub.quiz)
        grade_quiz(EXERCISE, sub.quiz, KEY)
    assert "\n" not in sub.quiz_error
    return sub


SURROGATE_CELL = {**LAB, "cells": LAB["cells"] + [{"cell_type": "code", "execution_count": None, "id": "x",
                                                   "metadata": {}, "outputs": [], "source": "s = '\ud800'"}]}
HUGE_NUMBER_QUIZ = {**LAB, "cells": LAB["cells"] + [{"cell_type": "code", "execution_count": None, "id": "y",
                                                     "metadata": {}, "outputs": [],
                                                     "source": "quiz_answers = {'q1': 0x" + "f" * 5000 + "}"}]}


@FEWER
@given(mutated_json(LAB, 4))
@example("[" * 100000)  # nesting deeper than json's recursion: was a traceback
@example(json.dumps(SURROGATE_CELL))  # a lone surrogate in a cell: was UnicodeEncodeError
@example(json.dumps(HUGE_NUMBER_QUIZ))  # an integer too long to print: was ValueError
def test_mutated_notebook_loads_or_gives_one_line_error(text):
    with scratch() as folder:
        path = folder / "work.ipynb"
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        check_submission(path)


# Cells that are Python (with the IPython syntax a notebook may hold), with awkward text in comments and strings.
ipython_lines = st.sampled_from(["%matplotlib inline", "!pip install numpy", "files = !ls", "np.exp?", "%time x = 1",
                                 "pip install numpy", "cd ..", "%load_ext autoreload"])
# Text that fits in a one-line comment or string, with the characters str.splitlines takes for line ends.
SPLITLINES_ONLY = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
line_text = texts.map(lambda t: "".join(ch for ch in t if ch in SPLITLINES_ONLY
                                        or (ch.isprintable() and ch not in "'\\\"")))
statements = st.one_of(
    st.sampled_from(["import numpy as np", "x = 1", "print(x)", "y = (1,\n     2)", "if x:\n    pass",
                     "from __future__ import annotations", "@staticmethod\ndef g():\n    return 2"]),
    line_text.map(lambda t: f"# {t}"),
    line_text.map(lambda t: f"s = '{t}'"),
    line_text.map(lambda t: f'doc = """{t}\n{t}"""'),
    st.tuples(st.sampled_from(["sigmoid", "helper"]), line_text).map(
        lambda p: f"def {p[0]}(z):\n    '''{p[1]}'''\n    # {p[1]}\n    return z  # {p[1]}"),
    ipython_lines,
)
cells = st.tuples(st.lists(statements, min_size=1, max_size=5), st.sampled_from(["", "%%time\n", "%%bash\n"]),
                  st.lists(st.sampled_from(["demo", "student", "quiz"]), max_size=2, unique=True),
                  st.sampled_from(["\n", "\r\n"]))


def top_level_functions(tree) -> dict:
    """name -> ast dump (no line numbers) of the functions a module defines, also inside top-level try blocks."""
    found = {}
    for node in tree.body:
        for inner in node.body if isinstance(node, ast.Try) else [node]:
            if isinstance(inner, ast.FunctionDef):
                found[inner.name] = ast.dump(inner)
    return found


@given(st.lists(cells, min_size=1, max_size=4))
@example([(["# see\u2028 this", "def sigmoid(z):\n    return z"], "", [], "\n")])  # was split into two lines
@example([(["s = 'a\x0cb'", "def helper(z):\n    return z"], "", ["demo"], "\n")])  # likewise a form feed
def test_notebook_code_becomes_a_module_keeping_every_function(cell_specs):
    nb = nbformat.v4.new_notebook()
    expected = {}
    for body, magic, tags, newline in cell_specs:
        source = (magic + "\n".join(body)).replace("\n", newline)
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["tags"] = tags
        nb.cells.append(cell)
        try:
            tree = ast.parse(strip_ipython(source))
        except SyntaxError:
            continue
        if magic != "%%bash\n":
            expected.update(top_level_functions(tree))
    with watchdog():
        module, origins = notebook_source(nb)
    tree = ast.parse(module)  # cells that parse make a module that parses
    assert top_level_functions(tree) == expected
    assert len(origins) == module.count("\n")


@given(texts, st.lists(texts, max_size=6).map("\n".join))
def test_strip_ipython_and_quiz_cells_never_raise(first, rest):
    source = first + "\n" + rest
    with watchdog():
        stripped = strip_ipython(source)
    assert isinstance(stripped, str)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(f"quiz_answers = {{'q1': {first!r}}}\n{rest}"),
                nbformat.v4.new_code_cell(source)]
    with watchdog():
        found, problem = quiz_answers(nb)
    assert found is None or all(isinstance(k, str) and isinstance(v, str) for k, v in found.items())
    assert "\n" not in problem


# -- zip entries ------------------------------------------------------------------------

PARTS = ["a", "b", "logistic_regression.py", "quiz.toml", "..", ".", "", "__MACOSX", ".hidden", "C:", "c:x", "é",
         "x" * 300, "a\\..\\..\\b", "\\", "con", "a b"]
member_names = st.builds(lambda lead, parts, sep, trail: lead + sep.join(parts) + trail,
                         st.sampled_from(["", "", "/", "\\", "../", "C:\\", "//server/share/"]),
                         st.lists(st.sampled_from(PARTS) | st.text(max_size=4), min_size=1, max_size=4),
                         st.sampled_from(["/", "/", "\\"]), st.sampled_from(["", "", "/"]))
KINDS = ["file", "file", "file", "dir", "symlink", "fifo", "encrypted"]
members = st.lists(st.tuples(member_names, st.sampled_from(KINDS), st.binary(max_size=64)), max_size=6)
# Patches of the sizes a member declares (central directory): small lies and huge ones.
size_lies = st.lists(st.tuples(st.integers(0, 5), st.sampled_from([0, 1, 2**20, 2**31, 2**32 - 1])), max_size=2)


def build_zip(path: Path, spec, lies=()) -> None:
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        warnings.simplefilter("ignore")  # "Duplicate name": wanted here
        for name, kind, content in spec:
            info = zipfile.ZipInfo(name + ("/" if kind == "dir" and not name.endswith("/") else ""))
            mode = {"symlink": stat.S_IFLNK | 0o777, "fifo": stat.S_IFIFO | 0o644, "dir": stat.S_IFDIR | 0o755}
            info.external_attr = mode.get(kind, stat.S_IFREG | 0o644) << 16
            if kind == "encrypted":
                info.flag_bits |= 0x1
            archive.writestr(info, b"" if kind == "dir" else content)
    if lies:
        data = bytearray(path.read_bytes())
        headers = []
        at = data.find(b"PK\x01\x02")
        while at != -1:
            headers.append(at)
            at = data.find(b"PK\x01\x02", at + 4)
        for index, size in lies:
            if index < len(headers):
                struct.pack_into("<I", data, headers[index] + 24, size)  # uncompressed size
        path.write_bytes(bytes(data))


def everything_under(folder: Path) -> list[Path]:
    return [Path(here) / name for here, dirs, files in os.walk(folder) for name in dirs + files]


def unpack_and_check(spec, lies=(), raw: bytes | None = None):
    """Unpack into a destination beside a sentinel; return the submission root (relative) or the error."""
    with scratch() as base:
        archive, dest, beside = base / "entry.zip", base / "sandbox" / "dest", base / "sandbox" / "beside"
        dest.mkdir(parents=True)
        beside.mkdir()
        if raw is None:
            build_zip(archive, spec, lies)
        else:
            archive.write_bytes(raw)
        try:
            with watchdog():
                entries.unpack_zip(archive, dest)
                root = entries.submission_root(dest)
        except GraderError as exc:
            outcome = one_line(exc)
        else:
            assert root == dest or dest in root.parents
            outcome = root
        # Nothing is ever written outside the destination, and nothing written is a link or a special file.
        assert everything_under(base / "sandbox") == everything_under(dest) + [dest] or \
            set(everything_under(base / "sandbox")) == set(everything_under(dest)) | {dest, beside}
        assert list(beside.iterdir()) == [] and sorted(p.name for p in base.iterdir()) == ["entry.zip", "sandbox"]
        for path in everything_under(dest):
            mode = os.lstat(path).st_mode
            assert stat.S_ISREG(mode) or stat.S_ISDIR(mode), path
            assert os.path.realpath(path).startswith(os.path.realpath(dest) + os.sep)
        if isinstance(outcome, str) and outcome.startswith("the zip was refused"):
            assert list(dest.iterdir()) == []  # a refused zip writes nothing at all
        return outcome


@given(members, size_lies)
@example([("a", "file", b"x"), ("a/b", "file", b"y")], [])  # a file where a folder must go: was FileExistsError
@example([("a", "file", b"x"), ("a", "dir", b"")], [])  # likewise for a folder member
@example([("x" * 300 + "/logistic_regression.py", "file", b"x")], [])  # a name too long: was ENAMETOOLONG
@example([("ok.py", "file", b"x"), ("ann\\..\\..\\x.py", "file", b"")], [])
@example([("C:\\x.py", "file", b"")], [])
@example([("big.py", "file", b"x")], [(0, 2**32 - 1)])
@example([("a.py", "file", b"1"), ("a.py", "file", b"2")], [])
def test_zip_members_never_land_outside_the_destination(spec, lies):
    outcome = unpack_and_check(spec, lies)
    names = [name.split("\0")[0].replace("\\", "/") for name, _, _ in spec]  # zipfile ends a name at NUL
    if any(name.startswith("/") or ".." in name.split("/") for name in names):
        assert isinstance(outcome, str), "a zip with ../ or absolute members was unpacked"
    if any(kind == "symlink" for _, kind, _ in spec):
        assert isinstance(outcome, str)
    if any(size >= 2**20 * 50 and index < len(spec) for index, size in lies):
        assert isinstance(outcome, str)


GOOD_ZIP = io.BytesIO()
with zipfile.ZipFile(GOOD_ZIP, "w", compression=zipfile.ZIP_DEFLATED) as _archive:
    _archive.writestr("ann/logistic_regression.py", REFERENCE.read_text())
    _archive.writestr("ann/quiz.toml", quiz_key_text())
GOOD_ZIP = GOOD_ZIP.getvalue()


@given(st.lists(st.tuples(st.integers(0, len(GOOD_ZIP) - 1), st.integers(0, 255)), min_size=1, max_size=8),
       st.integers(0, len(GOOD_ZIP)))
def test_corrupted_zip_bytes_give_one_line_errors(flips, keep):
    data = bytearray(GOOD_ZIP)
    for at, value in flips:
        data[at] = value
    unpack_and_check(None, raw=bytes(data[:keep] if keep < 40 else data))


@given(st.lists(st.sampled_from(PARTS[:4] + [".DS_Store", "__MACOSX", "x", "caf\udce9.py", "\udcff"]) | texts,
                min_size=1, max_size=5))
@example(["caf\udce9.py"])  # a name that is not UTF-8: its id could not be written in any report
def test_scan_makes_an_entry_of_every_name(names):
    with scratch() as folder:
        made = set()
        for name in names:
            name = name.replace("/", "_").replace("\0", "_")
            if name in ("", ".", "..") or name in made:
                continue
            try:
                (folder / name).write_text("x = 1\n")
            except (OSError, UnicodeEncodeError):
                continue
            made.add(name)
        found = entries.scan(folder)
    visible = {n for n in made if not n.startswith(".") and n not in entries.IGNORED}
    assert sorted(Path(e.path).name for e in found if "more than one entry" not in e.problem) == sorted(
        n for n in visible if sum(entries.student_id(Path(m).stem) == entries.student_id(Path(n).stem)
                                  for m in visible) == 1)
    for entry in found:
        assert entry.id and entry.id not in (".", "..") and "/" not in entry.id
        entry.id.encode("utf-8")
        assert "\n" not in entry.problem
        assert bool(entry.kind) != bool(entry.problem)
        entries.digest(entry)


# -- the manifest -----------------------------------------------------------------------

BASE_MANIFEST = tomllib.loads(MANIFEST_TEXT)


def check_manifest_text(text: str):
    """parse_manifest on `text`, then `grade check`'s lint of it: results or one-line GraderErrors only."""
    from grader.authoring.check import check_manifest

    with scratch() as root:
        folder = root / "exercises" / "broken"
        folder.mkdir(parents=True)
        (folder / "exercise.toml").write_bytes(text.encode("utf-8", "surrogatepass"))
        try:
            with watchdog():
                exercise = parse_manifest("broken", folder, None)
        except GraderError as exc:
            assert one_line(exc).startswith(f"{folder / 'exercise.toml'}: ")
            return None
        assert all(math.isfinite(p.points) for p in exercise.parts) and math.isfinite(exercise.quiz_points)
        assert all(isinstance(p.early_calls, tuple) for p in exercise.parts)
        exercise.max_score  # noqa: B018 - adds the parts' points: must not raise
        try:
            finding = check_manifest(exercise)
        except GraderError as exc:
            one_line(exc)
            return exercise
        assert all("\n" not in line for line in finding.lines)
        return exercise


@st.composite
def mutated_manifests(draw) -> str:
    if draw(st.booleans()):
        return toml_document(mutate(BASE_MANIFEST, draw, draw(st.integers(1, 3))))
    return raw_edit(MANIFEST_TEXT, draw)


UNKNOWN_LIMIT = MANIFEST_TEXT.replace("memory_mb = 1024", "surprise = 1")
QUIZ_AS_TEXT = 'module = "m"\nquiz = "none"\n[[parts]]\nname = "f"\npoints = 1\n'


@FEWER
@given(mutated_manifests())
@example(UNKNOWN_LIMIT)  # was AttributeError
@example(QUIZ_AS_TEXT)  # was AttributeError
@example(MANIFEST_TEXT.replace("call_seconds = 5 ", "call_seconds = inf "))
@example(MANIFEST_TEXT.replace("points = 100 ", 'points = "all of them" '))
@example(MANIFEST_TEXT.replace("points = 15", "points = nan"))
def test_mutated_manifest_parses_or_gives_one_line_error(text):
    check_manifest_text(text)


BROKEN_MANIFESTS = {
    "not TOML": "parts = [",
    "no parts": 'module = "m"\n',
    "a part without points": 'module = "m"\n[[parts]]\nname = "f"\n',
    "an unknown limit": UNKNOWN_LIMIT,
    "a quiz that is text": QUIZ_AS_TEXT,
}


@pytest.mark.parametrize("what", BROKEN_MANIFESTS)
def test_grade_check_and_grade_on_a_broken_manifest(grade_cli, tmp_path, what):
    """`grade check` lists the manifest as its one failed check (exit 1); the other commands stop
    with one line `grade: error: ...` (exit 2)."""
    text = BROKEN_MANIFESTS[what]
    shutil.copytree(ROOT / "exercises" / "exercise3", tmp_path / "exercises" / "exercise3")
    (tmp_path / "exercises" / "exercise3" / "exercise.toml").write_text(text)
    checked = grade_cli("check", "exercise3", "--no-mutation", "--root", tmp_path)
    assert checked.exit_code == 1, checked.output
    lines = checked.output.splitlines()
    assert lines[1] == "  ✗ manifest" and lines[2].startswith("      ") and "malformed manifest" in lines[2] \
        or "not valid TOML" in lines[2]
    assert lines[3].startswith("1 check failed")
    for args in (["exercise3"], ["list"]):
        result = grade_cli(*args, "--root", tmp_path)
        assert result.exit_code == 2, result.output
        assert result.output.count("\n") == 1 and result.output.startswith("grade: error: "), result.output
