"""The checks themselves, against the real broker: verdicts, guidance, deadlines, quiet stderr."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from autograder.grading import kafka_io
from autograder.grading.exercises import EXERCISES
from autograder.grading.namespace import Namespace, new_run_id
from autograder.grading.paths import REPO_ROOT
from autograder.grading.verdict import ensure_claims_topic, rejudge, run_check

from .learner_code import solution, wrong_answers

LESSON01 = ("create-topic", "send-keyed", "delivery-report")


@pytest.mark.parametrize("exercise", LESSON01)
def test_reference_solution_passes_and_the_broker_agrees(bootstrap, namespace, exercise):
    result = run_check(bootstrap, namespace, exercise, solution(exercise))
    assert result.passed, str(result)
    assert rejudge(bootstrap, namespace, exercise).passed


@pytest.mark.parametrize(
    "exercise, name, function",
    list(wrong_answers()),
    ids=[f"{e}:{n}" for e, n, _ in wrong_answers()],
)
def test_plausible_wrong_answer_fails_with_a_hint(bootstrap, namespace, exercise, name, function):
    result = run_check(bootstrap, namespace, exercise, function)
    assert not result.passed
    assert result.expected and result.found and result.hint.rstrip().endswith(".")
    assert "?" in result.hint, "a hint is a question that ends with what to do next"


def test_untouched_stub_fails_as_not_written_yet(bootstrap, namespace):
    def create_orders_topic(bootstrap, name):
        raise NotImplementedError()

    result = run_check(bootstrap, namespace, "create-topic", create_orders_topic)
    assert not result.passed and result.summary == "not written yet"
    assert "NotImplementedError" in result.hint


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


def test_the_broker_verdict_ignores_what_the_kernel_claimed(bootstrap, namespace):
    """A claim written by hand, without the records behind it, earns nothing."""
    ensure_claims_topic(bootstrap, namespace)
    kafka_io.append_json(
        bootstrap,
        namespace.claims_topic,
        "send-keyed",
        {
            "attempt": "forged",
            "returned": None,
            "error": None,
            "error_type": None,
            "timed_out": False,
        },
    )
    assert not rejudge(bootstrap, namespace, "send-keyed").passed


def test_rejudge_without_any_claim_fails_with_guidance(bootstrap, namespace):
    result = rejudge(bootstrap, namespace, "create-topic")
    assert not result.passed and "never ran" in result.summary


def test_two_runs_at_once_on_one_broker_do_not_collide(bootstrap):
    runs = [Namespace(new_run_id(), "01") for _ in range(3)]
    results = {}

    def grade(ns):
        results[ns.run_id] = run_check(bootstrap, ns, "send-keyed", solution("send-keyed"))

    threads = [threading.Thread(target=grade, args=(ns,)) for ns in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == 3 and all(r.passed for r in results.values()), results
    assert all(rejudge(bootstrap, ns, "send-keyed").passed for ns in runs)


def test_an_unreachable_broker_gives_one_clear_message_quickly_and_nothing_on_stderr():
    # In a child process: kafka-python leaves sockets of failed connects for the GC to find.
    script = (
        "from autograder.grading.namespace import Namespace\n"
        "from autograder.grading.verdict import run_check\n"
        "from tests.learner_code import solution\n"
        "result = run_check('localhost:1', Namespace('rdown', '01'), 'create-topic',"
        " solution('create-topic'))\n"
        "print(result)\n"
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert time.monotonic() - started < 30
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout.startswith("[FAIL] create-topic: the broker did not answer")
    assert "kafka-course broker up" in done.stdout
    assert "kafka-python" not in done.stdout, "connection noise reached the learner"
