"""Running the learner's function inside a check (grading/harness.py), on the real broker:
errors are reported, not raised; a function that never returns is cut off in time; nothing it
prints or warns reaches stderr, where nbgrader would score the cell zero."""

from __future__ import annotations

import threading
import time

from autograder.grading.exercises import EXERCISES
from autograder.grading.verdict import run_check


def test_learner_code_that_raises_is_reported_not_propagated(bootstrap, namespace):
    def publish_orders(bootstrap, topic, orders):
        return orders[99]

    result = run_check(bootstrap, namespace, "send-keyed", publish_orders)
    assert not result.passed and "IndexError" in result.found


def test_learner_code_that_loops_forever_is_cut_off_well_inside_the_cell_timeout(
    bootstrap, namespace
):
    stop = threading.Event()

    def publish_orders(bootstrap, topic, orders):
        while not stop.is_set():
            time.sleep(0.05)

    started = time.monotonic()
    try:
        result = run_check(bootstrap, namespace, "send-keyed", publish_orders)
    finally:
        stop.set()
    assert not result.passed and "did not finish" in result.summary
    assert time.monotonic() - started < EXERCISES["send-keyed"].time_limit_s + 10


def test_a_check_writes_nothing_to_stderr(bootstrap, namespace, capfd):
    def noisy(bootstrap, topic, orders):
        import sys
        import warnings

        print("about to fail", file=sys.stderr)
        warnings.warn("learner warning", DeprecationWarning, stacklevel=1)
        raise RuntimeError("boom")

    result = run_check(bootstrap, namespace, "send-keyed", noisy)
    captured = capfd.readouterr()
    assert captured.err == ""
    assert any("about to fail" in n for n in result.notes)
    assert any("learner warning" in n for n in result.notes)
