"""The grader's own view of the broker: records with headers, end offsets, committed offsets."""

from __future__ import annotations

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from autograder.grading import kafka_io


def test_read_all_returns_every_record_with_its_key_headers_and_position(bootstrap, namespace):
    topic = namespace.topic("io-records")
    kafka_io.create_topic(bootstrap, topic, 2)
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    for n in range(6):
        producer.send(
            topic,
            key=b"k%d" % (n % 2),
            value=b"v%d" % n,
            partition=n % 2,
            headers=[("source", b"test")],
        )
    producer.close()
    stored = kafka_io.read_all(bootstrap, topic)
    assert [(r.partition, r.offset, r.value) for r in stored] == [
        (0, 0, b"v0"),
        (0, 1, b"v2"),
        (0, 2, b"v4"),
        (1, 0, b"v1"),
        (1, 1, b"v3"),
        (1, 2, b"v5"),
    ]
    assert all(r.headers == (("source", b"test"),) for r in stored)
    assert kafka_io.end_offsets(bootstrap, topic) == {0: 3, 1: 3}


def test_committed_offsets_are_what_the_group_committed(bootstrap, namespace):
    topic, group = namespace.topic("io-offsets"), namespace.group("io-group")
    kafka_io.create_topic(bootstrap, topic, 2)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    consumer.commit({TopicPartition(topic, 0): OffsetAndMetadata(5, "", -1)})
    consumer.close()
    assert kafka_io.committed_offsets(bootstrap, group) == {(topic, 0): 5}


def test_a_topic_that_does_not_exist_reads_as_empty(bootstrap, namespace):
    assert kafka_io.read_all(bootstrap, namespace.topic("never-made")) == []
    assert kafka_io.describe_topic(bootstrap, namespace.topic("never-made")) is None
