"""Early calls: a long call the manifest declares (the lab's 10000-step run)
is sent to the worker before the tests are collected. The test that makes the
very same call takes its outcome; any other call still gets its own reply; and
an early call that times out is not held against the function unless a test
takes that outcome."""
import json
import time

import numpy as np
import pytest
from conftest import REFERENCE, quiz_key_text

from grader.sandbox.isolation import Limits
from grader.sandbox.session import Sandbox

SOURCE = '''
import json
import time
CALLS = []

def work(n):
    CALLS.append(n)
    return float(n) * 2

def calls():
    return list(CALLS)

def slow(seconds):
    end = time.process_time() + seconds  # CPU time: what a call's limit counts
    while time.process_time() < end:
        pass
    return "done"
'''


def test_an_early_call_runs_once_and_other_calls_keep_their_replies(start_mode):
    with Sandbox(SOURCE, "early_demo") as sandbox:
        ticket = sandbox.call_early("work", (np.array([1.0, 2.0]).sum(),))  # sent before the module is loaded
        assert sandbox.call("work", (5,)).value == 10.0  # waits behind the early call, gets its own reply
        taken = sandbox.take_early(ticket)
        assert taken.ok and taken.value == 6.0
        assert sandbox.call("calls", ()).value == [3.0, 5]  # the early call ran first, and once


def test_an_early_timeout_counts_only_when_taken(start_mode):
    limits = Limits(call_seconds=1.0)
    with Sandbox(SOURCE, "early_demo", limits) as sandbox:
        sandbox.call_early("slow", (30,))
        # Another call first: the early one times out while being waited for,
        # yet `slow` may still be called (a test may call it with other inputs).
        assert sandbox.call("work", (1,)).value == 2.0
        assert sandbox.call("slow", (0,)).value == "done"

    with Sandbox(SOURCE, "early_demo", limits) as sandbox:
        ticket = sandbox.call_early("slow", (30,))
        taken = sandbox.take_early(ticket)
        assert taken.kind == "timeout" and "timed out after 1 s" in taken.message
        assert sandbox.call("slow", (0,)).kind == "skipped"  # as for any call that timed out


def test_an_early_call_to_a_module_that_fails_to_load_is_never_taken():
    with Sandbox("raise ImportError('broken on purpose')\n", "early_demo") as sandbox:
        ticket = sandbox.call_early("work", (1,))
        assert sandbox.take_early(ticket) is None  # the caller then calls as usual
        assert sandbox.call("work", (1,)).kind == "load"


SCRIBBLER = '''
import os, sys

def scribble():
    os.write(int(sys.argv[2]), b"\\x00\\x00\\x00\\x05{{{{{ not a message")  # into the grader's pipe
    return 1

def fine():
    return 2
'''


def test_garbage_from_an_early_call_costs_that_call_only(start_mode):
    with Sandbox(SCRIBBLER, "early_demo") as sandbox:
        ticket = sandbox.call_early("scribble", ())
        time.sleep(1.0)  # the module's "ready" and the garbage now wait in the pipe together
        assert sandbox.wait_ready() is None  # what came before the garbage still counts
        taken = sandbox.take_early(ticket)
        assert taken.kind == "protocol" and "did student code write to the grader's pipe?" in taken.message
        assert sandbox.call("fine", ()).value == 2  # on a fresh worker


CHECKED = SOURCE + '''
def double(x):
    return 2 * x

def wrong(x):
    return 3 * x

def raises(x):
    raise ValueError("not like the reference")

def leaves(x):
    raise SystemExit(3)
'''


@pytest.mark.parametrize("checked, runs", [
    ("double", True),    # answers as the reference did: the early call runs
    ("wrong", False),    # another answer: the tests will find it wrong, so the call waits for them
    ("raises", False),
    ("leaves", False),   # an exit in a check leaves the call unrun, and the worker alive
])
def test_an_early_call_runs_only_when_its_checks_answer_as_the_reference(checked, runs):
    with Sandbox(CHECKED, "early_demo") as sandbox:
        ticket = sandbox.call_early("work", (4,), checks=[(checked, (np.array([1.0, 2.0]),), np.array([2.0, 4.0]))])
        taken = sandbox.take_early(ticket)
        assert (taken is not None and taken.ok and taken.value == 8.0) if runs else taken is None
        assert sandbox.call("calls", ()).value == ([4] if runs else [])  # unrun: never called at all
        assert sandbox.call("work", (1,)).value == 2.0


