"""Deadlines and late penalties: the course's deadlines.toml, the entries' file times, --submitted-at and
--extensions, through the real `grade batch` and `grade publish` on the class test_lms.py grades once. Every
time is fixed in the files, so no result depends on the clock or the machine's speed."""
import csv
import json
import shutil

import pytest
from test_lms import DEADLINES_TOML, grade, graded_class

LATE = ["submitted_at", "deadline", "days_late", "penalty", "final"]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return graded_class(tmp_path_factory)


@pytest.fixture
def out(graded, tmp_path):
    copy = tmp_path / "out"
    shutil.copytree(graded["out"], copy)
    return copy


def late_columns(out) -> dict:
    with (out / "gradebook.csv").open() as f:
        return {row["id"]: [row["total"], *(row[c] for c in LATE)] for row in csv.DictReader(f)}


def publish(out, *args):
    done = grade("publish", out, *args)
    assert done.returncode == 0, done.stderr
    return done


def test_batch_penalises_by_the_entries_file_times(graded):
    out = graded["out"]
    with (out / "gradebook.csv").open() as f:
        assert next(csv.reader(f))[-6:] == ["note", *LATE]  # after the columns gradebook.csv always had
    deadline = "2026-12-01T23:59:00+01:00"
    assert late_columns(out) == {
        "alice": ["100", "2026-12-01T22:59:00+01:00", deadline, "0", "0", "100"],  # on time
        "bob": ["80", "2026-12-03T11:59:00+01:00", deadline, "2", "20", "60"],  # 1.5 days: 2 started, 20% of 100
        "zed": ["0", "2026-12-11T23:59:00+01:00", deadline, "10", "0", "0"],
        "broken": ["0", "2026-12-01T23:59:00+01:00", deadline, "0", "0", "0"],  # on the dot is on time
    }
    assert ("deadline 2026-12-01T23:59:00+01:00: 10% of the points per started day late, 0 after 5 days\n"
            "  late: 2 (bob, zed); with an extension: 0\n") in graded["done"].stdout


def test_reports_keep_the_raw_score(graded, out, tmp_path):
    times = tmp_path / "times.csv"
    times.write_text("id,submitted_at\nbob,2026-12-09T00:00:00Z\n")
    publish(out, "--submitted-at", times)
    assert late_columns(out)["bob"][-2:] == ["80", "0"]  # more than 5 days late
    assert json.loads((out / "bob" / "report.json").read_text())["score"] == 80
    assert json.loads((out / "bob" / "results.json").read_text())["score"] == 80  # Gradescope's view too


def test_submitted_at_overrides_file_times_up_to_the_cut_off(out, tmp_path):
    times = tmp_path / "times.csv"
    # Exactly 5 days late is the last day penalised; a second more is past max_days.
    times.write_text("id,submitted_at\n Alice ,2026-12-06T23:59:00+01:00\nbob,2026-12-06T23:59:01+01:00\n")
    publish(out, "--submitted-at", times)
    rows = late_columns(out)
    assert rows["alice"] == ["100", "2026-12-06T23:59:00+01:00", "2026-12-01T23:59:00+01:00", "5", "50", "50"]
    assert rows["bob"] == ["80", "2026-12-06T23:59:01+01:00", "2026-12-01T23:59:00+01:00", "6", "80", "0"]
    assert rows["zed"][1] == "2026-12-11T23:59:00+01:00"  # not in the file: its entry's time still counts


def test_an_extension_makes_a_late_submission_on_time(out, tmp_path):
    extensions = tmp_path / "extensions.csv"
    extensions.write_text("id,deadline,days\nBOB,,2\nzed,2026-12-12T00:00:00+01:00,\nghost,,1\n")
    done = publish(out, "--extensions", extensions)
    rows = late_columns(out)
    assert rows["bob"] == ["80", "2026-12-03T11:59:00+01:00", "2026-12-03T23:59:00+01:00", "0", "0", "80"]
    assert rows["zed"][2:4] == ["2026-12-12T00:00:00+01:00", "0"]
    assert rows["alice"][2] == "2026-12-01T23:59:00+01:00"
    assert done.stdout.splitlines()[1:] == [
        "deadline 2026-12-01T23:59:00+01:00: 10% of the points per started day late, 0 after 5 days",
        "  late: 0; with an extension: 2",
        "  extensions for students with no report (ignored): ghost",
    ]
    # Remembered: a later publish with no option keeps the extension; a new file replaces it.
    publish(out)
    assert late_columns(out)["bob"][-1] == "80"
    extensions.write_text("id,days\nalice,1\n")
    publish(out, "--extensions", extensions)
    assert late_columns(out)["bob"][-1] == "60"


@pytest.mark.parametrize("option, text, message", [
    ("--extensions", "id,days\nbob,soon\n", "{file}, line 2: days must be a number, not 'soon'"),
    ("--extensions", "student,days\nbob,1\n", "{file}: needs the columns id and deadline or days (found: student, "
                                               "days)"),
    ("--submitted-at", "id,submitted_at\nbob,2026-12-02 10:00\n", "{file}, line 2: 2026-12-02T10:00:00 has no UTC "
     "offset (write it like 2026-12-01T23:59:00+01:00, or end it with Z for UTC)"),
    ("--submitted-at", "id,submitted_at\nbob,yesterday\n", "{file}, line 2: 'yesterday' is not a date and time "
                                                            "like 2026-12-01T23:59:00+01:00"),
])
def test_a_bad_times_file_is_one_line_and_changes_nothing(out, tmp_path, option, text, message):
    file = tmp_path / "file.csv"
    file.write_text(text)
    before = (out / ".grades.json").read_bytes(), (out / "gradebook.csv").read_bytes()
    done = grade("publish", out, option, file)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", f"grade: error: {message.format(file=file)}\n")
    assert ((out / ".grades.json").read_bytes(), (out / "gradebook.csv").read_bytes()) == before


def test_a_bad_deadline_stops_the_batch_before_grading(graded, tmp_path):
    course = tmp_path / "course"
    shutil.copytree(graded["course"] / "exercises", course / "exercises")
    (course / "deadlines.toml").write_text(DEADLINES_TOML.replace("+01:00", ""))
    done = grade("batch", "exercise3", graded["submissions"], "--out", tmp_path / "out", "--root", course)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (f"grade: error: {course / 'deadlines.toml'} [exercise3]: 2026-12-01T23:59:00 has no UTC "
                           "offset (write it like 2026-12-01T23:59:00+01:00, or end it with Z for UTC)\n")
    assert not (tmp_path / "out").exists()


def test_without_a_deadline_the_gradebook_is_unchanged(graded, tmp_path):
    # A course with no deadlines.toml: the same class re-rendered (nothing graded) into a copy of the folder.
    course = tmp_path / "course"
    for folder in ("exercises", "solutions"):
        shutil.copytree(graded["course"] / folder, course / folder)
    out = tmp_path / "out"
    shutil.copytree(graded["out"], out)
    done = grade("batch", "exercise3", graded["submissions"], "--out", out, "--root", course)
    assert done.returncode == 0, done.stderr
    assert "graded 0, not graded 0, unchanged 4 (skipped)" in done.stdout
    with (out / "gradebook.csv").open() as f:
        assert next(csv.reader(f))[-2:] == ["status", "note"]
    assert not (out / "grades.txt").exists() and "late" not in json.loads((out / ".grades.json").read_text())
