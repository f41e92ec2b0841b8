"""Early calls: a long call the manifest declares (the lab's 10000-step run)
is sent to the worker before the tests are collected. The test that makes the
very same call takes its outcome; any other call still gets its own reply; and
an early call that times out is not held against the function unless a test
takes that outcome."""
import time

import numpy as np
import pytest

from grader.sandbox import zygote
from grader.sandbox.isolation import Limits
from grader.sandbox.session import Sandbox

SOURCE = '''
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


@pytest.fixture(params=["spawned", "forked"])
def start_mode(request):
    """Workers started as fresh interpreters, and forked from the fork server."""
    if request.param == "forked":
        zygote.enable()
        yield request.param
        zygote.disable()
    else:
        yield request.param


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
