"""Lesson 02's checks against the real broker: the reference passes (and passes again when
rejudged from the broker), every wrong answer fails with a hint, the stubs say "not written"."""

from __future__ import annotations

import zlib

import pytest
from kafka.partitioner import murmur2

from autograder.grading.exercises.lesson02 import make_events, prediction_inputs
from autograder.grading.namespace import Namespace, new_attempt_id, new_run_id
from autograder.grading.verdict import rejudge, run_check

from .learner_code import for_lesson

define, solution, wrong_answers = for_lesson("02")

LESSON02 = ("predict-partitions", "region-partitioner")
WRONG = list(wrong_answers())


@pytest.fixture
def namespace():
    """A fresh run namespace of lesson 02, as its setup cell would make."""
    return Namespace(new_run_id(), "02")


@pytest.mark.parametrize("exercise", LESSON02)
def test_reference_solution_passes_and_the_broker_agrees(bootstrap, namespace, exercise):
    result = run_check(bootstrap, namespace, exercise, solution(exercise))
    assert result.passed, str(result)
    assert rejudge(bootstrap, namespace, exercise).passed


@pytest.mark.parametrize("exercise, name, function", WRONG, ids=[f"{e}:{n}" for e, n, _ in WRONG])
def test_plausible_wrong_answer_fails_with_a_hint(bootstrap, namespace, exercise, name, function):
    result = run_check(bootstrap, namespace, exercise, function)
    assert not result.passed, str(result)
    assert result.expected and result.found and result.hint.rstrip().endswith(".")
    assert "?" in result.hint, "a hint is a question that ends with what to do next"
    assert not rejudge(bootstrap, namespace, exercise).passed


def test_a_forgotten_mask_is_told_about_the_mask(bootstrap, namespace):
    [unmasked] = [f for e, n, f in WRONG if n == "the positive mask forgotten"]
    result = run_check(bootstrap, namespace, "predict-partitions", unmasked)
    assert not result.passed and "0x7fffffff" in result.hint


def test_untouched_prediction_stub_fails_as_not_written_yet(bootstrap, namespace):
    def predict_partitions(keys, num_partitions):
        raise NotImplementedError()

    result = run_check(bootstrap, namespace, "predict-partitions", predict_partitions)
    assert not result.passed and result.summary == "not written yet"


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
