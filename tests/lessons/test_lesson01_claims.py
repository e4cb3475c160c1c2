"""What lesson 01 tells learners about Kafka and kafka-python, shown happening on the broker."""

from __future__ import annotations

import json

from kafka import KafkaProducer
from kafka.serializer import JsonSerializer, Serializer

from autograder.demos import lesson01 as demos
from autograder.grading import kafka_io

LESSON = "01"  # for the `namespace` fixture (tests/conftest.py)


def test_records_buffered_by_a_crashed_producer_are_lost(bootstrap, topic):
    assert demos.short_lived_producer(bootstrap, topic("crash"), "crash") == 0


def test_flush_before_the_end_saves_every_record(bootstrap, topic):
    assert demos.short_lived_producer(bootstrap, topic("flush"), "flush") == 100


def test_a_clean_interpreter_exit_closes_the_producer_for_you(bootstrap, topic):
    assert demos.short_lived_producer(bootstrap, topic("exit"), "exit") == 100


def test_records_with_one_key_share_one_partition_in_send_order(bootstrap, topic):
    name = topic("keys", partitions=3)
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    sent = [producer.send(name, key=b"alice", value=b"%d" % n).get(timeout=10) for n in range(20)]
    producer.close()
    assert len({m.partition for m in sent}) == 1
    stored = kafka_io.read_all(bootstrap, name)
    assert [r.value for r in stored] == [b"%d" % n for n in range(20)]


def test_an_oversized_record_raises_inside_send(bootstrap, topic):
    outcome = demos.try_send_oversized(bootstrap, topic("big"), 5000, 2048)
    assert outcome == "MessageSizeTooLargeError"


def test_a_failure_at_the_broker_reaches_only_the_errback(bootstrap, topic):
    name = topic("compacted", configs={"cleanup.policy": "compact"})
    demos.send_and_forget(bootstrap, name, key=None, value=b"42.0")  # raises nothing
    errors = []
    demos.send_and_forget(bootstrap, name, key=None, value=b"42.0", errback=errors.append)
    assert [type(e).__name__ for e in errors] == ["InvalidRecordError"]
    assert sum(kafka_io.end_offsets(bootstrap, name).values()) == 0


def test_waiting_on_every_send_is_much_slower_than_flushing_once(bootstrap, topic):
    name = topic("timing")
    one_by_one = demos.time_sends(bootstrap, name, 200, wait_each=True)
    batched = demos.time_sends(bootstrap, name, 200, wait_each=False)
    assert one_by_one > 2 * batched


def test_a_long_lived_producer_holds_records_until_linger_or_flush(bootstrap, topic):
    assert demos.lingering_sends(bootstrap, topic("linger")) == {
        "right after send": 0,
        "after flush": 20,
    }


def test_a_garbage_collected_producer_is_closed_and_flushed(bootstrap, topic):
    assert demos.dropped_producer_sends(bootstrap, topic("dropped")) == 20


def test_kafka_pythons_default_partitioner_spreads_keyless_records(bootstrap, topic):
    name = topic("keyless", partitions=3)
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    sent = [producer.send(name, value=b"%d" % n).get(timeout=10) for n in range(60)]
    producer.close()
    # Random per record: all 60 in one of 3 partitions has a chance of 3 / 3**60.
    assert len({m.partition for m in sent}) > 1


def test_the_first_send_to_a_topic_waits_for_its_metadata(bootstrap, topic):
    assert demos.layout_known_around_first_send(bootstrap, topic("first-send")) == {
        "known before send()": False,
        "known when send() returned": True,
    }


class _JsonValueSerializer(Serializer):
    """The lesson's own serializer, as its notebook defines it."""

    def serialize(self, topic, headers, data):
        return json.dumps(data).encode("utf-8")


def test_the_lessons_json_serializer_stores_none_as_the_text_null(bootstrap, topic):
    name = topic("null-text", configs={"cleanup.policy": "compact"})
    assert demos.stored_value_of_none(bootstrap, name, _JsonValueSerializer()) == b"null"


def test_kafka_pythons_json_serializer_turns_none_into_a_tombstone(bootstrap, topic):
    name = topic("tombstone", configs={"cleanup.policy": "compact"})
    assert demos.stored_value_of_none(bootstrap, name, JsonSerializer()) is None


def test_headers_are_stored_with_the_record(bootstrap, topic):
    headers = [("source", b"web-shop"), ("trace-id", b"7f3a")]
    assert demos.headers_round_trip(bootstrap, topic("headers"), headers) == tuple(headers)
