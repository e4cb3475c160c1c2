"""Lesson 04's checks against the real broker: the reference passes behind the fault proxy and
the broker agrees later, every wrong answer in the manifest fails with a hint, and the proxy a
check starts is always stopped."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from autograder.faults import find_routes
from autograder.grading.exercises import EXERCISES
from autograder.grading.exercises.base import Attempt
from autograder.grading.harness import Outcome
from autograder.grading.namespace import Namespace, new_run_id
from autograder.grading.verdict import rejudge, run_check

from .learner_code import solution, wrong_answers

pytestmark = [pytest.mark.timeout(120)]

LESSON04 = ("no-duplicates", "keep-order", "failure-report")


@pytest.fixture
def namespace():
    return Namespace(new_run_id(), "04")


def _proxy_port_is_free(bootstrap) -> bool:
    [route] = find_routes(bootstrap)
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", route.listen_port))
        except OSError:
            return False
    return True


@pytest.mark.parametrize("exercise", LESSON04)
def test_reference_solution_passes_and_the_broker_agrees(bootstrap, namespace, exercise):
    result = run_check(bootstrap, namespace, exercise, solution(exercise, "04"))
    assert result.passed, str(result)
    assert rejudge(bootstrap, namespace, exercise).passed
    assert _proxy_port_is_free(bootstrap)


@pytest.mark.parametrize(
    "exercise, name, function",
    list(wrong_answers("04")),
    ids=[f"{e}:{n}" for e, n, _ in wrong_answers("04")],
)
def test_plausible_wrong_answer_fails_with_a_hint(bootstrap, namespace, exercise, name, function):
    result = run_check(bootstrap, namespace, exercise, function)
    assert not result.passed, str(result)
    assert result.expected and result.found and result.hint.rstrip().endswith(".")
    assert "?" in result.hint, "a hint is a question that ends with what to do next"
    assert not rejudge(bootstrap, namespace, exercise).passed


@pytest.mark.parametrize("exercise", LESSON04)
def test_untouched_stub_fails_as_not_written_yet_and_leaves_no_proxy(
    bootstrap, namespace, exercise
):
    def stub(**kwargs):
        raise NotImplementedError()

    result = run_check(bootstrap, namespace, exercise, stub)
    assert not result.passed and result.summary == "not written yet"
    assert _proxy_port_is_free(bootstrap)


def test_a_function_that_never_returns_has_its_proxy_stopped_in_time(bootstrap, namespace):
    stop = threading.Event()

    def send_payments(bootstrap, topic, payments):
        stop.wait(60)

    started = time.monotonic()
    try:
        result = run_check(bootstrap, namespace, "no-duplicates", send_payments)
    finally:
        stop.set()
    assert "did not finish" in result.summary
    assert time.monotonic() - started < EXERCISES["no-duplicates"].time_limit_s + 10
    assert _proxy_port_is_free(bootstrap)


def test_the_event_feed_is_paced_like_a_live_feed(bootstrap, namespace):
    exercise = EXERCISES["keep-order"]
    attempt = Attempt(bootstrap, namespace, "keep-order", "feedtest")
    kwargs = exercise.prepare(attempt)
    try:
        started = time.monotonic()
        events = list(kwargs["feed"])
        took = time.monotonic() - started
    finally:
        exercise.judge(attempt, Outcome(error="x", error_type="NotImplementedError"))
    assert len(events) == exercise.count and took >= exercise.count * exercise.interval_s
    assert _proxy_port_is_free(bootstrap)
