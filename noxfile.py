"""Sessions that .ci/run runs after the test suite.

`pytest_versions`: the grader drives pytest through a few private APIs
(grader/grading/pytest_internals.py), so the tests of the suites' session run
under the oldest and the newest pytest that pyproject.toml allows.
"""
import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = False

# Oldest and newest supported (pyproject.toml: pytest>=7.4,<10).
PYTEST_VERSIONS = ["7.4.*", "9.*"]
SUITE_TESTS = ["tests/test_suites.py", "tests/test_smoke.py", "tests/test_early_calls.py"]


@nox.session
@nox.parametrize("pytest", PYTEST_VERSIONS)
def pytest_versions(session, pytest):
    """The hidden suites' session, run by its own tests under one pytest version."""
    session.install("-e", ".[test]", f"pytest=={pytest}")
    session.run("python", "-c", "import pytest; print('pytest', pytest.__version__)")
    session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", *SUITE_TESTS)
