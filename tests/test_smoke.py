"""The two verdicts everything else rests on: untouched stubs score 0 and a
copy of the reference (with the right quiz answers) scores 100."""
import json

from conftest import REFERENCE, quiz_key_text


def test_stubs_score_zero_with_not_implemented(grade_cli, tmp_path):
    out = tmp_path / "report.json"
    result = grade_cli("exercise3", "--json", out)
    assert result.exit_code == 0
    report = json.loads(out.read_text())
    assert report["score"] == 0 and report["max_score"] == 100
    for part in report["parts"][:4]:
        assert part["score"] == 0
        assert all("not implemented yet" in t["message"] for t in part["tests"])
    assert "not implemented yet" in result.output


def test_reference_copy_scores_full(grade_cli, make_submission, tmp_path):
    folder = make_submission(REFERENCE.read_text(), quiz=quiz_key_text())
    out = tmp_path / "report.json"
    result = grade_cli("exercise3", "--submission", folder, "--json", out)
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["score"] == 100, result.output
    assert [p["name"] for p in report["parts"]] == [
        "sigmoid", "compute_cost_logistic", "compute_gradient_logistic", "gradient_descent", "quiz"]


def test_canary_passes_for_exercise3():
    from conftest import ROOT

    from grader.course import Course
    from grader.grading import canary

    result, problems = canary.run(Course(ROOT).exercise("exercise3"))
    assert problems == []
    assert result.score == result.max_score == 100
