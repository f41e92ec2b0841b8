"""The hidden suites are collected once per process and run again for every
submission: nothing a test or fixture did for one submission reaches the next,
an edited suite is collected again, and a suite that cannot be collected is a
one-line error naming the file."""
import os
import time
from pathlib import Path

import pytest

from grader.course import Course
from grader.errors import GraderError
from grader.grading import grade
from grader.submissions import load_submission

MODULE_STATE = '''

@pytest.fixture(scope="module")
def seen():
    """Module-scoped: one list for every test of the module, within one submission."""
    marks = []
    yield marks
    marks.clear()
'''

SEEN_TEST = '''

@pytest.mark.points(1)
def test_first_of_this_submission(student, seen, make_case):
    """the module-scoped list starts empty for each submission"""
    assert not seen, f"left over from an earlier submission: {seen}"
    seen.append(student.predict(*make_case(3, 2)).shape)
'''


@pytest.fixture
def demo(run_grade, tmp_path):
    """A scaffolded exercise `demo` whose suite holds a module-scoped fixture."""
    (tmp_path / "exercises").mkdir()
    assert run_grade("new", "demo", cwd=tmp_path).returncode == 0
    tests = tmp_path / "solutions/demo/tests"
    (tests / "conftest.py").write_text((tests / "conftest.py").read_text() + MODULE_STATE)
    (tests / "test_predict.py").write_text((tests / "test_predict.py").read_text() + SEEN_TEST)
    return tmp_path


def _submission(course: Path, name: str, comment: str) -> Path:
    folder = course / "subs" / name
    folder.mkdir(parents=True)
    (folder / "demo.py").write_text((course / "solutions/demo/demo.py").read_text() + f"\n# {comment}\n")
    return folder


def test_every_submission_starts_with_fresh_fixtures(demo):
    exercise = Course(demo).exercise("demo")
    for i in range(3):  # one process, one collection, three submissions
        result = grade(exercise, load_submission(exercise, _submission(demo, f"s{i}", f"student {i}")))
        failed = [t.message for p in result.parts for t in p.tests if not t.passed]
        assert result.part("predict").score == result.part("predict").max_score, failed


def test_an_edited_suite_is_collected_again(demo):
    exercise = Course(demo).exercise("demo")
    submission = load_submission(exercise, _submission(demo, "s", "one student"))
    assert grade(exercise, submission).part("predict").score == 80
    suite = demo / "solutions/demo/tests/test_predict.py"
    suite.write_text(suite.read_text() + '\n\ndef test_added_later(student):\n    """added later"""\n'
                     '    assert False, "added"\n')
    stamp = time.time() + 5  # a new mtime even on coarse-grained file systems
    os.utime(suite, (stamp, stamp))
    result = grade(exercise, submission)
    assert [t.message for t in result.part("predict").tests if not t.passed] == ["added"]


def test_a_suite_that_cannot_be_collected_is_a_one_line_error(demo, run_grade):
    suite = demo / "solutions/demo/tests/test_predict.py"
    suite.write_text(suite.read_text() + "\ndef broken(:\n")
    exercise = Course(demo).exercise("demo")
    with pytest.raises(GraderError, match=r"could not be collected: test_predict\.py: .*SyntaxError"):
        grade(exercise, load_submission(exercise, _submission(demo, "s", "x")))
    done = run_grade("demo", "--submission", str(_submission(demo, "t", "y")), cwd=demo)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "could not be collected: test_predict.py" in done.stderr, done.stderr


FIXED_TEST = '''

@pytest.mark.points(1)
def test_fixed_input(student, reference):
    """predict on one fixed input"""
    args = (np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0.5, -0.5]), 1.0)
    assert np.allclose(student.predict(*args), reference.predict(*args)), "wrong"
'''


@pytest.mark.parametrize("declared, problem", [
    ("[[[1.0, 2.0], [3.0, 4.0]], [0.5, -0.5], 1.0]", None),
    ("[[[1, 2], [3, 4]], [0.5, -0.5], 1.0]",  # int X
     "no test of predict() makes the early call the manifest declares"),
])
def test_check_tells_when_an_early_call_matches_no_test(demo, run_grade, declared, problem):
    suite = demo / "solutions/demo/tests/test_predict.py"
    suite.write_text("import numpy as np\n" + suite.read_text() + FIXED_TEST)
    manifest = demo / "exercises/demo/exercise.toml"
    manifest.write_text(manifest.read_text().replace('suite = "test_predict.py"\n',
                                                     f'suite = "test_predict.py"\nearly_calls = [{declared}]\n'))
    checked = run_grade("check", "demo", "--no-mutation", cwd=demo)
    if problem is None:
        assert checked.returncode == 0, checked.stdout
        assert "✓ early calls taken by the tests: predict 1" in checked.stdout, checked.stdout
    else:
        assert checked.returncode == 1 and problem in checked.stdout, checked.stdout
        assert "✓ reference scores 100 / 100" in checked.stdout  # the reference itself is fine


@pytest.mark.parametrize("check, answer, problem", [
    ("[[[1.0, 2.0], [3.0, 4.0]], [0.5, -0.5], 1.0]", "X @ w + b", None),
    ("[[1.0, 2.0], 1.0]", "X @ w + b", "the reference's predict() refuses the early check [[1.0, 2.0], 1.0]: "),
    ("[[[1.0, 2.0]], [0.5, -0.5], 1.0]", "{float(b)}",
     "the reference's predict() answers the early check [[[1.0, 2.0]], [0.5, -0.5], 1.0] with a set, which the "
     "worker cannot be sent"),
])
def test_check_tells_when_the_reference_refuses_an_early_check(demo, run_grade, check, answer, problem):
    manifest = demo / "exercises/demo/exercise.toml"
    declared = f'suite = "test_predict.py"\npublic_reference = true\nearly_checks = [{check}]\n'
    manifest.write_text(manifest.read_text().replace('suite = "test_predict.py"\n', declared))
    reference = demo / "solutions/demo/demo.py"
    reference.write_text(reference.read_text().replace("return X @ w + b", f"return {answer}"))
    checked = run_grade("check", "demo", "--no-mutation", cwd=demo)
    if problem is None:
        assert checked.returncode == 0, checked.stdout
        assert "✓ early checks the reference answers: predict 1" in checked.stdout, checked.stdout
        # demo's only part has no later part to make an early call: the checks are never made
        assert "note: predict()'s early checks are never made" in checked.stdout, checked.stdout
    else:
        assert checked.returncode == 1 and problem in checked.stdout, checked.stdout
