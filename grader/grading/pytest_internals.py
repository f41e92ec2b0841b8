"""Every use of pytest's private API, in one place.

The hidden suites run as one pytest session per process that is collected once
and re-run for each submission (suites.py, plugin.py), much as pytest-xdist's
workers run the items they are handed. pytest has no public API for that, so
these few internals are used, and nothing else of `_pytest` anywhere:

- `_pytest.config._prepareconfig(args, plugins)`: a Config built from
  command-line arguments, as `pytest.main` builds it, without running a session;
- `Config._do_configure()`: calls the plugins' `pytest_configure` hooks;
- `Session._setupstate.teardown_exact(None)`: tears every fixture down, the
  session-scoped ones too;
- `Item._request` and `Item._initrequest()`: a test's fixture request, made
  anew so that an item can run again;
- `Item.funcargs`: the fixture values of an item's last run, dropped after it.

pyproject.toml bounds pytest to the versions these are checked with; the
`pytest_versions` session of noxfile.py runs the suites' own tests under the
oldest and the newest of them.
"""
from __future__ import annotations


def make_config(args: list[str], plugins: list):
    """A configured pytest Config for `args`, with `plugins` registered, and its Session."""
    import pytest
    from _pytest.config import _prepareconfig

    config = _prepareconfig(args, plugins)
    config._do_configure()
    return config, pytest.Session.from_config(config)


def teardown_all(session) -> None:
    """Tear down every fixture the session's tests set up, of every scope."""
    session._setupstate.teardown_exact(None)


def ready_to_run(item) -> None:
    """Give an item that ran before (for another submission) a fresh fixture request."""
    if not item._request:
        item._initrequest()


def forget_run(item) -> None:
    """Drop what an item's run left on it (its fixture request and values)."""
    item._request = False
    item.funcargs = None
