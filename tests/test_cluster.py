"""`grade batch --cluster`: a class graded on a Dask cluster of local worker
processes (LocalCluster on 127.0.0.1, no network), run as the real command in
real subprocesses. Its files match a local batch's byte for byte (timings
aside) and share its resume state; a worker killed mid-batch costs a retry,
not a student; a killed client resumes; a worker with another course, or
whose canary fails, refuses before any student; a batch without --cluster
never imports Dask."""
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
from nbfill import filled_notebook, write_notebook

pytest.importorskip("distributed")

from grader.batch.remote import COURSE_ENV, WorkerRefused, grade_student, identity  # noqa: E402
from grader.batch.transfer import header, pack  # noqa: E402
from grader.course import Course, tomllib  # noqa: E402
from grader.results import GradeResult  # noqa: E402
from grader.submissions.entries import scan  # noqa: E402

TIMINGS = {"report.json": ("seconds", "student_seconds"), "results.json": ("execution_time",)}
# Imports of the real command, reported when it exits (a guarded main: Dask's workers import __main__ again).
WRAPPER = """import atexit, sys
atexit.register(lambda: print("imported:", sorted({m.split(".")[0] for m in sys.modules} & {"dask", "distributed"}),
                              file=sys.stderr))
if __name__ == "__main__":
    from grader.cli import main
    main()
"""


