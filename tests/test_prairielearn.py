"""`grade export prairielearn`: the question, and its entrypoint run as
PrairieLearn runs it, under a temporary root laid out like /grade.

The export runs as a real `grade` subprocess. Per submission, a fresh root
(outside /tmp, which the sandbox covers) gets the export's serverFilesCourse/
and the question's tests/, the student's files in student/, and run.sh runs
as a real subprocess with GRADER_PL_ROOT naming that root and this
interpreter's folder first on PATH (standing in for the image's Python
environment, which holds the same pinned packages). Nothing here depends on
how fast the machine is: no time is asserted, and the subprocesses' timeouts
are only there to stop a hung test.
"""
from __future__ import annotations

import base64
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import pytest
from conftest import REFERENCE, ROOT, quiz_key_text
from processes import reachable

NAME = "exercise3"
COURSE = f"mlgrade-{NAME}"
PNG = b"\x89PNG\r\n\x1a\n"
# sigmoid computing 1 / (1 + e^x): its only bug, in both of the reference's branches.
ONE_BUG = (REFERENCE.read_text().replace("math.exp(-z)", "math.exp(z)")
           .replace("np.exp(-np.logaddexp(0.0, -z))", "np.exp(-np.logaddexp(0.0, z))"))
BLANK_QUIZ = (ROOT / "exercises" / NAME / "quiz.toml").read_text()


def _exercise():
    from grader.course import Course

    return Course(ROOT).exercise(NAME)


