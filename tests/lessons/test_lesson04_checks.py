"""Lesson 04's checks against the real broker, beyond what every exercise must do
(tests/lessons/test_every_exercise.py): the fault proxy a check starts is always stopped,
whether the learner's function passes, is not written or never returns, and the feed is paced
like a live one."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from autograder.faults import find_routes
from autograder.grading.exercises import EXERCISES
from autograder.grading.exercises.base import Attempt
from autograder.grading.harness import Outcome
from autograder.grading.verdict import run_check
from tests.learner_code import define, solution, starter

pytestmark = [pytest.mark.timeout(120)]

LESSON = "04"
LESSON04 = ("no-duplicates", "keep-order", "failure-report")


def _proxy_port_is_free(bootstrap) -> bool:
    [route] = find_routes(bootstrap)
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", route.listen_port))
        except OSError:
            return False
    return True


# Each proxy check runs the code itself: a proxy left running would stop itself on its timer,
# so only a check made right after the run proves the check stopped it.
@pytest.mark.parametrize("exercise", LESSON04)
def test_the_reference_passes_and_leaves_no_proxy(bootstrap, namespace, exercise):
    result = run_check(bootstrap, namespace, exercise, solution(exercise, LESSON))
    assert result.passed, str(result)
    assert _proxy_port_is_free(bootstrap)


@pytest.mark.parametrize("exercise", LESSON04)
def test_untouched_stub_fails_as_not_written_yet_and_leaves_no_proxy(
    bootstrap, namespace, exercise
):
    result = run_check(bootstrap, namespace, exercise, starter(exercise, LESSON))
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


def test_callbacks_that_read_the_loop_variable_late_are_told_about_late_binding(verdicts):
    result = verdicts.wrong(
        "04", "failure-report", "callbacks that read the loop variable when they run (late binding)"
    ).result
    assert not result.passed and "wrong reading ids" in result.summary
    assert "late binding" in result.hint and "default argument" in result.hint


def test_keeping_acks_1_and_trusting_the_defaults_is_told_idempotence_went_off(verdicts):
    result = verdicts.wrong(
        "04", "keep-order", "the team's acks=1 kept, the defaults trusted to keep order"
    ).result
    assert not result.passed and "out of order" in result.summary
    assert "switches idempotence off" in result.hint


def test_forcing_idempotence_on_with_acks_1_is_told_why_it_cannot_be(verdicts):
    result = verdicts.wrong("04", "keep-order", "acks=1 with enable_idempotence=True forced on")
    assert result.result.summary.endswith("raised an error")
    assert "cannot go with acks=1" in result.result.hint


def test_an_idempotent_producer_is_told_the_team_asked_for_acks_1(verdicts):
    result = verdicts.wrong("04", "keep-order", "the safe defaults instead of the team's acks=1")
    assert not result.result.passed and "idempotent producer" in result.result.summary


# Not among keep-order's wrong answers (each one more is a dev-check round): acks=0 is
# no-duplicates' wrong answer already; here only keep-order's own hint for it is checked.
ACKS_0_EVENTS = """
from kafka import KafkaProducer
from kafka.serializer import DefaultSerializer


def send_account_events(bootstrap, topic, feed):
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks=0,
        key_serializer=DefaultSerializer(),
        value_serializer=JsonValueSerializer(),
    )
    try:
        for event in feed:
            producer.send(topic, key=event["account"], value=event)
        producer.flush(timeout=15)
    finally:
        producer.close(timeout=5)
"""


def test_acks_0_under_the_teams_acks_1_is_told_to_keep_acks_1(bootstrap, namespace):
    learner = define(ACKS_0_EVENTS, "send_account_events", LESSON)
    result = run_check(bootstrap, namespace, "keep-order", learner)
    assert not result.passed and "acks=0" in result.found
    assert "keep the team's acks=1" in result.hint
