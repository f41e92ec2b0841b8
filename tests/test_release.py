"""`grade release`: the student bundle holds what a student needs and nothing
of solutions/, and `grade exercise3` run inside it scores the public checks."""
import ast
import json
import os
import re
import shutil
import subprocess
import sys

import pytest
from conftest import REFERENCE, ROOT, quiz_key_text
from nbfill import filled_notebook, write_notebook

from grader.course import tomllib

SOLUTIONS = ROOT / "solutions" / "exercise3"
KEY = tomllib.loads(quiz_key_text())  # every answer right, however many questions there are


def grade(*args, cwd, grader_from=ROOT):
    """`grade ARGS...` as a subprocess, with the grader of `grader_from` (this worktree's, or a bundle's own)."""
    env = {**os.environ, "PYTHONPATH": str(grader_from)}
    return subprocess.run([sys.executable, "-m", "grader", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("release") / "course"
    done = grade("release", "exercise3", "--out", out, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture
def student_copy(bundle, tmp_path):
    """A fresh copy of the bundle, as a student unpacks it, far from solutions/."""
    course = tmp_path / "unpacked"
    shutil.copytree(bundle, course)
    assert not any((folder / "solutions").exists() for folder in (course, *course.parents))
    return course


def files_of(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def normalise(text):
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def readable_text(path):
    text = path.read_text()
    if path.suffix == ".ipynb":
        text = "\n".join("".join(cell["source"]) for cell in json.loads(text)["cells"])
    return normalise(text)


def test_bundle_holds_the_student_files(bundle):
    grader = sorted(f"grader/{p.relative_to(ROOT / 'grader').as_posix()}" for p in (ROOT / "grader").rglob("*.py")
                    if "__pycache__" not in p.parts)
    assert files_of(bundle) == sorted(["README.md", "pyproject.toml", *grader,
                                       *(f"exercises/exercise3/{name}" for name in [
        "README.md", "exercise.toml", "exercise3.ipynb", "lab_utils.py", "logistic_regression.py",
        "public/conftest.py", "public/test_cost.py", "public/test_gradient.py",
        "public/test_gradient_descent.py", "public/test_sigmoid.py", "quiz.toml"])])
    setup = "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/grade exercise3"
    assert setup in (bundle / "README.md").read_text()
    assert 'grade = "grader.cli:main"' in (bundle / "pyproject.toml").read_text()
    quiz = (bundle / "exercises/exercise3/quiz.toml").read_text()
    assert all(f'{q} = ""' in quiz for q in KEY)


def test_bundle_holds_nothing_of_solutions(bundle):
    texts = {p: readable_text(p) for p in bundle.rglob("*") if p.is_file()}
    secrets = []
    for path in (p for p in SOLUTIONS.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        source = path.read_text()
        secrets.append((f"{path.name}", normalise(source)))
        if path.suffix != ".py":
            continue
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef):
                body = (node.body[1:]
                        if isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
                        else node.body)
                if body:
                    secrets.append((f"{path.name}:{node.name}",
                                    normalise("\n".join(lines[body[0].lineno - 1:body[-1].end_lineno]))))
    assert len(secrets) > 20
    for what, secret in secrets:
        for path, text in texts.items():
            assert secret not in text, f"{path} holds {what}"


def test_public_checks_use_no_hidden_inputs():
    """Number lists in the public checks are the lab's own, never the hidden suites' other inputs."""

    def number_lists(folder):
        found = set()
        for path in folder.glob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, (ast.List, ast.Tuple)) and len(node.elts) > 1:
                    try:
                        found.add(tuple(float(v) for v in ast.literal_eval(node)))
                    except (ValueError, TypeError):
                        pass
        return found

    lab = {(0.5, 1.5), (1.0, 1.0), (1.5, 0.5), (3.0, 0.5), (2.0, 2.0), (1.0, 2.5), (0, 0, 0, 1, 1, 1),  # the data
           (2.0, 3.0), (0.498333393278696, 0.49883942983996693)}  # the worked gradient example
    shared = number_lists(ROOT / "exercises/exercise3/public") & number_lists(SOLUTIONS / "tests")
    assert shared <= lab, shared - lab


def test_readme_lists_the_quiz_of_the_manifest(bundle):
    from grader.course import Course

    readme = (bundle / "exercises/exercise3/README.md").read_text()
    for q in Course(bundle).exercise("exercise3").questions:
        assert f"**{q.id}.** {q.text}" in readme
        for letter, choice in q.choices.items():
            assert f"- **{letter}.** {choice}" in readme


def test_stubs_in_the_bundle(student_copy):
    found = subprocess.run([sys.executable, "-c", "import grader; print(grader.__file__)"],
                           capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(student_copy)}, cwd=student_copy)
    assert found.stdout.startswith(str(student_copy)), "the bundle's own grader is the one tested here"
    done = grade("exercise3", cwd=student_copy, grader_from=student_copy)
    assert done.returncode == 0, done.stderr
    assert "Public checks only" in done.stdout and "The hidden tests decide your grade." in done.stdout
    assert re.search(r"Public checks: 0 of \d+ passed \(not your grade\)", done.stdout)
    assert "not implemented yet" in done.stdout and "Total:" not in done.stdout


def test_finished_module_in_the_bundle(student_copy):
    folder = student_copy / "exercises/exercise3"
    shutil.copy(REFERENCE, folder / "logistic_regression.py")
    (folder / "quiz.toml").write_text(quiz_key_text())
    done = grade("exercise3", "--json", student_copy / "report.json", cwd=student_copy, grader_from=student_copy)
    assert done.returncode == 0, done.stderr
    passed, total = re.search(r"Public checks: (\d+) of (\d+) passed \(not your grade\)", done.stdout).groups()
    assert passed == total
    assert "all tests passed" not in done.stdout.lower() and "Total:" not in done.stdout
    report = json.loads((student_copy / "report.json").read_text())
    assert report["public_only"] is True
    assert all(not t["hidden"] for p in report["parts"] for t in p["tests"])


def test_finished_notebook_in_the_bundle(student_copy):
    folder = student_copy / "exercises/exercise3"
    write_notebook(filled_notebook(REFERENCE.read_text(), KEY), folder / "exercise3.ipynb")
    done = grade("exercise3", cwd=folder, grader_from=student_copy)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("note: graded exercise3.ipynb: logistic_regression.py still holds only the stubs")
    passed, total = re.search(r"Public checks: (\d+) of (\d+) passed \(not your grade\)", done.stdout).groups()
    assert passed == total


def test_public_checks_explain_common_mistakes(student_copy):
    folder = student_copy / "exercises/exercise3"
    wrong = (REFERENCE.read_text()
             .replace("return float(np.mean(losses))", "return float(np.sum(losses))")
             .replace("return dj_db, dj_dw", "return dj_dw, dj_db"))
    (folder / "logistic_regression.py").write_text(wrong)
    (folder / "quiz.toml").write_text('q1 = "B"\nq2 = "E"\n')
    done = grade("exercise3", cwd=student_copy, grader_from=student_copy)
    assert done.returncode == 0, done.stderr
    assert "hint: the cost is m times too large: divide the sum by m" in done.stdout
    assert "hint: the pair is in the wrong order: return (dj_db, dj_dw)" in done.stdout
    # gradient_descent is right but calls both: its failing check says where to look first.
    assert "note: compute_cost_logistic(), compute_gradient_logistic() failed their own checks" in done.stdout
    assert "'E' is not one of the choices A, B, C, D" in done.stdout and "q3: no answer yet" in done.stdout


def test_release_refuses_an_existing_target(bundle):
    done = grade("release", "exercise3", "--out", bundle, cwd=ROOT)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"grade: error: {bundle / 'exercises' / 'exercise3'} already exists; "
                                                "remove it or choose another --out"]


def test_release_refuses_a_stale_notebook_or_a_leak(tmp_path):
    from grader.authoring.release import bundle_files, leaks
    from grader.course import Course

    course = tmp_path / "course"
    for name in ("exercises", "solutions"):
        shutil.copytree(ROOT / name, course / name, ignore=shutil.ignore_patterns("__pycache__"))
    stubs = course / "exercises/exercise3/logistic_regression.py"
    stubs.write_text(stubs.read_text().replace("Mind the order.", "Mind the order!"))
    done = grade("release", "exercise3", "--out", tmp_path / "out", cwd=course)
    assert done.returncode == 2 and "exercise3.ipynb is out of date" in done.stderr
    assert not (tmp_path / "out").exists()

    files = bundle_files(Course(course).exercise("exercise3"))
    assert leaks(files, course / "solutions" / "exercise3") == []
    pasted = REFERENCE.read_text().split("def compute_gradient_logistic", 1)[1].split("def gradient_descent")[0]
    files["lab_utils.py"] += "\n\ndef helper" + pasted
    assert leaks(files, course / "solutions" / "exercise3") == [
        "lab_utils.py holds the body of compute_gradient_logistic() of exercise3/logistic_regression.py"]
