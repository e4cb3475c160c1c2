"""Short, bounded demonstrations: reading and committing, positions, idle members, partitions."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from autograder.cli.group_admin import GroupAdmin
from autograder.grading import kafka_io
from autograder.grading.quiet import grader_busy

# Short timeouts: a demo that cannot reach the broker says so in seconds, and a member that
# vanished without leaving is dropped by the group quickly.
FAST_GROUP = {"session_timeout_ms": 6000, "heartbeat_interval_ms": 300, "request_timeout_ms": 7000}


def fill(bootstrap: str, topic: str, counts: dict[int, int]) -> dict[int, int]:
    """Write ``counts[p]`` small records into partition ``p``; the end offsets afterwards."""
    kafka_io.append_to_partitions(
        bootstrap,
        topic,
        [
            (partition, None, b"reading %d" % n)
            for partition, count in counts.items()
            for n in range(count)
        ],
    )
    return kafka_io.end_offsets(bootstrap, topic)


def _read_until(
    consumer: KafkaConsumer, targets: dict[TopicPartition, int], deadline_s: float
) -> dict[TopicPartition, int]:
    """Poll until each partition's position reaches its target; how many records were read.

    A partition that reached its target is paused, so poll() returns nothing more from it.
    """
    read = {tp: 0 for tp in targets}
    stop_at = time.monotonic() + deadline_s
    while time.monotonic() < stop_at:
        done = [tp for tp in targets if consumer.position(tp) >= targets[tp]]
        if len(done) == len(targets):
            break
        consumer.pause(*done)
        for tp, records in consumer.poll(timeout_ms=200).items():
            read[tp] += len(records)
    return read


def read_and_commit(
    bootstrap: str, topic: str, group: str, counts: dict[int, int]
) -> dict[int, int]:
    """As a member of ``group``, read the first ``counts[p]`` records of partition ``p`` and
    commit: the offset committed is the next record to read. Returns what was committed."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=1,
        **FAST_GROUP,
    )
    try:
        targets = {TopicPartition(topic, p): n for p, n in counts.items()}
        consumer.assign(list(targets))
        consumer.seek_to_beginning(*targets)  # max_poll_records=1: never read past a target
        _read_until(consumer, targets, deadline_s=10)
        consumer.commit({tp: OffsetAndMetadata(consumer.position(tp), "", -1) for tp in targets})
        return {tp.partition: consumer.committed(tp) for tp in targets}
    finally:
        consumer.close(autocommit=False)


def read_without_commit(bootstrap: str, topic: str, group: str, partition: int) -> dict:
    """As a member of ``group``, read a whole partition and commit nothing: the consumer's own
    position against what the broker holds as committed."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **FAST_GROUP,
    )
    tp = TopicPartition(topic, partition)
    try:
        consumer.assign([tp])
        end = consumer.end_offsets([tp])[tp]
        read = _read_until(consumer, {tp: end}, deadline_s=10)[tp]
        fetch_metrics = consumer.metrics().get("consumer-fetch-manager-metrics", {})
        return {
            "records read": read,
            "position": consumer.position(tp),
            "committed": consumer.committed(tp),
            "records-lag-max (the consumer's metric)": fetch_metrics.get("records-lag-max"),
        }
    finally:
        consumer.close(autocommit=False)


def starting_positions(bootstrap: str, topic: str, group: str, partition: int) -> dict[str, int]:
    """Where a consumer of ``group`` would start on a partition the group never committed,
    under kafka-python's default ``auto_offset_reset`` and under ``"earliest"``. Nothing is
    committed: each consumer closes without committing."""
    tp = TopicPartition(topic, partition)
    found = {}
    for label, settings in (
        ("default (latest)", {}),
        ("earliest", {"auto_offset_reset": "earliest"}),
    ):
        consumer = KafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=group,
            enable_auto_commit=False,
            **FAST_GROUP,
            **settings,
        )
        try:
            consumer.assign([tp])
            found[label] = consumer.position(tp)
        finally:
            consumer.close(autocommit=False)
    return found


def _joined(consumer: KafkaConsumer, deadline_s: float) -> None:
    stop_at = time.monotonic() + deadline_s
    while not consumer.assignment() and time.monotonic() < stop_at:
        consumer.poll(timeout_ms=100)
    if not consumer.assignment():
        raise TimeoutError(f"the consumer got no partition within {deadline_s:.0f} s")


@contextmanager
def member_of(bootstrap: str, topic: str, group: str) -> Iterator[KafkaConsumer]:
    """A consumer that joins ``group`` on ``topic`` and stays a member (its heartbeat thread
    keeps it in) until the block ends; it is closed then, even when the block raised."""
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        client_id="still-running",
        enable_auto_commit=False,
        **FAST_GROUP,
    )
    try:
        with grader_busy():  # kafka-python's chatter while joining would only clutter the cell
            _joined(consumer, deadline_s=15)
        yield consumer
    finally:
        with grader_busy():
            consumer.close(autocommit=False)


def crowd(
    bootstrap: str, topic: str, group: str, count: int, deadline_s: float = 20
) -> dict[str, list[int]]:
    """Start ``count`` consumers in one group on ``topic``; once the group has settled, what the
    broker assigned each (by client id). All of them are closed before this returns."""
    with grader_busy():  # three joins and three leaves make kafka-python chatty
        return _crowd(bootstrap, topic, group, count, deadline_s)


def _crowd(
    bootstrap: str, topic: str, group: str, count: int, deadline_s: float
) -> dict[str, list[int]]:
    stop = threading.Event()
    consumers = [
        KafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            group_id=group,
            client_id=f"consumer-{n + 1}",
            enable_auto_commit=False,
            **FAST_GROUP,
        )
        for n in range(count)
    ]

    def keep_polling(consumer: KafkaConsumer) -> None:
        while not stop.is_set():
            try:
                consumer.poll(timeout_ms=100)
            except KafkaError:
                time.sleep(0.1)

    threads = [threading.Thread(target=keep_polling, args=(c,), daemon=True) for c in consumers]
    try:
        for thread in threads:
            thread.start()
        # The topic's partitions, not the group's: a group that never committed describes none.
        partitions = len(kafka_io.end_offsets(bootstrap, topic))
        with GroupAdmin(bootstrap) as groups:
            stop_at = time.monotonic() + deadline_s
            while True:
                view = groups.describe(group)
                assigned = sum(len(m.partitions) for m in view.members)
                if view.state == "Stable" and len(view.members) == count and assigned == partitions:
                    break
                if time.monotonic() > stop_at:
                    raise TimeoutError(f"the group did not settle in {deadline_s:.0f} s")
                time.sleep(0.2)
        return {
            m.client_id: [p for _, p in m.partitions]
            for m in sorted(view.members, key=lambda m: m.client_id)
        }
    finally:
        stop.set()
        for thread in threads:
            thread.join(5)
        for consumer in consumers:
            consumer.close(autocommit=False)


def grow_partitions(bootstrap: str, topic: str, total: int) -> int:
    """Raise the topic's partition count to ``total``; the count the broker then reports."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_partitions({topic: total})
        return len(admin.describe_topics([topic])[0]["partitions"])
    finally:
        admin.close()


