"""`grade export gradescope`: the zip, set up and run as Gradescope does, under
a temporary root laid out like /autograder.

The export runs as a real `grade` subprocess; the zip is unpacked into
ROOT/source, run_autograder copied to ROOT/run_autograder, and setup.sh run
with MLGRADE_SETUP_PYTHON pointing at this interpreter: the tests have no
network, so the grading environment takes its third-party packages from this
one (setup.sh checks that they are the pinned versions) and installs the
grader from the zip's wheel with `pip --no-index`, as on Gradescope. Then, per
submission, ROOT/submission/ is filled and ROOT/run_autograder run, and
ROOT/results/results.json checked against Gradescope's schema.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from conftest import REFERENCE, ROOT, quiz_key_text
from nbfill import filled_notebook, write_notebook
from processes import reachable
from report_checks import gradescope_problems, gradescope_text_problems

HOSTILE = Path(__file__).parent / "hostile"
PARTS = {"sigmoid": 15, "compute_cost_logistic": 20, "compute_gradient_logistic": 25, "gradient_descent": 20,
         "quiz": 20}
METADATA_SECRET = "earlier hidden result 5510"
# The cost without its 1/m: right only for a single example; the lab's own examples show it, with a hint.
BUGGY = REFERENCE.read_text().replace("return float(np.mean(losses))", "return float(np.sum(losses))")


def _run(args, env=None, timeout=300, cwd=None):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, cwd=cwd or ROOT,
                          env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """The autograder zip of exercise3, written by the real `grade export gradescope`."""
    out = tmp_path_factory.mktemp("export") / "autograder.zip"
    proc = _run([sys.executable, "-m", "grader", "export", "gradescope", "exercise3", "--out", str(out)],
                env={"PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    return out, proc.stdout


class Autograder:
    """An unpacked, set-up autograder under `root`, run as Gradescope runs it."""

    def __init__(self, root: Path):
        self.root = root

    def run(self, files: dict, metadata: dict | None = None, env: dict | None = None, wrap: list | None = None):
        """Upload `files` (relative path -> text or bytes), run run_autograder; returns (results, stdout)."""
        submission, results = self.root / "submission", self.root / "results"
        for folder in (submission, results):
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
        for name, content in files.items():
            path = submission / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content if isinstance(content, bytes) else content.encode())
        meta = self.root / "submission_metadata.json"
        meta.write_text(json.dumps(metadata or {"users": [{"name": "Ada", "email": "ada@example.com", "id": 7}],
                                                "previous_submissions": []}))
        meta.chmod(0o644)
        proc = _run([*(wrap or []), str(self.root / "run_autograder")], cwd=self.root,
                    env={"MLGRADE_AUTOGRADER_ROOT": str(self.root), **(env or {})}, timeout=180)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        text = (results / "results.json").read_text()
        assert gradescope_text_problems(text) == [], text
        return json.loads(text), proc.stdout


@pytest.fixture(scope="module")
def autograder(exported):
    """The zip unpacked into ROOT/source (ROOT outside /tmp, which the sandbox covers) and set up."""
    zip_path, _ = exported
    root = Path(tempfile.mkdtemp(prefix="autograder-", dir="/var/tmp"))
    try:
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(root / "source")
            for info in archive.infolist():  # extractall drops the modes; Gradescope keeps them
                (root / "source" / info.filename).chmod(info.external_attr >> 16 & 0o777)
        shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
        proc = _run(["bash", str(root / "source" / "setup.sh")], cwd=root / "source",
                    env={"MLGRADE_AUTOGRADER_ROOT": str(root), "MLGRADE_SETUP_PYTHON": sys.executable})
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert re.search(r"mlgrade: sandbox level here: \S+", proc.stdout), proc.stdout
        yield Autograder(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _scores(doc):
    return doc["extra_data"]["parts"]


def _by_name(doc):
    return {t["name"]: t for t in doc["tests"]}


# -- the zip ------------------------------------------------------------------------

def test_zip_holds_one_exercise_its_solutions_and_the_grader(exported):
    from grader.authoring.release import bundle_files
    from grader.course import Course

    zip_path, printed = exported
    with zipfile.ZipFile(zip_path) as archive:
        infos = {i.filename: i for i in archive.infolist()}
        wheel_name = next(n for n in infos if n.endswith(".whl"))
        with zipfile.ZipFile(io.BytesIO(archive.read(wheel_name))) as wheel:
            in_wheel = wheel.namelist()
    exercise = Course(ROOT).exercise("exercise3")
    suites = sorted(p.name for p in (ROOT / "solutions" / "exercise3" / "tests").glob("*.py"))
    assert set(infos) == {
        "setup.sh", "run_autograder", "requirements.txt", wheel_name,
        *(f"exercises/exercise3/{name}" for name in bundle_files(exercise)),
        "solutions/exercise3/logistic_regression.py", "solutions/exercise3/quiz_key.toml",
        *(f"solutions/exercise3/tests/{name}" for name in suites),
    }
    assert wheel_name == "mlgrade-0.1.0-py3-none-any.whl"
    assert {stat.S_IMODE(infos[n].external_attr >> 16) for n in ("setup.sh", "run_autograder")} == {0o755}
    assert "grader/cli.py" in in_wheel and "grader/export/runner.py" in in_wheel
    for name in [*infos, *in_wheel]:
        assert not re.search(r"exercise2|linear_regression|__pycache__|\.pyc$|(^|/)\.git", name), name
    assert f"wrote {zip_path}: {len(infos)} files, {zip_path.stat().st_size:,} bytes" in printed
    assert "memory:      2 GB or more" in printed and "Ubuntu 22.04" in printed


def test_zip_leaks_nothing_but_the_solutions_it_grades_with(exported):
    from grader.authoring.release import leaks

    zip_path, _ = exported
    texts = {}
    with zipfile.ZipFile(zip_path) as archive:
        for name in archive.namelist():
            if name.endswith(".whl"):
                with zipfile.ZipFile(io.BytesIO(archive.read(name))) as wheel:
                    texts.update({f"{name}/{m}": wheel.read(m).decode() for m in wheel.namelist()})
            else:
                texts[name] = archive.read(name).decode()
    outside = {name: text for name, text in texts.items() if not name.startswith("solutions/")}
    assert leaks(outside, ROOT / "solutions" / "exercise3") == []
    # Nor of another exercise's (exercise3's suites share a few helper bodies with exercise2's, as they may).
    assert leaks(outside, ROOT / "solutions" / "exercise2") == []
    assert texts["solutions/exercise3/logistic_regression.py"] == REFERENCE.read_text()


def test_requirements_pin_what_is_installed_here(exported):
    zip_path, _ = exported
    with zipfile.ZipFile(zip_path) as archive:
        lines = archive.read("requirements.txt").decode().splitlines()
    pins = dict(line.split("==") for line in lines if "==" in line)
    for name in ("numpy", "pytest", "click", "nbformat", "nbconvert", "matplotlib", "jinja2", "pluggy"):
        assert pins[name] == metadata.version(name), name
    assert "mlgrade" not in pins  # the grader comes from the zip's wheel


def test_export_of_an_unknown_exercise_is_a_one_line_error(run_grade, tmp_path):
    proc = run_grade("export", "gradescope", "exercise9", "--out", tmp_path / "a.zip")
    assert proc.returncode == 2
    assert proc.stderr.startswith("grade: error: unknown exercise 'exercise9'") and "Traceback" not in proc.stderr
    assert not (tmp_path / "a.zip").exists()


def test_run_outside_an_autograder_is_a_one_line_error(run_grade, tmp_path):
    proc = run_grade("export", "run", "gradescope", "exercise3", env={"MLGRADE_AUTOGRADER_ROOT": str(tmp_path)})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == f"grade: error: {tmp_path}/source: no autograder here " \
                                  "(this command runs inside Gradescope's container)"
    assert list(tmp_path.iterdir()) == []  # nothing written


# -- submissions, graded in the container's layout -----------------------------------

def test_correct_module_gets_full_marks_and_hidden_tests_wait_for_the_due_date(autograder):
    doc, log = autograder.run({"logistic_regression.py": REFERENCE.read_text(), "quiz.toml": quiz_key_text()})
    assert doc["score"] == 100 and _scores(doc) == PARTS
    assert all(t["status"] == "passed" and t["score"] == t["max_score"] for t in doc["tests"])
    tests = _by_name(doc)
    # The lab's own examples and the quiz are shown at once; the hidden tests after the due date.
    assert tests["compute_cost_logistic: cost on the lab's data [w=[1,1],b=-3]"]["visibility"] == "visible"
    assert tests["quiz: q1"]["visibility"] == "visible"
    assert tests["sigmoid: sigmoid of a number is a number"]["visibility"] == "after_due_date"
    # So the summary tells no total (Gradescope hides it too until then).
    assert doc["output_format"] == "md" and doc["stdout_visibility"] == "hidden"
    assert "100 / 100" not in doc["output"] and "shown after the due date" in doc["output"]
    assert doc["extra_data"]["isolation"] in doc["output"]
    assert "Total: 100 / 100" in log and "exercise3  (Ada)" in log  # the instructors' log


def test_buggy_notebook_loses_only_the_cost_and_is_told_why(autograder, tmp_path):
    import nbformat

    nb = filled_notebook(BUGGY, quiz={k: v.strip('"') for k, v in
                                      (line.split(" = ") for line in quiz_key_text().splitlines() if " = " in line)})
    notebook = write_notebook(nb, tmp_path / "exercise3.ipynb").read_text()
    nbformat.reads(notebook, as_version=4)
    doc, _ = autograder.run({"exercise3.ipynb": notebook})
    scores = _scores(doc)
    assert {k: v for k, v in scores.items() if k != "compute_cost_logistic"} == \
        {k: v for k, v in PARTS.items() if k != "compute_cost_logistic"}
    assert 0 < scores["compute_cost_logistic"] < PARTS["compute_cost_logistic"]
    assert doc["score"] == sum(scores.values())
    # The lab's two examples fail with one cause: one entry, shown at once (the hidden tests' entry comes later).
    (lab,) = [t for name, t in _by_name(doc).items() if name.startswith("compute_cost_logistic: cost on the lab's")]
    assert lab["status"] == "failed" and lab["visibility"] == "visible" and lab["name"].endswith("(and 1 more)")
    assert lab["output"].startswith("hint: the cost is m times too large: divide the sum by m")
    assert doc["output"].count("the cost is m times too large") == 1  # once, however many tests say it
    # The same grade as `grade --json` gives the same notebook.
    local = tmp_path / "local"
    local.mkdir()
    (local / "exercise3.ipynb").write_text(notebook)
    proc = _run([sys.executable, "-m", "grader", "exercise3", "--submission", str(local / "exercise3.ipynb"),
                 "--json", str(tmp_path / "report.json")], env={"PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert {p["name"]: p["score"] for p in report["parts"]} == scores


def test_zip_upload_with_a_wrapping_folder(autograder):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("lab3/logistic_regression.py", REFERENCE.read_text())
        archive.writestr("lab3/quiz.toml", quiz_key_text())
        archive.writestr("__MACOSX/lab3/._logistic_regression.py", b"\0\1junk")
    doc, _ = autograder.run({"my work.zip": buffer.getvalue()})
    assert doc["score"] == 100 and _scores(doc) == PARTS


def test_module_under_another_name_is_graded_with_a_note(autograder):
    doc, _ = autograder.run({"logreg_final.py": BUGGY})
    assert "graded logreg\\_final.py as logistic\\_regression.py" in doc["output"]
    assert 0 < _scores(doc)["compute_cost_logistic"] < 20 and _scores(doc)["quiz"] == 0


@pytest.mark.parametrize("files, reason", [
    ({}, "nothing was uploaded"),
    ({"report.pdf": b"%PDF-1.4", "notes.txt": "my notes"},
     "the upload holds no logistic_regression.py and no notebook (it holds notes.txt, report.pdf)"),
    ({"bad.zip": b"not a zip at all"}, "bad.zip: not a readable zip file"),
])
def test_wrong_or_missing_upload_scores_0_and_says_what_was_expected(autograder, files, reason):
    doc, _ = autograder.run(files)
    assert doc["score"] == 0 and doc["tests"] == []
    assert doc["extra_data"]["status"] == "error"
    assert "**Not graded:**" in doc["output"] and reason.replace("_", "\\_") in doc["output"]
    assert "Upload logistic\\_regression.py or the notebook exercise3.ipynb" in doc["output"]


# -- hostile submissions in the container's layout ------------------------------------

def _snapshot(root: Path) -> dict:
    found = {}
    for path in [root / "run_autograder", *sorted((root / "source").rglob("*"))]:
        if "__pycache__" in path.parts:
            continue
        info = path.lstat()
        data = hashlib.sha256(path.read_bytes()).hexdigest() if stat.S_ISREG(info.st_mode) else ""
        found[str(path)] = (stat.S_IMODE(info.st_mode), data)
    return found


def _uid_level_reachable() -> bool:
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        return False
    probe = _run(reachable(["/bin/bash", "-c", "true"]))
    return probe.returncode == 0


@pytest.mark.parametrize("level", ["strongest", "uid"])
def test_hostile_submission_cannot_read_solutions_or_forge_results(autograder, level):
    """At the uid level (Gradescope's: root, no namespaces) files are guarded by
    their permissions alone; at the strongest level here, by the sandbox's own root."""
    wrap, env = None, {}
    if level == "uid":
        if not _uid_level_reachable():
            pytest.skip("the uid level needs root on Linux and a private mount namespace for this test")
        # Landlock off: this is about the permissions alone (a container whose kernel lacks it).
        wrap, env = reachable(["/bin/bash"]), {"GRADER_ISOLATION": "uid", "GRADER_LANDLOCK": "0"}
    source = (HOSTILE / "autograder_paths.py").read_text().replace("@ROOT@", str(autograder.root))
    before = _snapshot(autograder.root)
    earlier = {"users": [{"name": "Eve", "id": 9}],
               "previous_submissions": [{"score": 0.0, "results": {"tests": [{"name": METADATA_SECRET}]}}]}
    doc, log = autograder.run({"logistic_regression.py": source, "quiz.toml": quiz_key_text()},
                              metadata=earlier, env=env, wrap=wrap)
    if level == "uid":
        assert doc["extra_data"]["isolation"] == "uid"
    assert _scores(doc) == {**{name: 0 for name in PARTS}, "sigmoid": 15, "quiz": 20}
    assert doc["score"] == 35 and "forged" not in json.dumps(doc)
    text = json.dumps(doc) + log
    for secret in ("Reference solution for exercise3", "def test_", 'q1 = \\"B\\"', METADATA_SECRET):
        assert secret not in text
    assert all("nothing to steal" in t["output"] for t in doc["tests"] if t["tags"] == ["gradient_descent"])
    assert _snapshot(autograder.root) == before


def test_validator_refuses_what_gradescope_cannot_read():
    good = {"tests": [{"name": "sigmoid", "number": "1.1", "score": 1, "max_score": 1, "visibility": "visible"}]}
    assert gradescope_text_problems(json.dumps(good)) == []
    assert gradescope_text_problems("graded!\n" + json.dumps(good))[0].startswith("not one JSON document")
    assert gradescope_text_problems('{"score": NaN}') == ["not one JSON document: NaN is not JSON"]
    twice = {"tests": [good["tests"][0], good["tests"][0]], "output_format": "md"}
    assert gradescope_text_problems(json.dumps(twice)) == ["tests: number '1.1' used more than once"]


# -- the manifest's [gradescope] options, passed to the renderer -------------------------

def test_gradescope_options_are_read_and_checked(tmp_path):
    from grader.course import GradescopeOptions, parse_manifest
    from grader.errors import GraderError

    folder = tmp_path / "ex"
    folder.mkdir()
    base = 'module = "m"\n[[parts]]\nname = "f"\npoints = 1\n'
    (folder / "exercise.toml").write_text(base)
    assert parse_manifest("ex", folder, None).gradescope == GradescopeOptions("after_due_date", False, False)
    (folder / "exercise.toml").write_text(base + '[gradescope]\nhidden_tests = "visible"\nleaderboard = true\n')
    assert parse_manifest("ex", folder, None).gradescope == GradescopeOptions("visible", False, True)
    for bad, says in (('hidden_tests = "later"', "hidden_tests must be one of visible, after_due_date"),
                      ("hide_hidden = 1", "hide_hidden and leaderboard are true or false"),
                      ("colour = true", "[gradescope] has no option 'colour'")):
        (folder / "exercise.toml").write_text(base + f"[gradescope]\n{bad}\n")
        with pytest.raises(GraderError, match=re.escape(says)):
            parse_manifest("ex", folder, None)


def test_renderer_takes_visibility_and_leaderboard_as_parameters():
    from grader.render import gradescope
    from grader.results import GradeResult, PartResult, TestResult

    result = GradeResult("exercise3", 35, [
        PartResult("sigmoid", 15, [TestResult("lab example", False, 0.0, 5.0, "expected 0.5, got 0\nhint: use exp",
                                              hidden=False),
                                   TestResult("secret input", False, 0.0, 10.0, "expected 1, got 2\nhint: secret")]),
        PartResult("quiz", 20, [TestResult("q1", True, 20.0, 20.0, hidden=False)]),
    ], isolation="uid", seconds=1.5)
    shown = gradescope.results(result)  # as `grade --gradescope` writes it: everything shown at once
    assert {t["visibility"] for t in shown["tests"]} == {"visible"} and "leaderboard" not in shown
    assert "20 / 35" in shown["output"] and "secret" in shown["output"]
    later = gradescope.results(result, hidden_tests="after_published", leaderboard=True)
    assert gradescope_problems(later) == []
    assert [t["visibility"] for t in later["tests"]] == ["visible", "after_published", "visible"]
    assert "20 / 35" not in later["output"] and "secret" not in later["output"]
    assert "shown when grades are published" in later["output"] and "use exp" in later["output"]
    assert later["leaderboard"] == [{"name": "Total", "value": 20.0, "order": "desc"},
                                    {"name": "sigmoid", "value": 0.0, "order": "desc"},
                                    {"name": "quiz", "value": 20.0, "order": "desc"}]
