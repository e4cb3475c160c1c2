"""Section 5: zombie fencing. A second producer with the same transactional.id fences the first
one; a new transactional.id at every start fences nothing.

A zombie is an instance that everyone believes dead (it stopped answering: a long pause, a
network cut) but that wakes up and carries on. Here it is simply an instance whose next call
comes after its successor has started: no process needs to die for that.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from dataclasses import dataclass

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from autograder.demos.lesson10.pipeline import receipt
from autograder.demos.lesson10.producers import transactional
from autograder.demos.lesson10.reading import close_quietly, read_values
from autograder.grading import kafka_io
from autograder.grading.quiet import grader_busy


def _error_of(call) -> str:
    """Run ``call``: "ok", or the error it raised as ``ClassName: message``."""
    try:
        with grader_busy():  # kafka-python also logs the refusal from its own thread
            call()
        return "ok"
    except KafkaError as error:
        return f"{type(error).__name__}: {error}"


def takeover(bootstrap: str, topic: str, transactional_id: str, next_call: str) -> dict:
    """The old instance writes in an open transaction; a new one with the same id runs
    ``init_transactions()``; then the old one's ``next_call`` ("commit" or "send", then
    commit). Returns what each of the old one's calls raised and what each consumer sees."""
    old = transactional(bootstrap, transactional_id)
    new = transactional(bootstrap, transactional_id)
    # Quiet throughout: the fenced producer's background thread logs its failures at any moment.
    with grader_busy():
        try:
            old.init_transactions()
            old.begin_transaction()
            old.send(topic, b"from the old instance", partition=0).get(timeout=10)
            new.init_transactions()  # the takeover
            errors = {}
            if next_call == "send":
                late = old.send(topic, b"old, after the takeover", partition=0)
                errors["old send"] = _error_of(lambda: late.get(timeout=10))
            errors["old commit"] = _error_of(old.commit_transaction)
            new.begin_transaction()
            new.send(topic, b"from the new instance", partition=0)
            new.commit_transaction()
        finally:
            close_quietly(old)
            close_quietly(new)
    return {
        **errors,
        "read_committed": read_values(bootstrap, topic, "read_committed"),
        "read_uncommitted": read_values(bootstrap, topic, "read_uncommitted"),
    }


@dataclass
class _Instance:
    """One pipeline instance: its producer (initialised) and its consumer."""

    producer: KafkaProducer
    consumer: KafkaConsumer

    def close(self) -> None:
        close_quietly(self.consumer)
        close_quietly(self.producer)


def _instance(bootstrap: str, source: str, group: str, transactional_id: str) -> _Instance:
    """A pipeline instance whose consumer starts at the group's committed offset (else the
    start) of the source's partition 0."""
    producer = transactional(bootstrap, transactional_id)
    try:
        producer.init_transactions()
        consumer = KafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_poll_records=4,
            request_timeout_ms=5000,
        )
    except BaseException:
        close_quietly(producer)
        raise
    consumer.assign([TopicPartition(source, 0)])
    return _Instance(producer, consumer)


def _process_batch(instance: _Instance, sink: str) -> dict:
    """Poll one batch and send its receipts in a new transaction, flushed but not committed.
    Returns the offsets to commit with it."""
    batch: dict = {}
    for _ in range(10):
        batch = instance.consumer.poll(timeout_ms=500)
        if batch:
            break
    instance.producer.begin_transaction()
    for records in batch.values():
        for record in records:
            instance.producer.send(sink, value=receipt(record.value))
    instance.producer.flush(timeout=10)
    return {tp: OffsetAndMetadata(rs[-1].offset + 1, "", -1) for tp, rs in batch.items()}


def _commit(instance: _Instance, offsets: dict) -> None:
    instance.producer.send_offsets_to_transaction(offsets, instance.consumer.group_metadata())
    instance.producer.commit_transaction()


def zombie_wakes_up(
    bootstrap: str,
    source: str,
    sink: str,
    group: str,
    transactional_id: str | None,
    deadline_s: float = 20,
) -> dict[str, object]:
    """Instance 1 processes its first batch and stalls before committing. Instance 2 starts
    (with ``transactional_id``, or a fresh random id when None) and processes the whole
    source. Then instance 1 wakes up and commits. Returns what instance 1's commit said, the
    receipts a read_committed consumer counts and the group's committed offset afterwards."""

    def id_for_a_start() -> str:
        return transactional_id or f"{group}-{secrets.token_hex(3)}"

    started: list[_Instance] = []
    try:
        zombie = _instance(bootstrap, source, group, id_for_a_start())
        started.append(zombie)
        zombie_offsets = _process_batch(zombie, sink)  # then it stalls
        successor = _instance(bootstrap, source, group, id_for_a_start())
        started.append(successor)
        end = kafka_io.end_offsets(bootstrap, source)[0]
        stop_at = time.monotonic() + deadline_s
        while (
            successor.consumer.position(TopicPartition(source, 0)) < end
            and time.monotonic() < stop_at
        ):
            _commit(successor, _process_batch(successor, sink))
        zombie_commit = _error_of(lambda: _commit(zombie, zombie_offsets))
    finally:
        for instance in started:
            instance.close()
    counted = Counter(read_values(bootstrap, sink, "read_committed"))
    return {
        "transactional ids": "one, shared" if transactional_id else "a new one per start",
        "zombie's commit": zombie_commit,
        "orders": end,
        "receipts read_committed": sum(counted.values()),
        "twice or more": sum(n - 1 for n in counted.values() if n > 1),
        "committed offset": kafka_io.committed_offsets(bootstrap, group).get((source, 0)),
    }