def _export(run_grade, out: Path, *args):
    proc = run_grade("export", "prairielearn", NAME, "--out", out, *args)
    assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """The course folder written by the real `grade export prairielearn exercise3 --out DIR`, and what it printed."""
    out = tmp_path_factory.mktemp("course")
    proc = subprocess.run([sys.executable, "-m", "grader", "export", "prairielearn", NAME, "--out", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    return out, proc.stdout


class Job:
    """A grading job as PrairieLearn lays it out, under a fresh root."""

    def __init__(self, course: Path):
        self.root = Path(tempfile.mkdtemp(prefix="pl-grade-", dir="/var/tmp"))
        shutil.copytree(course / "serverFilesCourse", self.root / "serverFilesCourse")
        shutil.copytree(course / "questions" / NAME / "tests", self.root / "tests")
        (self.root / "student").mkdir()
        (self.root / "data").mkdir()
        (self.root / "data" / "data.json").write_text(json.dumps({"params": {}, "submitted_answers": {}}))

    def run(self, files: dict, path: str | None = None, wrap: list | None = None, env: dict | None = None):
        """Put `files` (name -> text) in student/, run the entrypoint; returns (results.json, the job's output)."""
        for name, text in files.items():
            (self.root / "student" / name).write_text(text)
        environment = {**os.environ, "GRADER_PL_ROOT": str(self.root), **(env or {}),
                       "PATH": path or f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
        proc = subprocess.run([*(wrap or []), "/bin/bash", str(self.root / "tests" / "run.sh")], capture_output=True,
                              text=True, timeout=180, env=environment, cwd=self.root)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return json.loads((self.root / "results" / "results.json").read_text()), proc.stdout + proc.stderr


@pytest.fixture
def job(exported):
    made = Job(exported[0])
    yield made
    shutil.rmtree(made.root, ignore_errors=True)


def _part(doc, part):
    return [t for t in doc["tests"] if t["name"].startswith(f"{part}: ")]


def _check_results(doc):
    """The fields PrairieLearn and <pl-external-grader-results> read, with their types."""
    assert doc["gradable"] is True and 0 <= doc["score"] <= 1 and isinstance(doc["message"], str)
    assert doc["score"] == doc["points"] / doc["max_points"]
    for test in doc["tests"]:
        assert set(test) - {"images"} == {"name", "description", "points", "max_points", "message", "output"}
        assert all(isinstance(test[k], str) for k in ("name", "description", "message", "output"))
        assert 0 <= test["points"] <= test["max_points"]
        for image in test.get("images", []):
            assert image["label"] and image["url"].startswith("data:image/png;base64,")
            assert base64.b64decode(image["url"].split(",", 1)[1]).startswith(PNG)
    # The tests add up to the score (each rounded to 4 places, so to a hundredth).
    assert abs(sum(t["points"] for t in doc["tests"]) - doc["points"]) < 0.01


# -- the question --------------------------------------------------------------------

def test_info_json_names_the_image_the_entrypoint_and_the_course_files(exported):
    from grader.export.prairielearn import question_uuid

    out, printed = exported
    info = json.loads((out / "questions" / NAME / "info.json").read_text())
    options = info.pop("externalGradingOptions")
    assert info == {"uuid": question_uuid(NAME), "type": "v3", "title": _exercise().title,
                    "topic": "Machine learning", "gradingMethod": "External", "singleVariant": True}
    image = options.pop("image")
    assert re.fullmatch(r"mlgrade-grader:[0-9a-f]{12}", image)
    assert f"docker build --platform linux/amd64 -t {image} {out / 'mlgrade-image'}" in printed
    assert isinstance(options["timeout"], int) and 30 <= options.pop("timeout") <= 600
    assert options == {"enabled": True, "entrypoint": "/grade/tests/run.sh", "serverFilesCourse": [f"{COURSE}/"],
                       "enableNetworking": False}
    assert (out / "serverFilesCourse" / COURSE / "grader" / "export" / "runner.py").is_file()
    run = out / "questions" / NAME / "tests" / "run.sh"
    assert stat.S_IMODE(run.stat().st_mode) == 0o755 and "GRADER_PL_ROOT" in run.read_text()


def test_question_html_uploads_the_exercise_files_and_shows_the_results(exported):
    exercise = _exercise()
    html = (exported[0] / "questions" / NAME / "question.html").read_text()
    assert f'<pl-file-upload file-names="{exercise.module_file}, {exercise.quiz_file}"></pl-file-upload>' in html
    assert '<pl-file-upload file-names="logistic_regression.py, quiz.toml">' in html
    panel = re.search(r"<pl-submission-panel>(.*)</pl-submission-panel>", html, re.S).group(1)
    assert "<pl-external-grader-results></pl-external-grader-results>" in panel
    assert "<pl-file-preview></pl-file-preview>" in panel
    question = re.search(r"<pl-question-panel>(.*)</pl-question-panel>", html, re.S).group(1)
    assert "<code>sigmoid</code>: 15 points" in question and "the quiz: 20 points" in question


def test_course_files_are_the_grader_this_exercise_and_its_solutions_only(exported):
    from grader.authoring.release import bundle_files, leaks

    out, _ = exported
    course = out / "serverFilesCourse" / COURSE
    files = {p.relative_to(course).as_posix() for p in course.rglob("*") if p.is_file()}
    suites = {f"solutions/{NAME}/tests/{p.name}" for p in (ROOT / "solutions" / NAME / "tests").glob("*.py")}
    exercise_files = {f"exercises/{NAME}/{name}" for name in bundle_files(_exercise())}
    assert {f for f in files if not f.startswith("grader/")} == {
        *exercise_files, *suites, f"solutions/{NAME}/logistic_regression.py", f"solutions/{NAME}/quiz_key.toml",
        f"solutions/{NAME}/plots.py"}  # the figures PrairieLearn shows; not equivalent_mutants.toml
    # The grader's modules (compared by name only: others may be editing this checkout meanwhile).
    grader = {f for f in files if f.startswith("grader/")}
    assert all(f.endswith(".py") for f in grader)
    assert {"grader/cli.py", "grader/export/runner.py", "grader/export/prairielearn.py",
            "grader/sandbox/session.py", "grader/sandbox/inside/worker.py"} <= grader
    everything = [p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()]
    assert sorted(p.split("/")[0] for p in everything if not p.startswith(("serverFilesCourse/", "questions/"))) \
        == ["mlgrade-image", "mlgrade-image"]
    for name in everything:
        assert not re.search(r"exercise2|linear_regression|__pycache__|\.pyc$|(^|/)\.git|\.whl$", name), name
    outside = {p: (out / p).read_text() for p in everything if f"/{COURSE}/solutions/" not in f"/{p}"}
    assert leaks(outside, ROOT / "solutions" / NAME) == []


def test_image_installs_the_pinned_packages_into_prairielearns_python_image(exported):
    image = exported[0] / "mlgrade-image"
    dockerfile = (image / "Dockerfile").read_text()
    assert re.search(r"^FROM prairielearn/grader-python$", dockerfile, re.M)
    assert f"uv venv --python {sys.version_info.major}.{sys.version_info.minor} /mlgrade-env" in dockerfile
    pins = dict(line.split("==") for line in (image / "requirements.txt").read_text().splitlines() if "==" in line)
    for name in ("numpy", "pytest", "click", "matplotlib"):
        assert pins[name] == metadata.version(name), name
    assert "mlgrade" not in pins  # the grader comes with the course files


def test_export_again_keeps_the_uuid_and_replaces_only_its_own_folders(run_grade, tmp_path):
    from grader.export.prairielearn import question_uuid

    _export(run_grade, tmp_path)
    first = json.loads((tmp_path / "questions" / NAME / "info.json").read_text())
    stale = tmp_path / "serverFilesCourse" / COURSE / "solutions" / NAME / "tests" / "test_removed.py"
    stale.write_text("def test_gone():\n    assert False\n")
    theirs = [tmp_path / "questions" / "other" / "info.json", tmp_path / "serverFilesCourse" / "lib" / "x.py"]
    for path in theirs:
        path.parent.mkdir(parents=True)
        path.write_text("the course's own")
    _export(run_grade, tmp_path)
    assert json.loads((tmp_path / "questions" / NAME / "info.json").read_text()) == first
    assert not stale.exists() and all(p.read_text() == "the course's own" for p in theirs)
    assert not list(tmp_path.glob(".mlgrade-export-*"))
    assert question_uuid("exercise2") != first["uuid"]


def test_export_refuses_to_replace_another_question_of_that_name(run_grade, tmp_path):
    info = tmp_path / "questions" / NAME / "info.json"
    info.parent.mkdir(parents=True)
    info.write_text('{"uuid": "0b1f4d7e-0000-4000-8000-000000000000"}')
    proc = run_grade("export", "prairielearn", NAME, "--out", tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"grade: error: {info.parent} holds another question")
    assert info.read_text() == '{"uuid": "0b1f4d7e-0000-4000-8000-000000000000"}'
    assert not (tmp_path / "serverFilesCourse").exists()


# -- submissions, graded in PrairieLearn's layout --------------------------------------

def test_reference_solution_scores_1(job):
    doc, log = job.run({"logistic_regression.py": REFERENCE.read_text(), "quiz.toml": quiz_key_text()})
    _check_results(doc)
    assert doc["score"] == 1.0 and doc["points"] == doc["max_points"] == 100
    assert all(t["points"] == t["max_points"] for t in doc["tests"])
    names = [t["name"] for t in doc["tests"]]
    # exercise3's hidden tests wait for the due date on Gradescope; PrairieLearn has no later, so not in full now.
    assert "compute_cost_logistic: cost on the lab's data [w=[1,1],b=-3]" in names and "quiz: q1" in names
    assert "sigmoid: hidden test 1" in names and not any("sigmoid of a number" in n for n in names)
    # The feedback page's figures, each with the first test of its part.
    assert [len(t.get("images", [])) for t in doc["tests"] if t.get("images")] == [1, 2]
    assert "images" in _part(doc, "sigmoid")[0] and "images" in _part(doc, "gradient_descent")[0]
    assert "exercise3: 100 / 100" in doc["message"] and "Total: 100 / 100" in log
    # The solutions were locked away before student code ran.
    assert oct(stat.S_IMODE((job.root / "serverFilesCourse" / COURSE / "solutions").stat().st_mode)) == "0o700"


def test_one_bug_costs_its_part_only_and_says_so(job):
    assert "math.exp(z)" in ONE_BUG and "logaddexp(0.0, z))" in ONE_BUG
    doc, _ = job.run({"logistic_regression.py": ONE_BUG, "quiz.toml": quiz_key_text()})
    _check_results(doc)
    assert doc["gradable"] is True and doc["score"] == doc["points"] / doc["max_points"] < 1
    sigmoid = _part(doc, "sigmoid")
    assert 0 <= sum(t["points"] for t in sigmoid) < 15
    failed = [t for t in sigmoid if t["points"] < t["max_points"]]
    assert failed and all(t["message"].strip() for t in failed)
    for part, points in (("compute_cost_logistic", 20), ("compute_gradient_logistic", 25), ("gradient_descent", 20),
                         ("quiz", 20)):
        assert sum(t["points"] for t in _part(doc, part)) == pytest.approx(points, abs=0.01), part
    assert doc["points"] == pytest.approx(85 + sum(t["points"] for t in sigmoid), abs=0.01)
    assert "✗ sigmoid" in doc["message"]


def test_syntax_error_is_graded_0_with_the_line(job):
    doc, _ = job.run({"logistic_regression.py": "def sigmoid(z):\n    return (1 +\n", "quiz.toml": BLANK_QUIZ})
    _check_results(doc)
    assert doc["score"] == 0 and doc["points"] == 0
    assert "module could not be imported" in doc["message"]
    assert any("SyntaxError" in t["message"] and "line" in t["message"] for t in _part(doc, "sigmoid"))


def test_missing_module_is_graded_0_and_says_what_to_upload(job):
    doc, _ = job.run({"quiz.toml": quiz_key_text()})
    assert doc["gradable"] is True and doc["score"] == 0 and doc["tests"] == []
    assert doc["message"].startswith("Not graded: the upload holds no logistic_regression.py")


@pytest.mark.parametrize("remove, says", [
    (f"exercises/{NAME}", f"unknown exercise '{NAME}'"),
    (f"solutions/{NAME}/tests/test_cost.py", f"solutions/{NAME}/tests/test_cost.py is missing"),
])
def test_grader_fault_is_not_gradable_never_a_score(job, remove, says):
    removed = job.root / "serverFilesCourse" / COURSE / remove
    shutil.rmtree(removed) if removed.is_dir() else removed.unlink()
    doc, log = job.run({"logistic_regression.py": REFERENCE.read_text(), "quiz.toml": quiz_key_text()})
    assert doc["gradable"] is False and "score" not in doc
    assert isinstance(doc["format_errors"], list) and len(doc["format_errors"]) == 1
    assert says in doc["format_errors"][0] and "not your mistake" in doc["format_errors"][0]
    assert "Traceback" in log and f"serverFilesCourse/{COURSE}/grader/" in log  # the exported grader ran


def test_grader_that_cannot_start_is_not_gradable(job, tmp_path):
    (tmp_path / "python3").write_text("#!/bin/sh\nexit 3\n")
    (tmp_path / "python3").chmod(0o755)
    doc, _ = job.run({"logistic_regression.py": REFERENCE.read_text()}, path=f"{tmp_path}{os.pathsep}/usr/bin:/bin")
    assert doc == {"gradable": False, "format_errors": [
        "The grader failed to run (exit status 3). This is not your mistake: tell your instructor."]}


def test_run_outside_a_grading_job_is_a_one_line_error(run_grade, tmp_path):
    proc = run_grade("export", "run", "prairielearn", NAME, env={"GRADER_PL_ROOT": str(tmp_path)})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == f"grade: error: {tmp_path}: no PrairieLearn grading job here (no tests/ folder)"
    assert list(tmp_path.iterdir()) == []


def _uid_level_reachable() -> bool:
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        return False
    return subprocess.run(reachable(["/bin/bash", "-c", "true"]), capture_output=True).returncode == 0


def test_at_the_uid_level_student_code_cannot_read_the_solutions_or_forge_results(job):
    """PrairieLearn's container runs the entrypoint as root, where namespaces are usually refused: the uid
    level, where the solutions are guarded by their permissions (Landlock off here, to test those alone)."""
    if not _uid_level_reachable():
        pytest.skip("the uid level needs root on Linux and a private mount namespace for this test")
    job.root.chmod(0o755)  # as /grade may be: then the solutions' own permissions are all that guards them
    reference = job.root / "serverFilesCourse" / COURSE / "solutions" / NAME / "logistic_regression.py"
    # The reference, but its cost (whose lab examples are shown in full) fails once the solutions could be read.
    cost = "def compute_cost_logistic(X, y, w, b):\n"
    check = "    assert 'Reference solution' not in STOLEN, STOLEN[:60]\n"
    thief = (f"import json\ntry:\n    STOLEN = open({str(reference)!r}).read()\nexcept OSError:\n    STOLEN = ''\n"
             f"try:\n    open({str(job.root / 'results' / 'results.json')!r}, 'w').write(json.dumps({{'score': 1}}))\n"
             "except OSError:\n    pass\n"
             + REFERENCE.read_text().replace(cost, cost + check))
    doc, _ = job.run({"logistic_regression.py": thief, "quiz.toml": quiz_key_text()}, wrap=reachable([]),
                     env={"GRADER_ISOLATION": "uid", "GRADER_LANDLOCK": "0"})
    _check_results(doc)
    assert doc["score"] == 1.0 and "sandbox: uid)" in doc["message"]
