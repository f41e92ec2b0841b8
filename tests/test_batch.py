"""`grade batch` over a class of mixed submissions, run as the real command in
real subprocesses: gradebook rows, every student's files, re-runs, a batch
killed with SIGKILL and resumed, the canary, and --force."""
import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from conftest import REFERENCE, ROOT, quiz_key_text
from report_checks import check_page, gradescope_problems

from grader.results import GradeResult
from grader.sandbox.isolation import UID_BASE

CALL_SECONDS = 1
ESCAPEE = "escaped_from_batch_zip.py"
PARTS = ["sigmoid", "compute_cost_logistic", "compute_gradient_logistic", "gradient_descent", "quiz"]
NOT_GRADED = {
    "empty": "holds no logistic_regression.py",
    "escape": "a symbolic link to a place outside the submissions folder",
    "sneaky": "logistic_regression.py is a symbolic link to a place outside the submission",
    "slip": f"the zip was refused: it holds a ../ path (../{ESCAPEE})",
    "rooted": f"the zip was refused: it holds an absolute path (/tmp/{ESCAPEE})",
    "notes": "not a folder, a .py file, a .ipynb notebook or a .zip file",
    "garbled": "",  # an unreadable notebook; its wording belongs to the notebook loader
}


def batch(*args, timeout=300):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "grader", "batch", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A copy of the course whose calls time out after CALL_SECONDS, so the looping student is quick
    (still well above the reference's longest call, the lab's 10000-iteration run)."""
    root = tmp_path_factory.mktemp("course")
    for folder in ("exercises", "solutions"):
        shutil.copytree(ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    manifest = root / "exercises" / "exercise3" / "exercise.toml"
    manifest.write_text(re.sub(r"(?m)^call_seconds = .*$", f"call_seconds = {CALL_SECONDS}", manifest.read_text()))
    return root


def make_class(folder: Path, course: Path) -> Path:
    """One entry per kind of student: correct, buggy, broken, hostile, zipped, and bad entries."""
    folder.mkdir()
    reference, key = REFERENCE.read_text(), quiz_key_text()
    (folder / "correct").mkdir()
    (folder / "correct" / "logistic_regression.py").write_text(reference)
    (folder / "correct" / "quiz.toml").write_text(key)
    # Records the cost before each update instead of after: only gradient_descent is wrong.
    buggy = reference.replace(
        "        w = w - alpha * dj_dw\n        b = b - alpha * dj_db\n"
        "        J_history.append(compute_cost_logistic(X, y, w, b))",
        "        J_history.append(compute_cost_logistic(X, y, w, b))\n"
        "        w = w - alpha * dj_dw\n        b = b - alpha * dj_db")
    assert buggy != reference
    (folder / "buggy.py").write_text(buggy)
    (folder / "broken.py").write_text("import numpy as np\n\ndef sigmoid(z)\n    return 1 / (1 + np.exp(-z))\n")
    (folder / "looping").mkdir()
    looping = reference.replace("    J_history = []\n", "    while True:\n        pass\n", 1)
    assert looping != reference
    (folder / "looping" / "logistic_regression.py").write_text(looping)
    (folder / "looping" / "quiz.toml").write_text(key)
    with zipfile.ZipFile(folder / "zipped.zip", "w") as archive:
        archive.writestr("zipped/logistic_regression.py", reference)
        archive.writestr("zipped/quiz.toml", key)
    with zipfile.ZipFile(folder / "slip.zip", "w") as archive:
        archive.writestr("logistic_regression.py", reference)
        archive.writestr(f"../{ESCAPEE}", "print('escaped')")
    with zipfile.ZipFile(folder / "rooted.zip", "w") as archive:
        archive.writestr(f"/tmp/{ESCAPEE}", "print('escaped')")
    (folder / "empty").mkdir()
    (folder / "escape").symlink_to(course / "solutions" / "exercise3")
    (folder / "sneaky").mkdir()
    (folder / "sneaky" / "logistic_regression.py").symlink_to(
        course / "solutions" / "exercise3" / "logistic_regression.py")
    (folder / "garbled.ipynb").write_text("{ this is not a notebook")
    (folder / "notes.txt").write_text("grades are due on Friday")
    (folder / ".DS_Store").write_text("ignored")
    return folder


@pytest.fixture(scope="module")
def first(course, tmp_path_factory):
    """The class graded once at --jobs 2."""
    base = tmp_path_factory.mktemp("batch")
    submissions = make_class(base / "submissions", course)
    out = base / "out"
    done = batch("exercise3", submissions, "--out", out, "--jobs", 2, "--root", course)
    assert done.returncode == 0, done.stdout + done.stderr
    return submissions, out, done


def gradebook(out: Path) -> dict:
    return {row["id"]: row for row in csv.DictReader((out / "gradebook.csv").open())}


def states(out: Path) -> set:
    return {p.parent.name for p in out.glob("*/.batch.json")}


def test_gradebook_rows(first):
    _, out, done = first
    rows = gradebook(out)
    assert set(rows) == {"correct", "buggy", "broken", "looping", "zipped", *NOT_GRADED}  # .DS_Store is no student
    assert list(next(csv.reader((out / "gradebook.csv").open()))) == ["id", "total", *PARTS, "status", "note"]
    points = {sid: [row[p] for p in PARTS] for sid, row in rows.items()}
    assert points["correct"] == points["zipped"] == ["15", "20", "25", "20", "20"]
    assert rows["correct"]["total"] == "100" and rows["correct"]["status"] == "graded"
    assert (points["buggy"][:3] == ["15", "20", "25"] and 0 < float(points["buggy"][3]) < 20
            and points["buggy"][4] == "0")
    assert points["broken"] == ["0"] * 5 and rows["broken"]["status"] == "graded"  # graded: a syntax error scores 0
    assert (rows["broken"]["note"].startswith("module could not be imported: ")
            and "SyntaxError" in rows["broken"]["note"])
    summary = (out / "summary.html").read_text()
    assert "<td>import</td>" not in summary and "<td>every part</td>" in summary  # one row, not one per part
    assert "1 student whose module could not be imported (every test failed) is not counted" in summary
    # The infinite loop costs only its own part.
    assert points["looping"] == ["15", "20", "25", "0", "20"] and rows["looping"]["total"] == "80"
    assert rows["looping"]["note"] == "gradient_descent: timed out" and rows["correct"]["note"] == ""
    for sid, reason in NOT_GRADED.items():
        assert (rows[sid]["status"], rows[sid]["total"]) == ("error", "0"), sid
        assert reason in rows[sid]["note"], (sid, rows[sid]["note"])
    assert "graded 5, not graded 7, unchanged 0" in done.stdout
    assert "canary" not in done.stdout
    assert not (Path("/tmp") / ESCAPEE).exists() and not list(out.parent.rglob(ESCAPEE))


def test_every_student_gets_complete_files(first):
    _, out, _ = first
    for folder in sorted(p for p in out.iterdir() if p.is_dir()):
        report = json.loads((folder / "report.json").read_text())
        result = GradeResult.from_dict(report)
        assert result.student == folder.name and [p.name for p in result.parts] == PARTS
        page = check_page((folder / "feedback.html").read_text())
        results = json.loads((folder / "results.json").read_text())
        assert gradescope_problems(results) == [], folder.name
        assert results["score"] == result.score and isinstance(results["execution_time"], float)
        if result.status == "graded":
            assert len(page.images) == 3, folder.name  # sigmoid, cost history, decision boundary
            assert ([f["name"] for f in report["artifacts"]["figures"]]
                    == ["sigmoid_curve", "cost_history", "decision_boundary"])
        else:
            assert page.images == [] and f"Not graded: {result.error}" in page.text
    looping = json.loads((out / "looping" / "report.json").read_text())
    messages = [t["message"] for t in looping["parts"][3]["tests"]]
    # call_seconds, or 5x the reference's CPU time for the lab's run when more: on a slow or busy machine, more.
    limit = re.search(r"^gradient_descent\(\) timed out after ([\d.]+) s", messages[0])
    assert limit and float(limit[1]) >= CALL_SECONDS, messages[0]
    assert "not run: gradient_descent() timed out in an earlier test" in messages[-1]
    notes = {f["name"]: f["notes"] for f in looping["artifacts"]["figures"]}
    assert notes["sigmoid_curve"] == []
    # The figure reuses the outcome of the suite's lab run (its very limit) rather than waiting again.
    assert notes["cost_history"] == [f"your cost history could not be drawn: gradient_descent() timed out "
                                     f"after {limit[1]} s"]
    summary = check_page((out / "summary.html").read_text())
    assert len(summary.images) == 1 and "12 students: 5 graded, 7 not graded." in summary.text
    assert "J_history holds the cost before each update" in summary.text  # buggy's hint, among common failures


def test_second_run_grades_nothing_and_a_change_grades_one(first, course):
    submissions, out, _ = first
    before = {p: p.stat().st_mtime_ns for p in out.glob("*/*")}
    again = batch("exercise3", submissions, "--out", out, "--root", course)
    assert again.returncode == 0, again.stderr
    assert "graded 0, not graded 0, unchanged 12 (skipped)" in again.stdout
    assert re.search(r"\n  not graded \((\d+); \1 as an earlier run recorded\):\n", again.stdout), again.stdout
    assert {p: p.stat().st_mtime_ns for p in out.glob("*/*")} == before
    (submissions / "buggy.py").write_text((submissions / "buggy.py").read_text() + "\n# one more comment\n")
    changed = batch("exercise3", submissions, "--out", out, "--root", course)
    assert "graded 1, not graded 0, unchanged 11 (skipped)" in changed.stdout
    touched = {p.parent.name for p, t in before.items() if p.stat().st_mtime_ns != t}
    assert touched == {"buggy"}


def test_hide_hidden_rerenders_student_files_without_grading(first, course):
    submissions, out, _ = first
    record = (out / "buggy" / "report.json").read_text()
    done = batch("exercise3", submissions, "--out", out, "--root", course, "--hide-hidden")
    assert "graded 0, not graded 0, unchanged 0 (skipped), re-rendered 12" in done.stdout
    assert (out / "buggy" / "report.json").read_text() == record  # the record is not regraded nor changed
    hint = "J_history holds the cost before each update"
    assert hint in record
    for name in ("feedback.html", "results.json"):
        text = (out / "buggy" / name).read_text()
        assert hint not in text and "hidden test failed" in text
        # A test on the lab's own example (marked visible) is shown in full: its inputs are no secret.
        assert "the lab&#x27;s run" in text or "the lab's run" in text
        assert "J_history[::1000]" in text
    assert "q1" in (out / "buggy" / "results.json").read_text()  # the quiz is not hidden


def child_pids(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def sandbox_processes(uids: set) -> list[int]:
    """Live processes running as one of `uids` (the sandbox uids of grading processes)."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        if int(fields.get("Uid", "-1").split()[0]) in uids and not fields.get("State", "").strip().startswith("Z"):
            found.append(int(status.parent.name))
    return found


