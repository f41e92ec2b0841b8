"""LMS gradebooks: `grade batch` and `grade publish` with --roster and --lms, run as the real command on a
small class graded once (publish never grades): the Canvas and Moodle files row by row, what matches no one,
formula cells, and bad rosters as one line."""
import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import REFERENCE, ROOT, quiz_key_text

DEADLINE = datetime.fromisoformat("2026-12-01T23:59:00+01:00")
DEADLINES_TOML = '[exercise3]\ndeadline = "2026-12-01T23:59:00+01:00"\nlate_penalty = { per_day = 10, max_days = 5 }\n'
# The bias is never updated: only gradient_descent is wrong, and all its 20 points are lost.
UPDATE, BUG = "        b = b - alpha * dj_db\n", "        b = b\n"
_GRADED = {}


def grade(*args):
    """`grade ARGS...` as a subprocess, the way an instructor runs it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "grader", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def _stamp(path: Path, moment: datetime) -> None:
    os.utime(path, (moment.timestamp(), moment.timestamp()))


def graded_class(factory) -> dict:
    """The class graded once per test session (test_late.py shares it): alice on time with full marks,
    bob 1.5 days late by his files' times with one bug (80 raw), zed 10 days late whose module does not
    import, and broken, an entry that cannot be graded. The course has a deadline of 10% per day."""
    if not _GRADED:
        base = factory.mktemp("lms")
        course = base / "course"
        for folder in ("exercises", "solutions"):
            shutil.copytree(ROOT / folder, course / folder, ignore=shutil.ignore_patterns("__pycache__"))
        (course / "deadlines.toml").write_text(DEADLINES_TOML)
        subs = base / "submissions"
        reference, key = REFERENCE.read_text(), quiz_key_text()
        buggy = reference.replace(UPDATE, BUG)
        assert buggy != reference
        for sid, source, when in (("alice", reference, DEADLINE - timedelta(hours=1)),
                                  ("bob", buggy, DEADLINE + timedelta(days=1.5))):
            (subs / sid).mkdir(parents=True)
            for name, text in (("logistic_regression.py", source), ("quiz.toml", key)):
                (subs / sid / name).write_text(text)
                _stamp(subs / sid / name, when)
        (subs / "zed.py").write_text("def sigmoid(z:\n")
        _stamp(subs / "zed.py", DEADLINE + timedelta(days=10))
        (subs / "broken.txt").write_text("not a submission")
        _stamp(subs / "broken.txt", DEADLINE)
        out = base / "out"
        done = grade("batch", "exercise3", subs, "--out", out, "--jobs", 2, "--root", course)
        assert done.returncode == 0, done.stdout + done.stderr
        _GRADED.update(course=course, submissions=subs, out=out, done=done)
    return _GRADED


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return graded_class(tmp_path_factory)


@pytest.fixture
def out(graded, tmp_path):
    """A copy of the graded output folder, for one test to publish into."""
    copy = tmp_path / "out"
    shutil.copytree(graded["out"], copy)
    return copy


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


CANVAS_ROSTER = """Student,ID,SIS User ID,SIS Login ID,Section,exercise3 (4321),Current Score
    Points Possible,,,,,100,
