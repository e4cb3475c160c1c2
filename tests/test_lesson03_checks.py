"""Lesson 03's check on the real broker: the reference passes, mistakes fail with a hint, and the
verdict comes from what the broker stored (records, bytes, codec, broker-side timing)."""

from __future__ import annotations

import time

import pytest

from autograder.grading.namespace import Namespace, new_run_id
from autograder.grading.verdict import rejudge, run_check

from .learner_code import define, solution, wrong_answers

EXERCISE = "compress-events"


@pytest.fixture
def namespace():
    return Namespace(new_run_id(), "03")


def _define(code: str, name: str = "ship_events"):
    return define(code, name, "03")


def test_reference_solution_passes_and_the_broker_agrees(bootstrap, namespace):
    result = run_check(bootstrap, namespace, EXERCISE, solution(EXERCISE, "03"))
    assert result.passed, str(result)
    assert rejudge(bootstrap, namespace, EXERCISE).passed


@pytest.mark.parametrize(
    "exercise, name, function",
    list(wrong_answers("03")),
    ids=[f"{e}:{n}" for e, n, _ in wrong_answers("03")],
)
def test_plausible_wrong_answer_fails_with_a_hint(bootstrap, namespace, exercise, name, function):
    result = run_check(bootstrap, namespace, exercise, function)
    assert not result.passed
    assert result.expected and result.found and result.hint.rstrip().endswith(".")
    assert "?" in result.hint, "a hint is a question that ends with what to do next"
    assert not rejudge(bootstrap, namespace, exercise).passed


def test_untouched_stub_fails_as_not_written_yet(bootstrap, namespace):
    def ship_events(bootstrap, topic, events):
        raise NotImplementedError()

    result = run_check(bootstrap, namespace, EXERCISE, ship_events)
    assert not result.passed and result.summary == "not written yet"


def test_a_shipment_slower_than_the_floor_fails_on_the_brokers_clock(bootstrap, namespace):
    ship = _define("""
def ship_events(bootstrap, topic, events):
    producer = KafkaProducer(bootstrap_servers=bootstrap, compression_type="zstd",
                             batch_size=131072, linger_ms=50,
                             value_serializer=JsonValueSerializer())
    for event in events[:500]:
        producer.send(topic, value=event)
    producer.flush()
    time.sleep(6)
    for event in events[500:]:
        producer.send(topic, value=event)
    producer.close()
""")
    ship.__globals__["time"] = time
    result = run_check(bootstrap, namespace, EXERCISE, ship)
    assert not result.passed and "too long" in result.summary, str(result)


def test_events_trimmed_to_save_bytes_fail_even_when_small(bootstrap, namespace):
    ship = _define("""
def ship_events(bootstrap, topic, events):
    producer = KafkaProducer(bootstrap_servers=bootstrap, compression_type="zstd",
                             batch_size=131072, linger_ms=50,
                             value_serializer=JsonValueSerializer())
    for event in events:
        producer.send(topic, value={"event_id": event["event_id"]})
    producer.close()
""")
    result = run_check(bootstrap, namespace, EXERCISE, ship)
    assert not result.passed and "not one of the events" in result.summary, str(result)


def test_a_verdict_from_the_broker_ignores_the_settings_written(bootstrap, namespace):
    """compression_type set, but every record sent and awaited alone: the codec is there, the
    bytes are not saved, and the check says so."""
    ship = _define("""
def ship_events(bootstrap, topic, events):
    producer = KafkaProducer(bootstrap_servers=bootstrap, compression_type="zstd",
                             value_serializer=JsonValueSerializer())
    for event in events[:500]:
        producer.send(topic, value=event).get(timeout=10)
    for event in events[500:]:
        producer.send(topic, value=event)
    producer.close()
""")
    result = run_check(bootstrap, namespace, EXERCISE, ship)
    assert not result.passed, str(result)