def test_killed_batch_resumes_to_the_same_gradebook(first, course, tmp_path):
    _, out_first, _ = first
    submissions = tmp_path / "submissions"
    shutil.copytree(first[0], submissions, symlinks=True)
    (submissions / "buggy.py").write_text((first[0] / "buggy.py").read_text())  # as graded in `first`
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "grader", "batch", "exercise3", str(submissions), "--out", str(out),
                             "--jobs", "2", "--root", str(course)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(states(out)) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    graders = child_pids(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = states(out)
    assert 2 <= len(done_before) < 12, "the batch was not caught mid-run"
    deadline = time.monotonic() + 10
    while any(alive(p) for p in graders) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(p) for p in graders), "grading processes outlived the killed batch"
    # Nor does any worker or student code they started (each grader's sandbox runs as UID_BASE + its pid).
    uids = {UID_BASE + p for p in graders}
    while sandbox_processes(uids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sandbox_processes(uids) == []
    for path in out.glob("*/*"):  # whatever exists is whole
        if path.name.endswith(".json") and not path.name.startswith("."):
            json.loads(path.read_text())
        elif path.name == "feedback.html":
            check_page(path.read_text())
    resumed = batch("exercise3", submissions, "--out", out, "--jobs", 2, "--root", course)
    assert resumed.returncode == 0, resumed.stderr
    assert f"unchanged {len(done_before)} (skipped)" in resumed.stdout
    assert (out / "gradebook.csv").read_text() == (out_first / "gradebook.csv").read_text()
    assert not [p for p in out.glob("*/.*") if p.name != ".batch.json"]  # no temporary file left over


def test_canary_failure_stops_before_any_student(course, tmp_path):
    broken = tmp_path / "course"
    shutil.copytree(course, broken)
    reference = broken / "solutions" / "exercise3" / "logistic_regression.py"
    reference.write_text(reference.read_text().replace("return dj_db, dj_dw", "return dj_dw, dj_db"))
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    shutil.copy(REFERENCE, submissions / "ann.py")
    done = batch("exercise3", submissions, "--out", tmp_path / "out", "--root", broken)
    assert done.returncode == 2
    assert ("grade: error: grader configuration error: the reference solution does not pass its own grading"
            in done.stderr)
    assert "compute_gradient_logistic" in done.stderr
    assert not (tmp_path / "out" / "ann").exists()


def test_force_grades_again(course, tmp_path):
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    shutil.copy(REFERENCE, submissions / "ann.py")
    out = tmp_path / "out"
    assert ("graded 1, not graded 0, unchanged 0"
            in batch("exercise3", submissions, "--out", out, "--root", course).stdout)
    forced = batch("exercise3", submissions, "--out", out, "--root", course, "--force")
    assert "graded 1, not graded 0, unchanged 0" in forced.stdout
    assert gradebook(out)["ann"]["total"] == "80"  # no quiz.toml beside a .py


def test_zip_members_are_checked_before_anything_is_written(tmp_path):
    from grader.errors import GraderError
    from grader.submissions.entries import MAX_ZIP_BYTES, submission_root, unpack_zip

    def unpack(name, members, link=None):
        path = tmp_path / f"{name}.zip"
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for member, text in members:
                archive.writestr(member, text)
            if link:
                info = zipfile.ZipInfo(link)
                info.external_attr = 0o120777 << 16  # a symbolic link, as zip -y stores it
                archive.writestr(info, "/etc/passwd")
        dest = tmp_path / name
        dest.mkdir()
        try:
            unpack_zip(path, dest)
            return submission_root(dest).relative_to(dest).as_posix()
        except GraderError as exc:
            assert list(dest.iterdir()) == []  # refused before writing anything
            return str(exc)

    assert unpack("nested", [("ann/work/logistic_regression.py", "x = 1"), ("ann/work/quiz.toml", ""),
                             ("__MACOSX/ann/._logistic_regression.py", "junk")]) == "ann/work"
    assert unpack("single", [("ann.py", "x = 1")]) == "ann.py"
    assert unpack("windows", [("ann\\logistic_regression.py", "x = 1"), ("ann\\quiz.toml", "")]) == "ann"
    assert unpack("dotdot", [("ok.py", ""), ("ann/../../x.py", "")]) == \
        "the zip was refused: it holds a ../ path (ann/../../x.py)"
    assert unpack("drive", [("C:/x.py", "")]) == "the zip was refused: it holds an absolute path (C:/x.py)"
    assert unpack("link", [("quiz.toml", "")], link="logistic_regression.py") == \
        "the zip was refused: it holds a symbolic link (logistic_regression.py)"
    assert unpack("bomb", [("big.py", "0" * (MAX_ZIP_BYTES + 1))]) == "the zip unpacks to more than 50 MB"
    assert unpack("empty", []) == "the zip is empty"


def test_the_exercise_fingerprint_covers_what_decides_a_grade_and_nothing_else(tmp_path):
    """A batch regrades everyone when the fingerprint changes: so must any file that can change a verdict."""
    from grader.batch.run import exercise_fingerprint
    from grader.course import Course

    for folder in ("exercises", "solutions"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))

    def fingerprint():
        return exercise_fingerprint(Course(tmp_path).exercise("exercise3"))

    def edit(path):
        path.write_text(path.read_text() + "\n# edited\n")

    seen = [fingerprint()]
    for decides in ("exercises/exercise3/lab_utils.py", "exercises/exercise3/exercise.toml",
                    "solutions/exercise3/tests/test_sigmoid.py", "solutions/exercise3/quiz_key.toml"):
        edit(tmp_path / decides)
        seen.append(fingerprint())
        assert seen[-1] not in seen[:-1], f"{decides} changed and the fingerprint did not"
    edit(tmp_path / "exercises" / "exercise3" / "README.md")  # what students read decides nothing
    assert fingerprint() == seen[-1]
