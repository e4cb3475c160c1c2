"""The grader's raw view of a log (kafka_io.read_log): transaction markers and aborted records,
which every consumer hides, seen at their offsets with the producer that wrote them."""

from __future__ import annotations

import contextlib

import pytest
from kafka import KafkaAdminClient, KafkaProducer, TopicPartition

from autograder.grading import kafka_io

pytestmark = pytest.mark.timeout(120)


@contextlib.contextmanager
def transactional(bootstrap, name):
    """A kafka-python transactional producer, initialised, closed on the way out."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, transactional_id=name)
    try:
        producer.init_transactions()
        yield producer
    finally:
        producer.close(timeout=5)


def producer_id(producer) -> int:
    """The id the broker gave this producer, from the producer's own state."""
    return producer._transaction_manager.producer_id_and_epoch.producer_id


def send_all(producer, topic, values, partition=0, headers=None):
    for value in values:
        producer.send(topic, value=value, partition=partition, headers=headers)
    # Flushed inside the transaction: kafka-python drops what is still unsent on abort, and
    # then the broker writes neither the records nor a marker.
    producer.flush(timeout=10)


@pytest.fixture
def committed_then_aborted(bootstrap, namespace):
    """Partition 0: 3 committed records, a COMMIT marker, 2 aborted records, an ABORT marker."""
    topic = namespace.topic("raw-txn")
    kafka_io.create_topic(bootstrap, topic, 1)
    with transactional(bootstrap, namespace.topic("raw-txn-id")) as producer:
        producer.begin_transaction()
        send_all(producer, topic, [b"c0", b"c1", b"c2"])
        producer.commit_transaction()
        producer.begin_transaction()
        send_all(producer, topic, [b"a0", b"a1"], headers=[("why", b"\xff\x00")])
        producer.abort_transaction()
        pid = producer_id(producer)
    # The markers reach the partition just after abort_transaction() returns.
    assert kafka_io.wait_until_stable(bootstrap, topic)
    return topic, pid


def test_markers_sit_at_their_offsets_with_the_producer_id_that_wrote_them(
    bootstrap, committed_then_aborted
):
    topic, pid = committed_then_aborted
    log = kafka_io.read_log(bootstrap, topic)
    assert [(e.offset, e.value if e.control is None else e.control) for e in log] == [
        (0, b"c0"),
        (1, b"c1"),
        (2, b"c2"),
        (3, "COMMIT"),
        (4, b"a0"),
        (5, b"a1"),
        (6, "ABORT"),
    ]
    assert {e.producer_id for e in log} == {pid} and pid >= 0
    assert all(e.transactional and e.partition == 0 for e in log)
    assert log[4].headers == (("why", b"\xff\x00"),)
    # The log's end offset counts the markers too: 5 data records took 7 offsets.
    assert kafka_io.end_offsets(bootstrap, topic) == {0: 7}


def test_outcomes_say_which_transaction_each_record_belonged_to(bootstrap, committed_then_aborted):
    topic, _ = committed_then_aborted
    outcomes = kafka_io.transaction_outcomes(kafka_io.read_log(bootstrap, topic))
    assert outcomes == {
        (0, 0): "committed",
        (0, 1): "committed",
        (0, 2): "committed",
        (0, 4): "aborted",
        (0, 5): "aborted",
    }


def test_read_committed_drops_aborted_records_keeps_markers_and_agrees_with_a_consumer(
    bootstrap, committed_then_aborted
):
    topic, _ = committed_then_aborted
    log = kafka_io.read_log(bootstrap, topic, isolation="read_committed")
    assert [e.offset for e in log] == [0, 1, 2, 3, 6]
    assert [e.control for e in log if e.control] == ["COMMIT", "ABORT"]
    consumed = kafka_io.read_all(bootstrap, topic, isolation="read_committed")
    assert [r.value for r in consumed] == [e.value for e in log if e.control is None]


def test_an_open_transaction_is_open_and_read_committed_stops_at_the_last_stable_offset(
    bootstrap, namespace
):
    topic = namespace.topic("raw-open")
    kafka_io.create_topic(bootstrap, topic, 1)
    with transactional(bootstrap, namespace.topic("raw-open-id")) as producer:
        producer.begin_transaction()
        send_all(producer, topic, [b"pending0", b"pending1"])
        plain = KafkaProducer(bootstrap_servers=bootstrap)
        try:  # a plain record written after the open transaction's records
            plain.send(topic, value=b"plain", partition=0).get(timeout=10)
        finally:
            plain.close(timeout=5)
        log = kafka_io.read_log(bootstrap, topic)
        assert [e.value for e in log] == [b"pending0", b"pending1", b"plain"]
        assert kafka_io.transaction_outcomes(log) == {(0, 0): "open", (0, 1): "open"}
        # The last stable offset stays at the open transaction's first record: nothing after
        # it is readable under read_committed, not even the plain record.
        assert kafka_io.end_offsets(bootstrap, topic, "read_committed") == {0: 0}
        assert kafka_io.read_log(bootstrap, topic, isolation="read_committed") == []
        assert not kafka_io.wait_until_stable(bootstrap, topic, deadline_s=0.5)
        producer.commit_transaction()
    assert kafka_io.wait_until_stable(bootstrap, topic)
    after = kafka_io.read_log(bootstrap, topic, isolation="read_committed")
    assert [e.value if e.control is None else e.control for e in after] == [
        b"pending0",
        b"pending1",
        b"plain",
        "COMMIT",
    ]
    assert kafka_io.transaction_outcomes(after) == {(0, 0): "committed", (0, 1): "committed"}