def try_shrink(bootstrap: str, topic: str, total: int) -> str:
    """Ask for fewer partitions than the topic has: the name of the error the broker answers."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_partitions({topic: total})
        return "no error"
    except KafkaError as error:
        return type(error).__name__
    finally:
        admin.close()


def poll_sizes(bootstrap: str, topic: str, max_poll_records: int) -> list[int]:
    """Read the whole topic (outside any group) and return how many records each poll() gave."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, max_poll_records=max_poll_records, enable_auto_commit=False
    )
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        sizes = []
        stop_at = time.monotonic() + 10
        while time.monotonic() < stop_at and any(
            consumer.position(tp) < ends[tp] for tp in partitions
        ):
            batch = consumer.poll(timeout_ms=200)
            if batch:
                sizes.append(sum(len(records) for records in batch.values()))
        return sizes
    finally:
        consumer.close(autocommit=False)


def offsets_for_transactional_records(bootstrap: str, topic: str, count: int = 3) -> dict:
    """Write ``count`` records to partition 0 in one transaction and commit it; how many
    records a consumer reads there, against the offsets they took."""
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=bootstrap, transactional_id=f"{topic}-writer")
    try:
        producer.init_transactions()
        producer.begin_transaction()
        for n in range(count):
            producer.send(topic, partition=0, value=b"reading %d" % n)
        producer.commit_transaction()
    finally:
        producer.close(timeout=5)
    tp = TopicPartition(topic, 0)
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    try:
        consumer.assign([tp])
        end = consumer.end_offsets([tp])[tp]
        read = _read_until(consumer, {tp: end}, deadline_s=10)[tp]
    finally:
        consumer.close(autocommit=False)
    return {"records written": count, "records read": read, "end offset": end}


def skipped_in_new_partitions(
    bootstrap: str,
    topic: str,
    group: str,
    reset: str = "latest",
    early: int = 5,
    late: int = 5,
    deadline_s: float = 20,
) -> dict:
    """A group member reading ``topic`` (2 partitions, empty) with ``auto_offset_reset=reset``;
    the topic grows to 3 partitions and ``early`` records go to the new partition 2 before the
    member has noticed it (it is not polling meanwhile), ``late`` more once it owns partition 2.
    How many it reads from partition 2 (None if it never got it before ``deadline_s``)."""
    from kafka import KafkaProducer

    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset=reset,
        metadata_max_age_ms=1000,  # notice new partitions within a second (default 5 minutes)
        **FAST_GROUP,
    )
    new = TopicPartition(topic, 2)
    read = 0

    def poll_for(stop: Callable[[], bool]) -> None:
        nonlocal read
        stop_at = time.monotonic() + deadline_s
        while not stop() and time.monotonic() < stop_at:
            read += len(consumer.poll(timeout_ms=200).get(new, []))

    def write(count: int, label: str) -> None:
        producer = KafkaProducer(bootstrap_servers=bootstrap)
        try:
            for n in range(count):
                producer.send(topic, partition=2, value=b"%s %d" % (label.encode(), n))
            producer.flush(timeout=10)
        finally:
            producer.close(timeout=5)

    try:
        with grader_busy():  # "no partition metadata yet" while joining says nothing here
            consumer.subscribe([topic])
            poll_for(lambda: len(consumer.assignment()) == 2)
            grow_partitions(bootstrap, topic, 3)
            write(early, "early")  # the member is not polling: it cannot rejoin yet
            poll_for(lambda: new in consumer.assignment() and consumer.position(new) is not None)
            write(late, "late")
            end = kafka_io.end_offsets(bootstrap, topic)[2]
            poll_for(lambda: new in consumer.assignment() and consumer.position(new) >= end)
        owned = new in consumer.assignment()
    finally:
        consumer.close(autocommit=False)
    return {
        "auto_offset_reset": reset,
        "written to partition 2 before the member noticed it": early,
        "written after": late,
        "read from partition 2": read if owned else None,
    }
