"""Mistakes that cancel out: a part that passes only with the student's own
wrong helper keeps its points, and every report says so under that part
(which helper, and that fixing it will change this part's verdict)."""
import json
import linecache

from conftest import REFERENCE, ROOT, quiz_key_text

from grader.notebook_check.run import check_in

SOURCE = REFERENCE.read_text()
# The gradient forgets to divide dj_dw by m; descent divides it by m itself.
UNDIVIDED = SOURCE.replace("dj_dw = X.T @ err / m", "dj_dw = X.T @ err")
COMPENSATING = UNDIVIDED.replace("w = w - alpha * dj_dw", "w = w - alpha * dj_dw / X.shape[0]")
# The gradient fixed, descent's own division left: what the note warns of.
FIXED_GRADIENT_ONLY = SOURCE.replace("w = w - alpha * dj_dw", "w = w - alpha * dj_dw / X.shape[0]")
CANCEL = "only with your own compute_gradient_logistic()"


def test_sources_differ_as_described():
    assert len({SOURCE, UNDIVIDED, COMPENSATING, FIXED_GRADIENT_ONLY}) == 4


def grade(grade_cli, make_submission, tmp_path, source, *options):
    folder = make_submission(source, quiz_key_text(), name=f"sub{len(list(tmp_path.iterdir()))}")
    out = tmp_path / f"{folder.name}.json"
    run = grade_cli("exercise3", "--submission", folder, "--json", out, "--html", tmp_path / f"{folder.name}.html",
                    *options)
    return run, json.loads(out.read_text()), (tmp_path / f"{folder.name}.html").read_text()


def parts(report):
    return {p["name"]: p for p in report["parts"]}


def test_the_part_keeps_its_points_and_every_report_names_the_helper(grade_cli, make_submission, tmp_path):
    run, report, page = grade(grade_cli, make_submission, tmp_path, COMPENSATING)
    found = parts(report)
    assert found["gradient_descent"]["score"] == 20 and found["compute_gradient_logistic"]["score"] < 25
    assert report["score"] == 100 - (25 - found["compute_gradient_logistic"]["score"])
    # The flag is on the tests, only those of the part that leans on the helper.
    flagged = {name: [t["leans_on"] for t in p["tests"] if t["leans_on"]] for name, p in found.items()}
    assert flagged["gradient_descent"] and all(f == ["compute_gradient_logistic"] for f in flagged["gradient_descent"])
    assert not any(flagged[name] for name in flagged if name != "gradient_descent")
    # The terminal says it right under gradient_descent's line, although the part has full marks.
    lines = run.output.splitlines()
    at = next(i for i, line in enumerate(lines) if "gradient_descent" in line and "20 / 20" in line)
    assert CANCEL in lines[at + 1] and "this part will fail" in lines[at + 1]
    assert sum(CANCEL in line for line in lines) == 1
    assert CANCEL in page and page.index(CANCEL) > page.index('id="part-gradient_descent"')
    # Hidden tests summarised: the note stays (it names the student's own function, no hidden input).
    hidden, _, hidden_page = grade(grade_cli, make_submission, tmp_path, COMPENSATING, "--hide-hidden")
    assert CANCEL in hidden.output and CANCEL in hidden_page


def unflagged_scores(grade_cli, make_submission, tmp_path, source):
    """Grade `source`, check that no test leans on a helper and no report says so; its scores by part."""
    run, report, page = grade(grade_cli, make_submission, tmp_path, source)
    found = parts(report)
    assert not any(t["leans_on"] for p in found.values() for t in p["tests"])
    assert "cancel out" not in run.output and "cancel out" not in page
    return {name: p["score"] for name, p in found.items()}


def test_fixing_the_helper_changes_the_verdict_the_note_warned_of(grade_cli, make_submission, tmp_path):
    scores = unflagged_scores(grade_cli, make_submission, tmp_path, FIXED_GRADIENT_ONLY)
    assert scores["compute_gradient_logistic"] == 25 and scores["gradient_descent"] < 20


def test_a_lone_wrong_helper_flags_nothing(grade_cli, make_submission, tmp_path):
    """The reference stands in for the wrong gradient and descent passes: no leaning, no note."""
    scores = unflagged_scores(grade_cli, make_submission, tmp_path, UNDIVIDED)
    assert scores["gradient_descent"] == 20 and scores["compute_gradient_logistic"] < 25


def test_check_says_so_in_the_notebook(monkeypatch):
    namespace = {"__name__": "__main__"}
    linecache.cache["<cell compensating>"] = (len(COMPENSATING), None, COMPENSATING.splitlines(True),
                                              "<cell compensating>")
    exec(compile(COMPENSATING, "<cell compensating>", "exec"), namespace)
    monkeypatch.chdir(ROOT)
    checked = check_in(namespace, "gradient_descent")
    assert checked.passed  # the points are kept
    descent = checked.result.part("gradient_descent")
    assert descent.score == 20 and descent.leans_on == ["compute_gradient_logistic"]
    assert CANCEL in repr(checked) and CANCEL in checked._repr_html_()
    alone = check_in(namespace, "compute_cost_logistic")
    assert "cancel out" not in repr(alone) and "cancel out" not in alone._repr_html_()