def test_interleaved_transactions_are_told_apart_by_producer_id(bootstrap, namespace):
    """A's records come first, B's after them; A aborts, then B commits: under read_committed
    B's records stay and A's go, although A's ABORT marker lies after B's records."""
    topic = namespace.topic("raw-interleaved")
    kafka_io.create_topic(bootstrap, topic, 1)
    with (
        transactional(bootstrap, namespace.topic("raw-a")) as a,
        transactional(bootstrap, namespace.topic("raw-b")) as b,
    ):
        a.begin_transaction()
        b.begin_transaction()
        send_all(a, topic, [b"a0"])
        send_all(b, topic, [b"b0"])
        send_all(a, topic, [b"a1"])
        a.abort_transaction()
        b.commit_transaction()
        ids = {"a": producer_id(a), "b": producer_id(b)}
    assert kafka_io.wait_until_stable(bootstrap, topic)
    log = kafka_io.read_log(bootstrap, topic)
    rows = [(e.offset, e.control or e.value, e.producer_id) for e in log]
    assert rows == [
        (0, b"a0", ids["a"]),
        (1, b"b0", ids["b"]),
        (2, b"a1", ids["a"]),
        (3, "ABORT", ids["a"]),
        (4, "COMMIT", ids["b"]),
    ]
    assert kafka_io.transaction_outcomes(log) == {
        (0, 0): "aborted",
        (0, 1): "committed",
        (0, 2): "aborted",
    }
    committed = kafka_io.read_log(bootstrap, topic, isolation="read_committed")
    assert [e.offset for e in committed] == [1, 3, 4]


def test_records_of_a_plain_producer_are_not_transactional(bootstrap, namespace):
    topic = namespace.topic("raw-plain")
    kafka_io.create_topic(bootstrap, topic, 2)
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    try:
        for n in range(4):
            producer.send(topic, key=b"k%d" % n, value=b"v%d" % n, partition=n % 2)
        producer.flush(timeout=10)
    finally:
        producer.close(timeout=5)
    log = kafka_io.read_log(bootstrap, topic)
    assert [(e.partition, e.offset, e.key, e.value) for e in log] == [
        (0, 0, b"k0", b"v0"),
        (0, 1, b"k2", b"v2"),
        (1, 0, b"k1", b"v1"),
        (1, 1, b"k3", b"v3"),
    ]
    assert not any(e.transactional or e.control for e in log)
    assert kafka_io.transaction_outcomes(log) == {}
    # What the grader's consumer read sees is the same, offsets and timestamps included.
    assert [(r.partition, r.offset, r.timestamp) for r in kafka_io.read_all(bootstrap, topic)] == [
        (e.partition, e.offset, e.timestamp) for e in log
    ]


def test_partition_start_and_limit_choose_the_entries(bootstrap, namespace):
    topic = namespace.topic("raw-window")
    kafka_io.create_topic(bootstrap, topic, 2)
    kafka_io.append_to_partitions(
        bootstrap, topic, [(n % 2, None, b"%d" % n) for n in range(20)]
    )  # 10 records in each partition
    assert len(kafka_io.read_log(bootstrap, topic)) == 20
    one = kafka_io.read_log(bootstrap, topic, partition=1)
    assert [e.offset for e in one] == list(range(10)) and {e.partition for e in one} == {1}
    window = kafka_io.read_log(bootstrap, topic, partition=0, start=3, limit=4)
    assert [(e.offset, e.value) for e in window] == [(3, b"6"), (4, b"8"), (5, b"10"), (6, b"12")]
    # Without a partition, start and limit apply to each partition.
    both = kafka_io.read_log(bootstrap, topic, start=8, limit=5)
    assert [(e.partition, e.offset) for e in both] == [(0, 8), (0, 9), (1, 8), (1, 9)]
    assert kafka_io.read_log(bootstrap, topic, start=10) == []
    assert kafka_io.read_log(bootstrap, topic, partition=2) == []
    assert kafka_io.read_log(bootstrap, namespace.topic("never-made")) == []


def test_a_start_before_deleted_records_begins_at_the_oldest_kept_one(bootstrap, namespace):
    topic = namespace.topic("raw-deleted")
    kafka_io.create_topic(bootstrap, topic, 1)
    kafka_io.append_to_partitions(bootstrap, topic, [(0, None, b"%d" % n) for n in range(6)])
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.delete_records({TopicPartition(topic, 0): 4})
    finally:
        admin.close()
    assert [e.offset for e in kafka_io.read_log(bootstrap, topic)] == [4, 5]
    assert [e.offset for e in kafka_io.read_log(bootstrap, topic, start=1, limit=1)] == [4]
