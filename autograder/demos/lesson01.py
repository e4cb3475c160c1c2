"""Lesson 01's demonstrations: what a producer loses when it ends badly, and errors in futures."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

from kafka import KafkaProducer
from kafka.errors import KafkaError

from autograder.grading import kafka_io

# A child process that buffers records (linger_ms=5000 keeps them in memory) and then ends
# in one of three ways.
_SHORT_LIVED = textwrap.dedent("""
    import os, sys
    from kafka import KafkaProducer
    bootstrap, topic, ending = sys.argv[1:4]
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5000)
    for n in range(100):
        producer.send(topic, value=b"reading %d" % n)
    if ending == "flush":
        producer.flush()
    if ending in ("flush", "crash"):
        os._exit(0)   # ends the process at once, as a crash or a kill would
    # ending == "exit": a normal interpreter exit; kafka-python's atexit hook runs
""")

ENDINGS = ("crash", "flush", "exit")


def short_lived_producer(bootstrap: str, topic: str, ending: str, timeout_s: float = 30) -> int:
    """Run a producer process that sends 100 records and ends by ``ending``; return how many
    records the broker holds afterwards."""
    if ending not in ENDINGS:
        raise ValueError(f"ending must be one of {ENDINGS}")
    before = sum(kafka_io.end_offsets(bootstrap, topic).values())
    subprocess.run(
        [sys.executable, "-c", _SHORT_LIVED, bootstrap, topic, ending],
        check=True,
        timeout=timeout_s,
        capture_output=True,
    )
    return sum(kafka_io.end_offsets(bootstrap, topic).values()) - before


def send_and_forget(
    bootstrap: str, topic: str, key: bytes | None, value: bytes, errback=None
) -> None:
    """Send one record, flush, close: the shape of a great deal of real producer code.

    With ``errback=None`` a failure leaves no trace at all, which is the point of the demo.
    """
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    try:
        future = producer.send(topic, key=key, value=value)
        if errback is not None:
            future.add_errback(errback)
        producer.flush(timeout=10)
    finally:
        producer.close(timeout=5)


def time_sends(bootstrap: str, topic: str, count: int, wait_each: bool) -> float:
    """Seconds to send ``count`` small records, waiting on each future or only at the end."""
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    try:
        started = time.perf_counter()
        for n in range(count):
            future = producer.send(topic, value=b"tick %d" % n)
            if wait_each:
                future.get(timeout=10)
        producer.flush(timeout=30)
        return time.perf_counter() - started
    finally:
        producer.close(timeout=5)


def try_send_oversized(bootstrap: str, topic: str, size: int, max_request_size: int) -> str:
    """What happens when one record is bigger than max_request_size: the error's name."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, max_request_size=max_request_size)
    try:
        producer.send(topic, value=b"x" * size)
        return "no error"
    except KafkaError as error:
        return type(error).__name__
    finally:
        producer.close(timeout=5)


def lingering_sends(bootstrap: str, topic: str, count: int = 20) -> dict[str, int]:
    """A long-lived producer with linger_ms=5000: records on the broker right after sending,
    and after flush()."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5000)
    try:
        before = sum(kafka_io.end_offsets(bootstrap, topic).values())
        for n in range(count):
            producer.send(topic, value=b"late %d" % n)
        right_after = sum(kafka_io.end_offsets(bootstrap, topic).values()) - before
        producer.flush(timeout=10)
        after_flush = sum(kafka_io.end_offsets(bootstrap, topic).values()) - before
        return {"right after send": right_after, "after flush": after_flush}
    finally:
        producer.close(timeout=5)


def dropped_producer_sends(bootstrap: str, topic: str, count: int = 20) -> int:
    """Send from a producer that is a local variable and simply goes away: how many arrived."""

    def send_and_drop():
        producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5000)
        for n in range(count):
            producer.send(topic, value=b"dropped %d" % n)
        # no flush, no close: the producer is garbage-collected on return

    before = sum(kafka_io.end_offsets(bootstrap, topic).values())
    send_and_drop()
    return sum(kafka_io.end_offsets(bootstrap, topic).values()) - before


def layout_known_around_first_send(bootstrap: str, topic: str) -> dict[str, bool]:
    """Whether a fresh producer knows ``topic``'s partitions before and after its first
    ``send()``: the first send to a topic waits (up to ``max_block_ms``) for that metadata."""
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    try:
        # The producer's cached cluster layout; kafka-python fills it inside send().
        cluster = producer._metadata
        before = cluster.partitions_for_topic(topic) is not None
        producer.send(topic, value=b"first")
        after = cluster.partitions_for_topic(topic) is not None
        producer.flush(timeout=10)
        return {"known before send()": before, "known when send() returned": after}
    finally:
        producer.close(timeout=5)


def stored_value_of_none(bootstrap: str, topic: str, value_serializer) -> bytes | None:
    """Send key ``apple`` with the value ``None`` through ``value_serializer``; the value the
    broker stored for it (``None`` is a tombstone: a record with no value at all)."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, value_serializer=value_serializer)
    try:
        metadata = producer.send(topic, key=b"apple", value=None).get(timeout=10)
    finally:
        producer.close(timeout=5)
    [stored] = [r for r in kafka_io.read_all(bootstrap, topic) if r.offset == metadata.offset]
    return stored.value


def headers_round_trip(
    bootstrap: str, topic: str, headers: list[tuple[str, bytes]]
) -> tuple[tuple[str, bytes], ...]:
    """Send one record with ``headers``; the headers the broker stored with it."""
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    try:
        metadata = producer.send(topic, key=b"apple", value=b"1.20", headers=headers).get(
            timeout=10
        )
    finally:
        producer.close(timeout=5)
    [stored] = [r for r in kafka_io.read_all(bootstrap, topic) if r.offset == metadata.offset]
    return stored.headers