"Smith, Alice",101,S1,alice,A,,
"=HYPERLINK(""http://evil.example"",""Bob"")",102,S2, BOB ,A,,
"Jones, Carol",103,S3,carol,B,,
"Broke, Ben",104,S4,broken,B,,
"""


def test_canvas_file_matches_roster_rows_and_lists_the_rest(out, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(CANVAS_ROSTER)
    done = grade("publish", out, "--roster", roster, "--lms", "canvas")
    assert done.returncode == 0, done.stderr
    assert lines(out / "canvas.csv") == [
        "Student,ID,SIS User ID,SIS Login ID,Section,exercise3 (4321)",  # the export's column: Canvas updates it
        "Points Possible,,,,,100",
        '"Smith, Alice",101,S1,alice,A,100',
        '"\'=HYPERLINK(""http://evil.example"",""Bob"")",102,S2,BOB,A,60',  # 80 raw, 2 started days late
        '"Jones, Carol",103,S3,carol,B,',  # no submission: blank, which Canvas leaves ungraded
        '"Broke, Ben",104,S4,broken,B,',  # not graded: blank too
    ]
    blank = "blank in canvas.csv, which Canvas leaves ungraded"
    matching = [
        f"roster {roster}: 4 students, 3 matched a submission",
        "  submissions that match no roster student (not in canvas.csv): 1",
        "    zed",
        f"  roster students with no submission ({blank}): 1",
        "    Jones, Carol (SIS Login ID carol)",
        f"  submissions that could not be graded ({blank}): 1",
        "    broken",
        f"  wrote {out / 'canvas.csv'}",
    ]
    deadline = ["deadline 2026-12-01T23:59:00+01:00: 10% of the points per started day late, 0 after 5 days",
                "  late: 2 (bob, zed); with an extension: 0"]
    assert lines(out / "grades.txt") == deadline + matching
    assert done.stdout.splitlines()[1:] == deadline + matching  # after "published 4 students ..."


def test_moodle_file_from_a_semicolon_roster_by_email(out, tmp_path):
    roster = tmp_path / "moodle.csv"
    roster.write_text("First name;Last name;ID number;Email address;Assignment: exercise3 (Real)\n"
                      "Alice;Smith;S1;ALICE@uni.example;\nBob;Builder;S2;bob@uni.example;\n"
                      "Zora;Zero;S9;z@uni.example;\n")
    done = grade("publish", out, "--roster", roster, "--lms", "moodle")
    assert done.returncode == 0, done.stderr
    assert lines(out / "moodle.csv") == [
        "Email address,Assignment: exercise3 (Real),Feedback",
        "ALICE@uni.example,100,",
        "bob@uni.example,60,80 points minus 20 for 2 started days late (deadline 2026-12-01T23:59:00+01:00): 60",
        "z@uni.example,,",
    ]
    assert "  submissions that match no roster student (not in moodle.csv): 2\n    broken\n    zed\n" in done.stdout
    assert "  roster students with no submission (blank in moodle.csv): 1\n    Zero, Zora (ID number S9)\n" \
        in done.stdout


def test_ambiguous_and_shared_roster_rows_are_listed_and_left_blank(out, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("SIS Login ID,SIS User ID,Email\nalice,S1,\nal,S2,alice@other.example\nbob,zed,\n")
    done = grade("publish", out, "--roster", roster, "--lms", "canvas")
    assert done.returncode == 0, done.stderr
    assert lines(out / "canvas.csv") == [
        "Student,ID,SIS User ID,SIS Login ID,Section,exercise3", "Points Possible,,,,,100",
        ",,S1,alice,,", ",,S2,al,,", ",,zed,bob,,"]
    assert lines(out / "grades.txt")[2:] == [  # after the deadline's two lines
        f"roster {roster}: 3 students, 0 matched a submission",
        "  submissions that match no roster student (not in canvas.csv): 1",
        "    broken",
        "  submissions that match several roster students (not in canvas.csv): 1",
        "    alice: SIS Login ID alice; SIS Login ID al",
        "  roster students matched by several submissions (blank in canvas.csv, which Canvas leaves ungraded): 1",
        "    SIS Login ID bob: bob, zed",
        f"  wrote {out / 'canvas.csv'}",
    ]


def test_publish_remembers_the_roster_and_batch_takes_a_new_one_without_grading(graded, out, tmp_path):
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text("SIS Login ID\nalice\n")
    second.write_text("login,name\nbob,Bob B\n")
    assert grade("publish", out, "--roster", first, "--lms", "canvas").returncode == 0
    again = grade("publish", out)  # the folder remembers both options
    assert again.returncode == 0, again.stderr
    assert lines(out / "canvas.csv")[2:] == [",,,alice,,100"]
    done = grade("batch", "exercise3", graded["submissions"], "--out", out, "--root", graded["course"],
                 "--roster", second)
    assert done.returncode == 0, done.stderr
    assert "graded 0, not graded 0, unchanged 4 (skipped)" in done.stdout
    assert lines(out / "canvas.csv")[2:] == ["Bob B,,,bob,,60"]
    assert f"roster {second}: 1 student, 1 matched a submission" in done.stdout


@pytest.mark.parametrize("args, message", [
    (["--roster", "{tmp}/missing.csv", "--lms", "canvas"], "{tmp}/missing.csv: the roster cannot be read "
                                                            "(No such file or directory)"),
    (["--roster", "{tmp}/plain.csv", "--lms", "canvas"], "{tmp}/plain.csv: no roster column identifies students "
     "(expected one of SIS Login ID, SIS User ID, ID, Login, Username, ID number, Email address; found: name, "
     "grade)"),
    (["--roster", "{tmp}/emails.csv", "--lms", "canvas"], "{tmp}/emails.csv: Canvas finds students by ID, SIS "
     "User ID or SIS Login ID, and the roster has none of those columns"),
    (["--lms", "moodle"], "--roster CSV and --lms canvas|moodle go together (once given, the output folder "
                          "remembers both)"),
])
def test_a_bad_roster_is_one_line_and_changes_nothing(out, tmp_path, args, message):
    (tmp_path / "plain.csv").write_text("name,grade\nAlice,\n")
    (tmp_path / "emails.csv").write_text("Email address\nalice@uni.example\n")
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    done = grade("publish", out, *(a.format(tmp=tmp_path) for a in args))
    assert (done.returncode, done.stdout, done.stderr) == (2, "", f"grade: error: {message.format(tmp=tmp_path)}\n")
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_the_settings_record_the_roster_text_not_only_its_path(out, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("SIS Login ID\nalice\n")
    assert grade("publish", out, "--roster", roster, "--lms", "canvas").returncode == 0
    roster.unlink()  # publish needs the folder alone
    assert grade("publish", out).returncode == 0
    assert json.loads((out / ".grades.json").read_text())["roster"]["text"] == "SIS Login ID\nalice\n"
