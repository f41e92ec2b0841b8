"""How a call's time is counted: the student's own CPU time, never the clock,
never the time of the reference functions standing in for theirs, against a
limit fitted to what the reference needs for the same call. Each test runs a
real worker; none depends on how fast or busy the machine is (limits are
CPU seconds, and the work asked is far from them either way)."""
from __future__ import annotations

import re

import pytest

from grader.course import Part
from grader.errors import GraderError
from grader.grading.reference import ShownReference
from grader.sandbox.isolation import Limits
from grader.sandbox.session import Sandbox

SOURCE = '''
import signal, time

def burn(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
    return seconds

def nap(seconds):
    time.sleep(seconds)
    return "rested"

def leans_on_helper(times):
    return [helper(0.3) for _ in range(times)]

def loops_in_helper():
    while True:
        helper(0.3)

def passes_on(z):
    return helper(z)

def disarms_and_loops():
    for sig in (signal.SIGPROF, signal.SIGXCPU):
        signal.signal(sig, signal.SIG_IGN)
    signal.setitimer(signal.ITIMER_PROF, 0)
    while True:
        pass

def helper(seconds):
    raise NotImplementedError  # the student's own helper: wrong, so the reference's stands in
'''
# The reference's helper, as a shown part sends it: it burns CPU time, checks it got a copy of an array.
SHOWN = {"source": '''
import time

def helper(value):
    if hasattr(value, "fill"):
        value.fill(0.0)
        return "copied"
    if value == "boom":
        raise ValueError("no such input")
    end = time.process_time() + value
    while time.process_time() < end:
        pass
    return value
''', "names": ["helper"]}


def sandbox(**limits):
    return Sandbox(SOURCE, "timing_demo", Limits(**limits))


def test_a_call_is_stopped_by_its_cpu_time_and_not_by_the_clock(start_mode):
    with sandbox(call_seconds=0.5) as box:
        assert box.call("nap", (1.0,)).value == "rested"  # a second on the clock, no CPU time
        outcome = box.call("burn", (30,))
        assert outcome.kind == "timeout" and outcome.message == "burn() timed out after 0.5 s"
        assert box.call("burn", (0,)).kind == "skipped"  # as for any timeout
        assert box.call("nap", (0,)).value == "rested"  # on a fresh worker


def test_the_limit_grows_to_a_multiple_of_what_the_reference_needs(start_mode):
    asked = []

    def reference_needs(seconds):
        return lambda: asked.append(seconds) or seconds

    with sandbox(call_seconds=0.5, reference_multiple=4) as box:
        assert box.call("burn", (0.2,), reference_seconds=reference_needs(9.0)).ok
        assert asked == []  # under call_seconds, the reference is never asked
        assert box.call("burn", (1.2,), reference_seconds=reference_needs(0.35)).ok  # 4 x 0.35: 1.5 s
        assert asked == [0.35]
        outcome = box.call("burn", (1.2,), reference_seconds=reference_needs(0.05))  # 4 x 0.05 < 0.5: the floor
        assert outcome.kind == "timeout" and outcome.message == "burn() timed out after 0.5 s"


def test_a_limit_that_grew_is_the_one_the_message_gives(start_mode):
    with sandbox(call_seconds=0.5, reference_multiple=4) as box:
        outcome = box.call("burn", (30,), reference_seconds=lambda: 0.3)  # 1.2, rounded up to the half second
        assert outcome.message == "burn() timed out after 1.5 s"


def test_time_inside_stand_ins_run_in_the_worker_is_not_the_students(start_mode):
    # Five calls of 0.3 s in the reference's helper: 1.5 s of CPU time, none of it the student's.
    with sandbox(call_seconds=0.5, helper_seconds=3) as box:
        assert box.call("leans_on_helper", (5,), shown=SHOWN).value == [0.3] * 5


def test_stand_ins_have_a_limit_of_their_own(start_mode):
    with sandbox(call_seconds=0.5, helper_seconds=1) as box:
        outcome = box.call("loops_in_helper", (), shown=SHOWN)
        assert outcome.kind == "timeout"
        assert outcome.message.startswith("loops_in_helper() timed out: the reference functions standing in for "
                                          "yours (judged wrong in their own parts) worked over 1 s for this call")