def grade_batch(*args, wrapper: Path | None = None, env: dict | None = None, timeout: float = 300, popen=False):
    command = [sys.executable, *([str(wrapper)] if wrapper else ["-m", "grader"]), "batch", *map(str, args)]
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    if popen:
        return subprocess.Popen(command, cwd=ROOT, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
    return subprocess.run(command, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=timeout)


def make_class(folder: Path) -> Path:
    """Correct, buggy, notebook, zipped, broken, and entries that cannot be graded."""
    folder.mkdir()
    reference, key = REFERENCE.read_text(), quiz_key_text()
    (folder / "correct").mkdir()
    (folder / "correct" / "logistic_regression.py").write_text(reference)
    (folder / "correct" / "quiz.toml").write_text(key)
    buggy = reference.replace("return dj_db, dj_dw", "return dj_db, -dj_dw")
    assert buggy != reference
    (folder / "buggy.py").write_text(buggy)
    write_notebook(filled_notebook(reference, tomllib.loads(key)), folder / "inked.ipynb")
    with zipfile.ZipFile(folder / "zipped.zip", "w") as archive:
        archive.writestr("zipped/logistic_regression.py", reference)
        archive.writestr("zipped/quiz.toml", key)
    (folder / "broken.py").write_text("import numpy as np\n\ndef sigmoid(z)\n    return 1 / (1 + np.exp(-z))\n")
    with zipfile.ZipFile(folder / "slip.zip", "w") as archive:
        archive.writestr("logistic_regression.py", reference)
        archive.writestr("../escaped_from_cluster_zip.py", "print('escaped')")
    (folder / "empty").mkdir()
    (folder / "sneaky").mkdir()
    (folder / "sneaky" / "logistic_regression.py").symlink_to(REFERENCE)
    (folder / "notes.txt").write_text("not a submission")
    return folder


def make_correct_class(folder: Path, count: int) -> Path:
    for i in range(count):
        student = folder / f"s{i:02d}"
        student.mkdir(parents=True)
        (student / "logistic_regression.py").write_text(REFERENCE.read_text())
        (student / "quiz.toml").write_text(quiz_key_text())
    return folder


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """The same class graded by a local batch (--jobs 2) and on --cluster local:2."""
    base = tmp_path_factory.mktemp("cluster")
    submissions = make_class(base / "submissions")
    wrapper = base / "grade_wrapper.py"
    wrapper.write_text(WRAPPER)
    local = grade_batch("exercise3", submissions, "--out", base / "local", "--jobs", 2, wrapper=wrapper)
    assert local.returncode == 0, local.stderr
    cluster = grade_batch("exercise3", submissions, "--out", base / "cluster", "--cluster", "local:2",
                          wrapper=wrapper)
    assert cluster.returncode == 0, cluster.stderr
    return submissions, base / "local", base / "cluster", local, cluster


def gradebook(out: Path) -> dict:
    return {row["id"]: row for row in csv.DictReader((out / "gradebook.csv").open())}


def without_timings(path: Path) -> str:
    """The file's text with the grading time (which differs from run to run) blanked."""
    if path.name in TIMINGS:
        data = json.loads(path.read_text())
        for key in TIMINGS[path.name]:
            data[key] = 0
        text = json.dumps(data, indent=2)
    else:
        text = path.read_text()
    return re.sub(r"([Gg]raded in) [0-9.]+ s", r"\1 - s", text)  # also the time inside a summary's text


def test_cluster_writes_the_local_batch_files(both):
    _, local, cluster, local_run, cluster_run = both
    rows = gradebook(cluster)
    assert [rows[s]["total"] for s in ("correct", "inked", "zipped")] == ["100"] * 3
    assert 0 < float(rows["buggy"]["total"]) < 100 and rows["broken"]["total"] == "0"
    assert {s for s, r in rows.items() if r["status"] == "error"} == {"slip", "empty", "sneaky", "notes"}
    assert "a symbolic link to a place outside the submission" in rows["sneaky"]["note"]  # refused by the client
    assert "graded 5, not graded 4, unchanged 0" in cluster_run.stdout
    assert "graded 5, not graded 4, unchanged 0" in local_run.stdout
    assert "cluster local:2: 2 workers, grading 2 at once" in cluster_run.stderr
    assert (cluster / "gradebook.csv").read_bytes() == (local / "gradebook.csv").read_bytes()
    assert (cluster / "summary.html").read_bytes() == (local / "summary.html").read_bytes()
    files = sorted(p.relative_to(local) for p in local.glob("*/*"))
    assert files == sorted(p.relative_to(cluster) for p in cluster.glob("*/*")) and len(files) == 9 * 4
    for name in files:
        assert without_timings(cluster / name) == without_timings(local / name), name
    timed = json.loads((cluster / "correct" / "report.json").read_text())
    assert timed["seconds"] > 0 and timed["student_seconds"] > 0  # timings are kept, only not compared


def test_without_cluster_dask_is_never_imported(both):
    *_, local_run, cluster_run = both
    assert "imported: []" in local_run.stderr
    assert "imported: ['dask', 'distributed']" in cluster_run.stderr


def test_local_and_cluster_runs_share_resume_state(both):
    submissions, local, cluster, *_ = both
    again = grade_batch("exercise3", submissions, "--out", cluster, "--jobs", 2)
    assert "graded 0, not graded 0, unchanged 9 (skipped)" in again.stdout, again.stderr
    nothing = grade_batch("exercise3", submissions, "--out", local, "--cluster", "local:2")
    assert "graded 0, not graded 0, unchanged 9 (skipped)" in nothing.stdout, nothing.stderr
    assert "cluster" not in nothing.stderr  # nothing to grade: no cluster is started


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, also those started by its other threads (Dask's, the helpers' owners)."""
    found, todo = [], [pid]
    while todo:
        children = []
        for thread in Path(f"/proc/{todo.pop()}/task").glob("*/children"):
            try:
                children += [int(c) for c in thread.read_text().split()]
            except OSError:
                pass
        todo += children
        found += children
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def states(out: Path) -> set:
    return {p.parent.name for p in out.glob("*/.batch.json")}


def wait_for(condition, seconds: float = 240) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


def test_a_killed_worker_costs_a_retry_not_a_student(tmp_path):
    submissions = make_correct_class(tmp_path / "submissions", 10)
    out = tmp_path / "out"
    batch = grade_batch("exercise3", submissions, "--out", out, "--cluster", "local:2", popen=True)
    try:
        assert wait_for(lambda: states(out) or batch.poll() is not None)
        # A worker grading a student: a process Dask spawned, with a grading process of ours below it.
        workers = [p for p in descendants(batch.pid) if "spawn_main" in command_line(p)]
        busy = [w for w in workers if any("grader.batch.helper" in command_line(c) for c in descendants(w))]
        assert busy and len(states(out)) < 10, "the batch was not caught mid-run"
        below = descendants(busy[0])
        os.kill(busy[0], signal.SIGKILL)
        assert wait_for(lambda: not any(alive(p) for p in below), 30), "grading processes outlived their worker"
        stdout, stderr = batch.communicate(timeout=300)
    finally:
        if batch.poll() is None:
            batch.kill()
    assert batch.returncode == 0, stderr
    # Recorded exactly once each: ten results counted, ten state files, every score whole.
    assert "graded 10, not graded 0, unchanged 0" in stdout
    assert len(states(out)) == 10
    assert [row["total"] for row in gradebook(out).values()] == ["100"] * 10


def test_a_killed_client_leaves_nothing_running_and_resumes(tmp_path):
    submissions = make_correct_class(tmp_path / "submissions", 10)
    out = tmp_path / "out"
    batch = grade_batch("exercise3", submissions, "--out", out, "--cluster", "local:2", popen=True)
    try:
        assert wait_for(lambda: len(states(out)) >= 2 or batch.poll() is not None)
        below = descendants(batch.pid)
        batch.send_signal(signal.SIGKILL)
        batch.wait()
    finally:
        if batch.poll() is None:
            batch.kill()
    done = states(out)
    assert 2 <= len(done) < 10, "the batch was not caught mid-run"
    assert wait_for(lambda: not any(alive(p) for p in below), 30), "workers or graders outlived the client"
    # Resumed without a cluster: what the killed run recorded is all a rerun reads (one Dask start fewer).
    resumed = grade_batch("exercise3", submissions, "--out", out, "--jobs", 2)
    assert resumed.returncode == 0, resumed.stderr
    assert f"graded {10 - len(done)}, not graded 0, unchanged {len(done)} (skipped)" in resumed.stdout
    assert [row["total"] for row in gradebook(out).values()] == ["100"] * 10
    assert not [p for p in out.glob("*/.*") if p.name != ".batch.json"]  # no temporary file left over


def course_copy(tmp_path: Path) -> Path:
    root = tmp_path / "course"
    for folder in ("exercises", "solutions"):
        shutil.copytree(ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_a_worker_with_another_course_refuses_before_any_student(tmp_path):
    other = course_copy(tmp_path)
    suite = other / "solutions" / "exercise3" / "tests" / "test_sigmoid.py"
    suite.write_text(suite.read_text() + "\n# changed on this worker only\n")
    submissions = make_correct_class(tmp_path / "submissions", 2)
    done = grade_batch("exercise3", submissions, "--out", tmp_path / "out", "--cluster", "local:1",
                       env={COURSE_ENV: str(other)})
    assert done.returncode == 2
    message = done.stderr.strip().splitlines()[-1]
    assert re.fullmatch(rf"grade: error: worker tcp://127\.0\.0\.1:\d+ has another version of exercise3 at "
                        rf"{re.escape(str(other))} \(fingerprint \w{{12}}, the client's \w{{12}}\): "
                        r"give every worker the same course folder", message), message
    assert "Traceback" not in done.stderr
    assert not list((tmp_path / "out").glob("s*"))


@pytest.fixture
def helpers_stopped():
    """Tasks run in this process here: stop the warm grading processes they leave for the next task."""
    yield
    from grader.batch import remote

    for helpers in remote._idle.values():
        for helper in helpers:
            helper.kill()
    remote._idle.clear()


def test_a_worker_whose_canary_fails_grades_nobody(tmp_path, helpers_stopped):
    broken = course_copy(tmp_path)
    reference = broken / "solutions" / "exercise3" / "logistic_regression.py"
    reference.write_text(reference.read_text().replace("return dj_db, dj_dw", "return dj_dw, dj_db"))
    job = {"root": str(broken), "exercise": "exercise3", "identity": identity(Course(broken).exercise("exercise3"))}
    entry = scan(make_correct_class(tmp_path / "submissions", 1))[0]
    with pytest.raises(WorkerRefused, match="the reference solution does not pass its own grading.*"
                                            "compute_gradient_logistic"):
        grade_student(job, header(entry), pack(entry))  # as a Dask task would, in a thread of this process


def test_a_task_grades_an_entry_from_its_bytes(tmp_path, helpers_stopped):
    job = {"root": str(ROOT), "exercise": "exercise3", "identity": identity(Course(ROOT).exercise("exercise3"))}
    entry = scan(make_class(tmp_path / "submissions"))[0]  # broken.py
    result = GradeResult.from_dict(json.loads(grade_student(job, header(entry), pack(entry))))
    assert (result.student, result.status, result.score) == ("broken", "graded", 0)
    assert "SyntaxError" in result.parts[0].tests[0].message


def test_cluster_option_errors_are_one_line(grade_cli, tmp_path, monkeypatch):
    submissions = make_correct_class(tmp_path / "submissions", 1)
    for value, message in [("local:0", "local:N takes a number of workers from 1 to 64"),
                           ("local:x", "local:N takes a number of workers from 1 to 64"),
                           ("my laptop", "expected local:N, a scheduler address such as tcp://host:8786")]:
        done = grade_cli("batch", "exercise3", submissions, "--out", tmp_path / "out", "--cluster", value)
        assert done.exit_code == 2 and message in done.output, done.output
    done = grade_cli("batch", "exercise3", submissions, "--out", tmp_path / "out", "--cluster", "local:2", "--jobs", 2)
    assert done.exit_code == 2 and "--jobs and --cluster do not go together" in done.output
    from grader.batch.cluster import run_on_cluster
    from grader.errors import GraderError

    monkeypatch.setitem(sys.modules, "distributed", None)  # as if Dask were not installed
    with pytest.raises(GraderError, match=r"needs Dask's distributed scheduler: pip install 'mlgrade\[cluster\]'"):
        run_on_cluster(None, [], "local:2", {})


def test_an_unreachable_scheduler_is_a_one_line_error(monkeypatch):
    from grader.batch import cluster
    from grader.errors import GraderError

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", "1s")  # nothing listens on port 9: no need to wait 10 s
    with pytest.raises(GraderError, match=r"^cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9 \(.+\)$"):
        with cluster.connect("tcp://127.0.0.1:9"):
            pass
