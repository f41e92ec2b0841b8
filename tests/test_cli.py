"""The `grade` command's contract: exit statuses, one-line errors, the JSON
report's schema, and grading of modules that cannot even be imported."""
import json

import pytest
from conftest import REFERENCE, ROOT, quiz_key_text


def one_line_error(result, fragment):
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("grade: error:"), result.stderr
    assert fragment in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_unknown_exercise_is_a_one_line_error(run_grade):
    one_line_error(run_grade("nosuch"), "unknown exercise 'nosuch' (known: exercise2, exercise3)")
    one_line_error(run_grade("exercse3"),
                   "unknown exercise 'exercse3' (did you mean 'exercise3'? known: exercise2, exercise3)")


def test_the_exercise_folder_path_names_the_exercise(run_grade, make_submission):
    folder = make_submission(REFERENCE.read_text())
    done = run_grade("exercises/exercise3/", "--submission", folder)  # as the shell completes it
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("exercise3\n") and "Total: 80 / 100" in done.stdout, done.stdout  # no quiz.toml: 80


def test_missing_submission_path_is_a_one_line_error(run_grade, tmp_path):
    one_line_error(run_grade("exercise3", "--submission", tmp_path / "nope"), "no such file or folder")


def test_folder_without_the_module_is_a_one_line_error(run_grade, tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    one_line_error(run_grade("exercise3", "--submission", tmp_path), "holds no logistic_regression.py")


def test_outside_a_course_is_a_one_line_error(run_grade, tmp_path):
    one_line_error(run_grade("exercise3", cwd=tmp_path), "no course found")


def test_root_option_finds_the_course_from_anywhere(run_grade, tmp_path):
    result = run_grade("list", "--root", ROOT, cwd=tmp_path)
    assert result.returncode == 0
    assert "exercise3" in result.stdout and "Logistic regression by gradient descent" in result.stdout
    assert "100 points" in result.stdout


def test_a_report_that_cannot_be_written_costs_no_other_report(run_grade, make_submission, tmp_path):
    """An unwritable --html is a one-line error after the grade: the terminal
    report is printed and the --json beside it written all the same."""
    folder = make_submission(REFERENCE.read_text(), quiz_key_text())
    (tmp_path / "a_file").write_text("")
    done = run_grade("exercise3", "--submission", folder, "--html", tmp_path / "a_file" / "report.html",
                     "--json", tmp_path / "report.json")
    one_line_error(done, f"cannot write {tmp_path / 'a_file' / 'report.html'}: Not a directory")
    assert "Total: 100 / 100" in done.stdout
    assert json.loads((tmp_path / "report.json").read_text())["score"] == 100


def test_json_report_schema_and_partial_credit(grade_cli, make_submission, tmp_path):
    buggy = REFERENCE.read_text().replace("dj_db = float(np.sum(err) / m)", "dj_db = float(np.sum(err))")
    folder = make_submission(buggy, quiz='q1 = "B"\nq2 = "A"\nq3 = "A"\nq4 = ""\n')
    out = tmp_path / "out" / "report.json"
    result = grade_cli("exercise3", "--submission", folder, "--json", out)
    assert result.exit_code == 0
    report = json.loads(out.read_text())
    assert {"exercise", "score", "max_score", "parts"} <= set(report)
    assert report["exercise"] == "exercise3"
    for part in report["parts"]:
        assert {"name", "score", "max_score", "tests"} <= set(part)
        for test in part["tests"]:
            assert {"name", "passed", "score", "max_score", "message"} <= set(test)
            assert test["score"] == (test["max_score"] if test["passed"] else 0)
        assert part["score"] == pytest.approx(sum(t["score"] for t in part["tests"]), abs=0.01)
    parts = {p["name"]: p for p in report["parts"]}
    gradient = parts["compute_gradient_logistic"]
    assert 0 < gradient["score"] < gradient["max_score"] or gradient["score"] == 0
    assert all(parts[n]["score"] == parts[n]["max_score"]
               for n in ("sigmoid", "compute_cost_logistic", "gradient_descent"))
    assert parts["quiz"]["score"] == 8  # two of five answers right
    messages = {t["name"]: t["message"] for t in parts["quiz"]["tests"]}
    assert messages == {"q1": "", "q2": "'A' is not correct", "q3": "", "q4": "no answer given",
                        "q5": "no answer given"}
    assert report["score"] == pytest.approx(sum(p["score"] for p in report["parts"]))


def test_fail_under_sets_exit_status(grade_cli, make_submission):
    folder = make_submission(REFERENCE.read_text(), quiz=quiz_key_text())
    assert grade_cli("exercise3", "--submission", folder, "--fail-under", 100).exit_code == 0
    stub = grade_cli("exercise3", "--fail-under", 50)
    assert stub.exit_code == 1
    assert "Total: 0 / 100" in stub.output


def test_syntax_error_is_graded_zero_with_its_line(grade_cli, make_submission, tmp_path):
    source = REFERENCE.read_text().replace("def sigmoid(z):", "def sigmoid(z)")
    line = next(i for i, text in enumerate(source.splitlines(), 1) if text.startswith("def sigmoid(z)"))
    out = tmp_path / "r.json"
    result = grade_cli("exercise3", "--submission", make_submission(source, quiz=quiz_key_text()), "--json", out)
    assert result.exit_code == 0
    report = json.loads(out.read_text())
    for part in report["parts"][:4]:
        assert part["score"] == 0
        assert "SyntaxError" in part["tests"][0]["message"]
        assert f"line {line}" in part["tests"][0]["message"]
    assert report["parts"][4]["score"] == 20  # the quiz does not depend on the module


def test_import_time_exception_is_graded_zero_with_its_line(grade_cli, make_submission, tmp_path):
    source = REFERENCE.read_text() + "\nDATA = np.loadtxt('data.csv')\n"
    out = tmp_path / "r.json"
    result = grade_cli("exercise3", "--submission", make_submission(source), "--json", out)
    assert result.exit_code == 0
    report = json.loads(out.read_text())
    message = report["parts"][0]["tests"][0]["message"]
    assert "FileNotFoundError" in message and f"line {len(source.splitlines())}" in message
    assert report["score"] == 0


def test_a_py_saved_with_the_notebooks_check_cells_is_told_what_to_hand_in(grade_cli, make_submission):
    source = "from grader import check\n" + REFERENCE.read_text() + "\ncheck('sigmoid')\n"
    result = grade_cli("exercise3", "--submission", make_submission(source))
    assert "No module named 'grader'" in result.output
    assert "hint: the lab notebook's check cells import grader; hand in the notebook itself" in result.output


@pytest.mark.parametrize("name, target", [("logistic_regression.py", "logistic_regression.py"),
                                          ("quiz.toml", "quiz_key.toml")])
def test_a_link_out_of_the_submission_is_refused_as_a_batch_refuses_it(run_grade, make_submission, name, target):
    """A link to the solutions would have them graded (and one to any other file, shown)."""
    folder = make_submission(REFERENCE.read_text(), quiz_key_text())
    (folder / name).unlink()
    (folder / name).symlink_to(ROOT / "solutions" / "exercise3" / target)
    one_line_error(run_grade("exercise3", "--submission", folder),
                   f"{folder / name}: a symbolic link to a place outside the submission")
    if name.endswith(".py"):  # named on its own, the link is refused too
        one_line_error(run_grade("exercise3", "--submission", folder / name),
                       f"{folder / name}: a symbolic link to a place outside the submission")


def test_a_link_inside_the_submission_is_followed(run_grade, make_submission):
    folder = make_submission(REFERENCE.read_text(), quiz_key_text())
    (folder / "mine.py").symlink_to("logistic_regression.py")
    done = run_grade("exercise3", "--submission", folder / "mine.py")
    assert done.returncode == 0, done.stderr
    assert "Total: 80 / 100" in done.stdout  # a lone .py brings no quiz


def test_single_py_file_submission(grade_cli, tmp_path):
    path = tmp_path / "mine.py"
    path.write_text(REFERENCE.read_text())
    result = grade_cli("exercise3", "--submission", path)
    assert result.exit_code == 0
    assert "Total: 80 / 100" in result.output


def test_hidden_test_source_never_shown(grade_cli, make_submission):
    buggy = REFERENCE.read_text().replace("return dj_db, dj_dw", "return dj_dw, dj_db")
    result = grade_cli("exercise3", "--submission", make_submission(buggy))
    assert "return order is swapped" in result.output
    for suite in (ROOT / "solutions" / "exercise3" / "tests").glob("test_*.py"):
        for line in suite.read_text().splitlines():
            code = line.strip()
            if len(code) > 25 and not code.startswith(("#", '"""', "@", "def ", "import ", "from ")):
                assert code not in result.output


def test_help_word_shows_the_usage(run_grade):
    result = run_grade("help")
    assert result.returncode == 0
    assert "grade EXERCISE [OPTIONS]" in result.stdout and "batch" in result.stdout


def test_an_unreadable_quiz_is_said_once_with_the_reason(grade_cli, make_submission, tmp_path):
    folder = make_submission(REFERENCE.read_text(), quiz='q1 = "B\nq2 = C\n')  # an unclosed string
    result = grade_cli("exercise3", "--submission", folder, "--json", tmp_path / "r.json")
    assert result.exit_code == 0, result.output
    quiz = next(p for p in json.loads((tmp_path / "r.json").read_text())["parts"] if p["name"] == "quiz")
    assert quiz["score"] == 0 and "quiz.toml could not be read" in quiz["note"] and "not valid TOML" in quiz["note"]
    assert {t["message"] for t in quiz["tests"]} == {"no answer: quiz.toml could not be read"}


def test_a_quiz_saved_as_utf16_is_no_traceback(grade_cli, make_submission, tmp_path):
    folder = make_submission(REFERENCE.read_text())
    (folder / "quiz.toml").write_bytes('q1 = "B"\n'.encode("utf-16"))  # what Notepad may save
    result = grade_cli("exercise3", "--submission", folder, "--json", tmp_path / "r.json")
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    quiz = next(p for p in json.loads((tmp_path / "r.json").read_text())["parts"] if p["name"] == "quiz")
    assert "not UTF-8 text (save it as UTF-8)" in quiz["note"] and quiz["score"] == 0


def test_a_quiz_answer_that_is_not_text_is_told_how_to_write_it(grade_cli, make_submission, tmp_path):
    folder = make_submission(REFERENCE.read_text(), quiz='q1 = 3\nq2 = ["C"]\n')
    result = grade_cli("exercise3", "--submission", folder, "--json", tmp_path / "r.json")
    assert result.exit_code == 0, result.output
    quiz = next(p for p in json.loads((tmp_path / "r.json").read_text())["parts"] if p["name"] == "quiz")
    messages = {t["name"]: t["message"] for t in quiz["tests"]}
    assert messages["q1"] == '3 is not a letter: write the answer in quotes, like q1 = "B"'
    assert messages["q2"] == "['C'] is not a letter: write the answer in quotes, like q2 = \"B\""
