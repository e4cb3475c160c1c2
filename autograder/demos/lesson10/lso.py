"""Section 3: the last stable offset. An open transaction holds read_committed consumers back
while read_uncommitted ones read on; the coordinator ends it after transaction.timeout.ms, and
a new producer with the same transactional.id ends it at once."""

from __future__ import annotations

import time

from kafka import KafkaProducer, TopicPartition
from kafka.errors import KafkaError

from autograder.demos.lesson10.producers import transactional
from autograder.demos.lesson10.reading import ISOLATION_LEVELS, OffsetWatch, close_quietly, reader
from autograder.grading import kafka_io
from autograder.grading.quiet import grader_busy

CLEANUP_INTERVAL = "transaction.abort.timed.out.transaction.cleanup.interval.ms"


def _read_from_start(bootstrap: str, topic: str, isolation_level: str, extra_s: float = 0.5):
    """Read partition 0 from the start: up to where this level may read (the consumer's own
    end offset: the last stable offset under read_committed), then poll ``extra_s`` longer to
    show that nothing more comes. Returns the lag row: records read, position, end offset (the
    high watermark the broker reported with the records) and lag."""
    consumer = reader(bootstrap, isolation_level)
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        limit = consumer.end_offsets([tp])[tp]
        consumer.seek_to_beginning(tp)
        read = 0
        stop_at = time.monotonic() + 10
        while consumer.position(tp) < limit and time.monotonic() < stop_at:
            read += len(consumer.poll(timeout_ms=200).get(tp, []))
        read += len(consumer.poll(timeout_ms=int(extra_s * 1000)).get(tp, []))
        position = consumer.position(tp)
        end = consumer.highwater(tp)
        if end is None:  # no fetch answered yet (an empty partition): ask instead
            end = position if isolation_level == "read_uncommitted" else limit
        return {
            "records read": read,
            "position": position,
            "end offset": end,
            "lag": end - position,
        }
    finally:
        close_quietly(consumer)


def lag_per_isolation_level(bootstrap: str, topic: str) -> dict[str, dict[str, int]]:
    """isolation level -> records read, position reached, end offset and lag (end − position)
    of a consumer reading ``topic``'s partition 0 from the start, right now."""
    with grader_busy():  # on a busy machine kafka-python warns that its event loop is slow
        return {level: _read_from_start(bootstrap, topic, level) for level in ISOLATION_LEVELS}


def leave_a_transaction_open(bootstrap: str, topic: str, transactional_id: str) -> KafkaProducer:
    """Write 3 records in a committed transaction, then 4 in one left open, then 2 plain
    (non-transactional) records behind it. Returns the producer whose transaction is open;
    the caller commits, aborts or closes it."""
    producer = transactional(bootstrap, transactional_id)
    try:
        producer.init_transactions()
        producer.begin_transaction()
        for n in range(3):
            producer.send(topic, b"settled %d" % n, partition=0)
        producer.commit_transaction()
        producer.begin_transaction()
        for n in range(4):
            producer.send(topic, b"pending %d" % n, partition=0)
        producer.flush(timeout=10)  # in the log, not committed
    except BaseException:
        close_quietly(producer)
        raise
    plain = KafkaProducer(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        for n in range(2):
            plain.send(topic, b"plain %d" % n, partition=0)
        plain.flush(timeout=10)
    finally:
        close_quietly(plain)
    return producer


def _seconds_until_settled(
    bootstrap: str, topic: str, started: float, deadline_s: float
) -> float | None:
    """Seconds since ``started`` until no transaction is open on partition 0 any more (its last
    stable offset is its end offset); None if that has not happened by the deadline."""
    with OffsetWatch(bootstrap, topic) as watch:
        while time.monotonic() - started < deadline_s:
            bounds = watch.bounds()
            if bounds["last stable offset"][0] == bounds["end offset"][0]:
                return round(time.monotonic() - started, 1)
            time.sleep(0.1)
    return None


def cleanup_interval_ms(bootstrap: str) -> int:
    """How often this broker's transaction coordinator looks for transactions that timed out."""
    [configs] = kafka_io.broker_configs(bootstrap, [CLEANUP_INTERVAL]).values()
    return int(configs[CLEANUP_INTERVAL] or 10_000)


def abort_by_timeout(
    bootstrap: str, topic: str, transactional_id: str, transaction_timeout_ms: int = 2000
) -> dict[str, object]:
    """Open a transaction with ``transaction.timeout.ms`` = ``transaction_timeout_ms`` and leave
    it: the seconds until the coordinator has aborted it (None if not within 30 s), and what
    the producer's commit says afterwards."""
    producer = transactional(
        bootstrap, transactional_id, transaction_timeout_ms=transaction_timeout_ms
    )
    try:
        producer.init_transactions()
        producer.begin_transaction()
        producer.send(topic, b"forgotten", partition=0).get(timeout=10)
        started = time.monotonic()  # the coordinator's clock started at the first send
        seconds = _seconds_until_settled(bootstrap, topic, started, deadline_s=30)
        try:
            with grader_busy():  # kafka-python logs the refusal as well as raising it
                producer.commit_transaction()
            commit = "committed"
        except KafkaError as error:
            commit = f"{type(error).__name__}: {error}"
        return {"aborted after s": seconds, "the producer's commit": commit}
    finally:
        close_quietly(producer)


def abort_by_new_instance(bootstrap: str, topic: str, transactional_id: str) -> float | None:
    """Leave a transaction open, then start a second producer with the same transactional.id:
    seconds from its ``init_transactions()`` until the open transaction is aborted."""
    first = transactional(bootstrap, transactional_id)
    second = transactional(bootstrap, transactional_id)
    try:
        first.init_transactions()
        first.begin_transaction()
        first.send(topic, b"left open", partition=0).get(timeout=10)
        started = time.monotonic()
        second.init_transactions()
        return _seconds_until_settled(bootstrap, topic, started, deadline_s=30)
    finally:
        close_quietly(first)
        close_quietly(second)