def test_stand_ins_in_the_worker_act_as_helpers_served_by_the_grader(start_mode):
    import numpy as np

    with sandbox() as box:
        assert box.call("passes_on", (np.ones(3),), shown=SHOWN).value == "copied"
        outcome = box.call("passes_on", ("boom",), shown=SHOWN)
        assert outcome.kind == "exception" and outcome.error_type == "RuntimeError"
        assert outcome.message == "ValueError: no such input"
        # Without a stand-in, the student's own (wrong) helper runs.
        assert box.call("passes_on", (1.0,)).error_type == "NotImplementedError"


def test_time_serving_helpers_in_the_grader_is_not_the_students(start_mode):
    import time

    def burn_here(name, args):
        end = time.process_time() + args[0]
        while time.process_time() < end:
            pass
        return args[0]

    with sandbox(call_seconds=0.5, helper_seconds=3) as box:
        assert box.call("leans_on_helper", (5,), ["helper"], burn_here).value == [0.3] * 5
    with sandbox(call_seconds=0.5, helper_seconds=1) as box:
        outcome = box.call("loops_in_helper", (), ["helper"], burn_here)
        assert outcome.kind == "timeout" and "worked over 1 s for this call" in outcome.message


def test_code_that_disarms_the_count_is_stopped_by_its_cpu_time_all_the_same(start_mode):
    """The worker's own count can be switched off by student code; the grader
    then reads the worker's CPU time from the kernel, and the verdict and its
    message are the same."""
    with sandbox(call_seconds=0.5) as box:
        outcome = box.call("disarms_and_loops", ())
        assert outcome.kind == "timeout" and outcome.message == "disarms_and_loops() timed out after 0.5 s"


def test_a_call_that_waits_for_ever_is_stopped_by_the_wall_clock():
    # The manifest's wait_seconds (5 by default) plus 5x the call's CPU limit: here 0.5 + 0.5.
    with sandbox(call_seconds=0.1, wait_seconds=0.5) as box:
        outcome = box.call("nap", (3600,))
        assert outcome.kind == "timeout"
        assert outcome.message == "nap() timed out: no answer after 1 s (it waited rather than computed)"
    assert Sandbox(SOURCE, "timing_demo", Limits(call_seconds=0.1))._wall_net(0.1) == 5.5


# -- which references may run in the worker ----------------------------------------------------

REFERENCE = '''
"""A reference solution."""
import math
import numpy as np
from functools import reduce as fold

EPS = 1e-12
TABLE = {"a": (1, 2)}
STATE = np.zeros(3)


def _clip(p):
    return np.clip(p, EPS, 1 - EPS)


def first(z):
    """Shown: numpy, a constant, a helper of its own."""
    return _clip(1 / (1 + np.exp(-z)))


def second(X, y):
    try:
        total = fold(lambda a, b: a + b, [math.log(v) for v in first(X)])
    except ValueError as exc:
        total = exc
    return total


def third(X):
    return second(X, X) + first(X)


def leaky(X):
    return STATE + X


def later_user(X):
    return fourth(X)


def fourth(X):
    return X
'''


def parts(*shown):
    return [Part(name, name, 1.0, f"test_{name}.py", public_reference=name in shown)
            for name in ("first", "second", "third", "leaky", "later_user", "fourth")]


def test_a_shown_reference_carries_what_it_uses_and_nothing_else():
    shown = ShownReference(REFERENCE, parts("first", "second"), "ref.py")
    source = shown.bundle(["second"])["source"]
    assert "def second" in source and "def first" in source and "def _clip" in source
    assert "EPS = 1e-12" in source and "import numpy as np" in source
    assert "from functools import reduce as fold" in source and "import math" in source
    assert "def third" not in source and "TABLE" not in source and "STATE" not in source
    assert "A reference solution" not in source
    namespace = {}
    exec(source, namespace)
    assert namespace["first"](0.0) == 0.5
    assert shown.bundle(["first"])["source"].count("def ") == 2  # first and _clip


@pytest.mark.parametrize("marked, message", [
    (("third",), "the reference's third() uses first, which cannot be shown with it"),  # not marked
    (("second", "third"), "the reference's second() uses first, which cannot be shown with it"),
    (("leaky",), "the reference's leaky() uses STATE, which cannot be shown with it"),  # not a literal
    (("later_user", "fourth"), "the reference's later_user() uses fourth, which cannot be shown with it"),
])
def test_a_shown_reference_may_not_carry_another_part_unless_earlier_and_shown(marked, message):
    with pytest.raises(GraderError, match=re.escape(message)):
        ShownReference(REFERENCE, parts(*marked), "ref.py")
