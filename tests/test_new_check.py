"""`grade new` scaffolds an exercise that `grade check` passes as written, and
`grade check` finds what is wrong with an exercise: a manifest whose points do
not add up, stubs that score, a key that does not answer, and hidden tests with
holes (mutants of the reference that keep full marks)."""
import re

import pytest

from grader.authoring.mutation import make_mutants


@pytest.fixture
def course(tmp_path):
    """A brand-new course: an empty folder holding an empty exercises/."""
    (tmp_path / "exercises").mkdir()
    return tmp_path


def test_new_then_check_passes(run_grade, course):
    made = run_grade("new", "demo", cwd=course)
    assert made.returncode == 0, made.stderr
    for path in ["exercises/demo/exercise.toml", "exercises/demo/demo.py", "exercises/demo/quiz.toml",
                 "exercises/demo/README.md",
                 "solutions/demo/demo.py", "solutions/demo/quiz_key.toml", "solutions/demo/tests/conftest.py",
                 "solutions/demo/tests/test_predict.py"]:
        assert (course / path).is_file(), path
    checked = run_grade("check", "demo", cwd=course)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "reference scores 100 / 100" in checked.stdout
    assert "untouched stubs score 0 / 100" in checked.stdout
    assert re.search(r"\d+ mutants, (\d+) killed, 0 survived .*mutation score 100\.0%", checked.stdout), checked.stdout
    assert "check passed" in checked.stdout
    again = run_grade("new", "demo", cwd=course)
    assert again.returncode == 2 and "already exists" in again.stderr


def test_check_finds_a_hole_until_it_is_acknowledged(run_grade, course):
    assert run_grade("new", "demo", "--function", "predict", "--function", "score", cwd=course).returncode == 0
    stub = (course / "exercises/demo/demo.py").read_text()
    assert "replace it with what predict() computes" in stub and "replace it with what score() computes" in stub
    suite = course / "solutions/demo/tests/test_score.py"
    text = suite.read_text()
    suite.write_text(text[: text.index("@pytest.mark.points(1)")])  # drop the test that inputs stay untouched
    checked = run_grade("check", "demo", cwd=course)
    assert checked.returncode == 1, checked.stdout
    survivors = [line for line in checked.stdout.splitlines() if "survived:" in line]
    assert survivors == [
        "      survived: score line 19 [in place]: array arguments changed in place (+1) on return"], checked.stdout
    assert "1 check failed" in checked.stdout
    (course / "solutions/demo/equivalent_mutants.toml").write_text(
        '"score: array arguments changed in place (+1) on return" = "accepted for this test of the check"\n')
    checked = run_grade("check", "demo", cwd=course)
    assert checked.returncode == 0, checked.stdout
    assert "1 acknowledged equivalent" in checked.stdout and "equivalent: score line 19" in checked.stdout


def test_check_reports_configuration_problems(run_grade, course):
    assert run_grade("new", "demo", cwd=course).returncode == 0
    manifest = course / "exercises/demo/exercise.toml"
    manifest.write_text(manifest.read_text().replace("points = 100", "points = 90"))
    checked = run_grade("check", "demo", "--no-mutation", cwd=course)
    assert checked.returncode == 1
    assert "points = 90 is declared, but the parts and quiz add up to 100" in checked.stdout

    manifest.write_text(manifest.read_text().replace("points = 90", "points = 100"))
    (course / "solutions/demo/quiz_key.toml").write_text('q1 = "E"\n')
    (course / "exercises/demo/demo.py").write_text((course / "solutions/demo/demo.py").read_text())
    checked = run_grade("check", "demo", "--no-mutation", cwd=course)
    assert checked.returncode == 1
    assert "predict scores 80 with the untouched stubs" in checked.stdout
    assert "q1: the key's answer 'E' is not one of the choices A, B, C, D" in checked.stdout
    assert run_grade("check", "nosuch", cwd=course).returncode == 2


def test_mutants_cover_every_kind_of_edit():
    source = '''"""A module."""
import numpy as np


def step(X, w_in, b, alpha):
    """One step."""
    w = np.array(w_in)
    grad = X.T @ (X @ w + b) / X.shape[0]
    w = w - alpha * grad
    if alpha > 1:
        return w, -b
    return w, np.mean(grad)
'''
    changes = {(m.kind, m.change) for m in make_mutants(source)}
    expected = {
        ("operator", "`X @ w + b` -> `X @ w - b`"),
        ("operator", "`alpha > 1` -> `alpha >= 1`"),
        ("operator", "`np.mean(grad)` -> `np.sum(grad)`"),
        ("sign", "`-b` -> `b`"),
        ("constant", "`1` -> `2`"),
        ("constant", "`0` -> `1`"),
        ("dropped term", "`X @ w + b` -> `X @ w`"),
        ("dropped term", "`alpha * grad` -> `grad`"),
        ("tuple order", "`(w, -b)` -> `(-b, w)`"),
        ("argument ignored", "argument b ignored (taken as 0)"),
        ("in place", "w = w_in (no copy), then w updated in place"),
        ("in place", "array arguments changed in place (+1) on return"),
    }
    assert expected <= changes
    for mutant in make_mutants(source):
        compile(mutant.source, "mutant", "exec")
        assert mutant.source != source


def test_check_exercise3_reports_its_mutation_score(run_grade):
    checked = run_grade("check", "exercise3")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    found = re.search(r"mutation analysis: (\d+) mutants, (\d+) killed, (\d+) survived "
                      r"\((\d+) acknowledged equivalent\): "
                      r"mutation score ([\d.]+)%", checked.stdout)
    assert found, checked.stdout
    total, killed, survived, equivalent, score = found.groups()
    assert int(total) == int(killed) + int(survived) and survived == equivalent
    assert float(score) == pytest.approx(100 * int(killed) / int(total), abs=0.05)
    assert "survived:" not in checked.stdout
