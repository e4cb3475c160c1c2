"""Lesson 03's check on the real broker, beyond what every exercise must do
(tests/lessons/test_every_exercise.py): the verdict comes from what the broker stored (records,
bytes, codec, broker-side timing), not from the settings written."""

from __future__ import annotations

import time

from autograder.grading.verdict import run_check
from tests.learner_code import define

LESSON = "03"
EXERCISE = "compress-events"


def _define(code: str, name: str = "ship_events"):
    return define(code, name, LESSON)


def test_a_shipment_over_the_time_limit_fails_on_the_brokers_clock(bootstrap, namespace):
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


def test_a_fast_codec_at_the_default_batch_size_misses_the_bar(verdicts):
    result = verdicts.wrong("03", EXERCISE, "lz4 for speed, at the default batch size").result
    assert not result.passed and "too many bytes" in result.summary, str(result)
    assert "gzip or zstd" in result.hint