def test_an_early_check_compares_tuples_and_numbers_leniently():
    checks = [("double", (np.array([0.5]),), (np.float64(1.0),)),  # a tuple: the answer must be a sequence
              ("double", (0.25,), 0.5)]
    with Sandbox(CHECKED, "early_demo") as sandbox:
        assert sandbox.take_early(sandbox.call_early("work", (1,), checks=checks)) is None  # 2 * [0.5] is no tuple
        ticket = sandbox.call_early("work", (2,), checks=checks[1:])
        assert sandbox.take_early(ticket).value == 4.0


LOOPING_CHECKS = CHECKED + '''
def forever(x):
    while True:
        pass

def stubborn(x):  # swallows whatever is raised into it: only the call's own limit stops it
    while True:
        try:
            while True:
                pass
        except BaseException:
            pass

def dies(x):
    os._exit(3)
'''


@pytest.mark.parametrize("checked", ["forever", "stubborn", "dies"])
def test_a_check_that_loops_or_kills_the_worker_leaves_the_call_unrun_not_failed(checked):
    # The early call never ran, so nothing is held against `work`: the test makes the call as usual.
    with Sandbox("import os\n" + LOOPING_CHECKS, "early_demo", Limits(call_seconds=1.0)) as sandbox:
        ticket = sandbox.call_early("work", (4,), checks=[(checked, (1,), 1)])
        assert sandbox.take_early(ticket) is None and sandbox.unrun == ["work"]
        assert sandbox.call("work", (4,)).value == 8.0  # on a fresh worker, and not "not run"


def test_a_check_that_loops_is_given_up_without_losing_the_worker():
    # CHECK_SECONDS of CPU, not the call's limit: the worker is not killed, so a looping helper costs its
    # own tests' one timeout, not a second one here.
    with Sandbox("import os\n" + LOOPING_CHECKS, "early_demo", Limits(call_seconds=30.0)) as sandbox:
        sandbox.wait_ready()
        worker = sandbox.proc.pid
        ticket = sandbox.call_early("work", (4,), checks=[("forever", (1,), 1)])
        assert sandbox.take_early(ticket) is None and sandbox.unrun == ["work"]
        assert sandbox.proc.pid == worker
        assert sandbox.call("work", (4,)).value == 8.0


def test_a_call_that_loops_after_its_checks_passed_has_timed_out():
    looping = CHECKED + "\ndef forever(x):\n    while True:\n        pass\n"
    with Sandbox(looping, "early_demo", Limits(call_seconds=1.0)) as sandbox:
        ticket = sandbox.call_early("forever", (4,), checks=[("double", (1,), 2)])
        taken = sandbox.take_early(ticket)
        assert taken.kind == "timeout" and "forever() timed out after 1 s" in taken.message
        assert sandbox.call("double", (1,)).value == 2  # on a fresh worker


@pytest.mark.parametrize("shown", [True, False])
def test_early_checks_need_a_reference_that_may_be_shown(tmp_path, shown):
    from grader.course import parse_manifest
    from grader.errors import GraderError

    (tmp_path / "exercise.toml").write_text(
        'title = "t"\nmodule = "m"\npoints = 1\n[[parts]]\nname = "f"\npoints = 1\n'
        f'public_reference = {str(shown).lower()}\nearly_checks = [[[1.0, 2.0]], [0.5]]\n')
    if shown:
        [part] = parse_manifest("t", tmp_path, None).parts
        assert part.early_checks == ([[1.0, 2.0]], [0.5])
    else:
        with pytest.raises(GraderError, match="early_checks needs public_reference = true"):
            parse_manifest("t", tmp_path, None)


def test_a_looping_sigmoid_costs_its_own_part_and_one_timeout(grade_cli, make_submission, tmp_path):
    # The lab's early calls check the student's helpers first; a sigmoid that loops must not make
    # cost, gradient or gradient_descent lose points, nor time out a second time in those checks.
    reference = REFERENCE.read_text()
    start = reference.index("def sigmoid(")
    body = reference.index(":\n", start) + 2
    looping = reference[:body] + "    while True:\n        pass\n\n" + reference[reference.index("\ndef ", start + 5):]
    sub = make_submission(looping, quiz=quiz_key_text())
    report = tmp_path / "report.json"
    result = grade_cli("exercise3", "--submission", sub, "--json", report)
    assert result.exit_code == 0, result.output
    parts = {p["name"]: p for p in json.loads(report.read_text())["parts"]}
    assert parts["sigmoid"]["score"] == 0
    assert all(p["score"] == p["max_score"] for name, p in parts.items() if name != "sigmoid")
    timeouts = [t for p in parts.values() for t in p["tests"] if "timed out after" in t["message"]]
    assert len(timeouts) == 1 and timeouts[0]["name"] == "sigmoid of a number is a number"
