"""`grade similarity`: pairs of a class's submissions sharing much of their
graded code are flagged (CSV and HTML), independent correct ones are not, a
one-line sigmoid is never compared, earlier terms' submissions are
references, and nothing about a grade is read or written."""
import csv
import importlib.util
import re
import zipfile
from pathlib import Path

import pytest
from conftest import REFERENCE, ROOT

pytest.importorskip("copydetect")

CORPUS = Path(__file__).parent / "corpus"
STYLES = ["loops", "stable", "tanh", "vectorized"]  # correct submissions written independently of one another
HEADER = ["student_a", "student_b", "similarity", "sigmoid", "compute_cost_logistic", "compute_gradient_logistic",
          "gradient_descent", "reference"]


def disguised(source: str) -> str:
    """A copy as one would hide it: names changed, comments and blank lines dropped."""
    source = re.sub(r"\bw\b", "weights", re.sub(r"\bb\b", "bias", source))
    source = re.sub(r"(?m)\s*#.*$", "", source)
    return "\n".join(line for line in source.splitlines() if line.strip()) + "\n"


def make_class(folder: Path) -> Path:
    """The reference, four independent correct styles, a disguised zipped copy of the reference under a
    formula-like name, and an entry that does not parse."""
    folder.mkdir()
    (folder / "ref").mkdir()
    (folder / "ref" / "logistic_regression.py").write_text(REFERENCE.read_text())
    for style in STYLES:
        (folder / f"{style}.py").write_text((CORPUS / f"correct_{style}.py").read_text())
    with zipfile.ZipFile(folder / "=copier.zip", "w") as archive:
        archive.writestr("logistic_regression.py", disguised(REFERENCE.read_text()))
    (folder / "broken.py").write_text("import numpy as np\n\ndef sigmoid(z)\n    return 1\n")
    return folder


def rows(out: Path) -> list:
    with open(out / "similarity.csv", newline="") as f:
        return list(csv.reader(f))


def test_a_disguised_copy_is_flagged_and_independent_correct_submissions_are_not(tmp_path, run_grade):
    submissions = make_class(tmp_path / "class")
    before = sorted(p.relative_to(submissions) for p in submissions.rglob("*"))
    out = tmp_path / "flags"
    proc = run_grade("similarity", "exercise3", submissions, "--out", out)
    assert proc.returncode == 0, proc.stderr
    table = rows(out)
    assert table[0] == HEADER
    # One pair, every function shared whole; the formula-like id is written as text.
    assert table[1:] == [["'=copier", "ref", "1.00", "1.00", "1.00", "1.00", "1.00", ""]]
    assert "compared 6 submissions" in proc.stdout and "1 pair at or above 60% shared code" in proc.stdout
    assert "=copier ~ ref: 100%" in proc.stdout
    assert "not compared: broken: does not parse (line 3: expected ':')" in proc.stdout
    page = (out / "similarity.html").read_text()
    assert "=copier ~ ref: 100%" in page and page.count("<mark>") >= 4
    assert "not verdicts" in page and "<li>broken: does not parse" in page
    # Flags only: the two files, and nothing in the submissions changed or added.
    assert sorted(p.name for p in out.iterdir()) == ["similarity.csv", "similarity.html"]
    assert sorted(p.relative_to(submissions) for p in submissions.rglob("*")) == before


def test_a_one_line_sigmoid_is_too_short_to_compare(tmp_path, grade_cli):
    submissions = tmp_path / "class"
    submissions.mkdir()
    one_line = "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))\n"
    for style in ("loops", "vectorized"):
        source = (CORPUS / f"correct_{style}.py").read_text()
        source = re.sub(r"(?ms)^def sigmoid\(z\):.*?(?=^def )", one_line + "\n\n", source)
        assert one_line in source
        (submissions / f"{style}.py").write_text(source)
    out = tmp_path / "flags"
    result = grade_cli("similarity", "exercise3", submissions, "--out", out, "--threshold", "0")
    assert result.exit_code == 0, result.output
    table = rows(out)
    # Compared (the threshold lets every pair with shared code through), but never on sigmoid.
    assert [row[:2] for row in table[1:]] == [["loops", "vectorized"]]
    assert table[1][HEADER.index("sigmoid")] == ""
    assert "Too short to compare: sigmoid in 2." in (out / "similarity.html").read_text()
    # At the default threshold the pair is not flagged.
    again = grade_cli("similarity", "exercise3", submissions, "--out", out)
    assert "0 pairs at or above 60%" in again.output and rows(out)[1:] == []


def test_earlier_terms_are_references_not_compared_among_themselves(tmp_path, grade_cli):
    submissions = tmp_path / "class"
    submissions.mkdir()
    (submissions / "tanh.py").write_text((CORPUS / "correct_tanh.py").read_text())
    (submissions / "loops.py").write_text((CORPUS / "correct_loops.py").read_text())
    earlier = tmp_path / "fall"
    earlier.mkdir()
    for name in ("old1", "old2"):  # the same code twice: a pair, but both are references
        (earlier / f"{name}.py").write_text(disguised((CORPUS / "correct_tanh.py").read_text()))
    out = tmp_path / "flags"
    result = grade_cli("similarity", "exercise3", submissions, "--reference", earlier, "--out", out)
    assert result.exit_code == 0, result.output
    assert "compared 2 submissions and 2 of earlier terms" in result.output
    flagged = [(row[0], row[1], row[-1]) for row in rows(out)[1:]]
    assert flagged == [("tanh", "fall/old1", "yes"), ("tanh", "fall/old2", "yes")]


def test_without_copydetect_it_is_a_one_line_error(tmp_path, grade_cli, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "copydetect" else real(name, *a))
    result = grade_cli("similarity", "exercise3", ROOT / "exercises")
    assert result.exit_code == 2
    assert result.output.strip() == "grade: error: grade similarity needs copydetect: pip install 'mlgrade[similarity]'"
