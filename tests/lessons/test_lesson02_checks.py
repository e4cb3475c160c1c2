"""Lesson 02's checks against the real broker, beyond what every exercise must do
(tests/lessons/test_every_exercise.py): the hint names the mask, a partitioner left unwritten
is reported from inside send(), and the verdict is where the records landed; plus the inputs
every attempt draws."""

from __future__ import annotations

import zlib

import pytest
from kafka.partitioner import murmur2

from autograder.grading.exercises.lesson02 import make_events, prediction_inputs
from autograder.grading.namespace import new_attempt_id
from autograder.grading.verdict import run_check
from tests.learner_code import for_lesson

LESSON = "02"
define, _, _ = for_lesson(LESSON)


def test_a_forgotten_mask_is_told_about_the_mask(verdicts):
    result = verdicts.wrong(LESSON, "predict-partitions", "the positive mask forgotten").result
    assert not result.passed and "0x7fffffff" in result.hint


def test_a_publisher_whose_partitioner_is_unwritten_fails_as_not_written_yet(bootstrap, namespace):
    """The partitioner's NotImplementedError surfaces from send(), inside the learner's code."""
    publish = define(
        """
class RegionPartitioner(Partitioner):
    def partition(self, topic, key, serialized_key, value, serialized_value, cluster):
        raise NotImplementedError()


def publish_by_region(bootstrap, topic, events):
    producer = KafkaProducer(bootstrap_servers=bootstrap, partitioner=RegionPartitioner(),
                             key_serializer=DefaultSerializer(),
                             value_serializer=JsonValueSerializer())
    try:
        for event in events:
            producer.send(topic, key=event["user"], value=event)
        producer.flush()
    finally:
        producer.close()
""",
        "publish_by_region",
    )
    result = run_check(bootstrap, namespace, "region-partitioner", publish)
    assert not result.passed and result.summary == "not written yet"


def test_explicit_partitions_in_send_are_judged_by_where_the_records_landed(bootstrap, namespace):
    """The broker is the judge: the right partitions by any means pass."""
    publish = define(
        """
def publish_by_region(bootstrap, topic, events):
    producer = KafkaProducer(bootstrap_servers=bootstrap, key_serializer=DefaultSerializer(),
                             value_serializer=JsonValueSerializer())
    for event in events:
        producer.send(topic, key=event["user"], value=event,
                      partition={"us": 0, "eu": 1}.get(event["region"], 2))
    producer.close()
""",
        "publish_by_region",
    )
    assert run_check(bootstrap, namespace, "region-partitioner", publish).passed


@pytest.mark.parametrize("attempt", [new_attempt_id() for _ in range(50)])
def test_every_attempts_keys_expose_a_forgotten_mask_and_crc32(attempt):
    keys, partitions = prediction_inputs(attempt)
    assert (keys, partitions) == prediction_inputs(attempt)  # rebuilt identically by the grader
    masked = {k: (murmur2(k.encode()) & 0x7FFFFFFF) % partitions for k in keys}
    assert any(murmur2(k.encode()) % partitions != masked[k] for k in keys)
    assert any(zlib.crc32(k.encode()) % partitions != masked[k] for k in keys)


@pytest.mark.parametrize("attempt", [new_attempt_id() for _ in range(20)])
def test_every_attempts_events_fill_all_three_region_partitions(attempt):
    events = make_events(attempt)
    assert events == make_events(attempt)
    regions = {e["region"] for e in events}
    assert {"us", "eu"} <= regions and len(regions - {"us", "eu"}) >= 2
