"""Lesson 02's demonstrations: where keyed and keyless records land, hot partitions, and what
growing a topic does to key placement. Every answer is read back from the broker."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter

from kafka import KafkaAdminClient, KafkaProducer
from kafka.errors import KafkaError
from kafka.partitioner import DefaultPartitioner, Partitioner, StickyPartitioner
from kafka.serializer import Serializer

from autograder.grading import kafka_io

# Short limits: a demo that cannot reach the broker fails in seconds, well inside a cell.
_QUICK = {"request_timeout_ms": 5000, "max_block_ms": 10000}


def _producer(**settings) -> KafkaProducer:
    return KafkaProducer(bootstrap_servers=settings.pop("bootstrap"), **_QUICK, **settings)


def _await_leaders(bootstrap: str, topic: str, deadline_s: float = 5.0) -> None:
    """Wait until the broker reports a leader for every partition of ``topic``.

    Right after a topic is created, the first metadata a producer fetches may still lack some
    leaders, and kafka-python's default partitioner then picks only among the partitions it
    knows a leader for; waiting keeps the keyless demos honest.
    """
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        stop_at = time.monotonic() + deadline_s
        while time.monotonic() < stop_at:
            [described] = admin.describe_topics([topic])
            if all(p["leader_id"] >= 0 for p in described["partitions"]):
                return
            time.sleep(0.05)
    finally:
        admin.close()


def _stored_by_value(bootstrap: str, topic: str) -> dict[bytes | None, int]:
    """value -> the partition the broker holds it in (values are unique in these demos)."""
    return {record.value: record.partition for record in kafka_io.read_all(bootstrap, topic)}


def broker_placement(
    bootstrap: str, topic: str, keys: list[str], partitioner: Partitioner | None = None
) -> dict[str, int]:
    """Send one record per key (with the default partitioner unless one is given);
    {key: partition} as the broker stores them."""
    producer = _producer(bootstrap=bootstrap, partitioner=partitioner or DefaultPartitioner())
    try:
        for key in keys:
            producer.send(topic, key=key.encode(), value=f"placed {key}".encode())
        producer.flush(timeout=10)
    finally:
        producer.close(timeout=5)
    stored = _stored_by_value(bootstrap, topic)
    return {key: stored[f"placed {key}".encode()] for key in keys}


def hash_in_fresh_processes(key: str, processes: int = 3) -> list[int]:
    """Python's own hash() of ``key``, computed in that many new interpreters (with
    PYTHONHASHSEED unset, as it normally is)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}
    return [
        int(
            subprocess.run(
                [sys.executable, "-c", f"print(hash({key!r}))"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
                timeout=30,
            ).stdout
        )
        for _ in range(processes)
    ]


def interleaved_keys(bootstrap: str, topic: str, keys: list[str], rounds: int = 4) -> dict:
    """Send ``rounds`` numbered records per key, the keys interleaved; for each key, the
    partitions holding its records and their numbers in the broker's offset order."""
    producer = _producer(bootstrap=bootstrap)
    try:
        for n in range(rounds):
            for key in keys:
                producer.send(topic, key=key.encode(), value=f"{key}#{n}".encode())
        producer.flush(timeout=10)
    finally:
        producer.close(timeout=5)
    found: dict[str, dict] = {key: {"partitions": set(), "sequence": []} for key in keys}
    for record in kafka_io.read_all(bootstrap, topic):  # partition by partition, offset order
        key, number = record.value_text.split("#")
        found[key]["partitions"].add(record.partition)
        found[key]["sequence"].append(int(number))
    return {
        key: {"partitions": sorted(v["partitions"]), "sequence": v["sequence"]}
        for key, v in found.items()
    }


def keyless_send_order(
    bootstrap: str, topic: str, count: int = 40, sticky: bool = False, batch_size: int = 200
) -> list[tuple[int, int]]:
    """Send ``count`` keyless records in one burst (linger_ms=2000 keeps them together) with the
    default or the sticky partitioner; (partition, offset) of each, in send order, read back
    from the broker."""
    _await_leaders(bootstrap, topic)
    partitioner = StickyPartitioner() if sticky else DefaultPartitioner()
    producer = _producer(
        bootstrap=bootstrap, linger_ms=2000, batch_size=batch_size, partitioner=partitioner
    )
    try:
        for n in range(count):
            producer.send(topic, value=b"%04d" % n)
        producer.flush(timeout=10)
    finally:
        producer.close(timeout=5)
    stored = kafka_io.read_all(bootstrap, topic)
    return [(r.partition, r.offset) for r in sorted(stored, key=lambda r: int(r.value_text))]


class CountingPartitioner(DefaultPartitioner):
    """The default partitioner, counting how often the producer asks it."""

    def __init__(self) -> None:
        self.calls = 0

    def partition(self, topic, key, serialized_key, value, serialized_value, cluster):
        self.calls += 1
        return super().partition(topic, key, serialized_key, value, serialized_value, cluster)


def partitioner_calls(
    bootstrap: str, topic: str, count: int = 40, batch_size: int = 200, keyed: bool = False
) -> dict[str, int]:
    """Send ``count`` records (keyless, as keyless_send_order does, or each with its own key);
    how many times the producer called the partitioner, and how many records the broker holds."""
    _await_leaders(bootstrap, topic)
    counting = CountingPartitioner()
    producer = _producer(
        bootstrap=bootstrap, linger_ms=2000, batch_size=batch_size, partitioner=counting
    )
    try:
        for n in range(count):
            producer.send(topic, key=b"k%d" % n if keyed else None, value=b"%04d" % n)
        producer.flush(timeout=10)
    finally:
        producer.close(timeout=5)
    return {
        "records sent": count,
        "records on the broker": sum(kafka_io.end_offsets(bootstrap, topic).values()),
        "partitioner calls": counting.calls,
    }


def runs(placements: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Consecutive records in one partition, as (partition, how many) in send order."""
    found: list[list[int]] = []
    for partition, _offset in placements:
        if found and found[-1][0] == partition:
            found[-1][1] += 1
        else:
            found.append([partition, 1])
    return [(p, n) for p, n in found]


def plot_send_order(placements: dict[str, list[tuple[int, int]]], partitions: int = 3):
    """One strip per partitioner: for each record in send order, the partition it landed in."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(
        len(placements), 1, figsize=(7, 1.3 * len(placements) + 0.4), sharex=True, squeeze=False
    )
    for axis, (label, placed) in zip(axes[:, 0], placements.items(), strict=True):
        axis.scatter(
            range(len(placed)),
            [p for p, _ in placed],
            s=14,
            c=[p for p, _ in placed],
            cmap="viridis",
            vmin=0,
            vmax=partitions - 1,
        )
        axis.set_yticks(range(partitions))
        axis.set_ylabel("partition")
        axis.set_title(label, fontsize=9, loc="left")
    axes[-1, 0].set_xlabel("record number, in send order")
    figure.tight_layout()
    plt.show()


class JsonSerializer(Serializer):
    """Values as UTF-8 JSON."""

    def serialize(self, topic, headers, data):
        return json.dumps(data).encode("utf-8")


class RegionTable(Partitioner):
    """Places each record by the ``region`` field of its value: a table, with a fallback."""

    def __init__(self, table: dict[str, int], fallback: int) -> None:
        self.table, self.fallback = table, fallback

    def partition(self, topic, key, serialized_key, value, serialized_value, cluster):
        return self.table.get(value["region"], self.fallback)


def region_traffic(
    bootstrap: str,
    topic: str,
    events_per_region: dict[str, int],
    table: dict[str, int],
    fallback: int,
) -> dict[int, int]:
    """Send that many JSON events per region through a RegionTable; records per partition, as
    the broker counts them (its end offsets)."""
    producer = _producer(
        bootstrap=bootstrap,
        partitioner=RegionTable(table, fallback),
        value_serializer=JsonSerializer(),
        linger_ms=50,
    )
    try:
        for region, count in events_per_region.items():
            for n in range(count):
                producer.send(topic, value={"region": region, "n": n})
        producer.flush(timeout=10)
    finally:
        producer.close(timeout=5)
    return dict(sorted(kafka_io.end_offsets(bootstrap, topic).items()))


def plot_records_per_partition(counts: dict[int, int], title: str) -> None:
    """A small bar chart: records per partition."""
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(4.5, 2.4))
    bars = axis.bar([str(p) for p in counts], list(counts.values()), color="#4c72b0")
    axis.bar_label(bars, fontsize=8)
    axis.set_ylim(0, max(counts.values(), default=1) * 1.2)  # room for the labels
    axis.set_xlabel("partition")
    axis.set_ylabel("records")
    axis.set_title(title, fontsize=9)
    figure.tight_layout()
    plt.show()


def grow_topic(bootstrap: str, topic: str, keys: list[str], new_count: int) -> dict[str, tuple]:
    """Where each key lands before and after the topic grows to ``new_count`` partitions.

    For each key: (partition before, partition from the same producer right after the growth,
    partition from a producer started after it), all read back from the broker.
    """
    old = _producer(bootstrap=bootstrap)
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        for key in keys:
            old.send(topic, key=key.encode(), value=f"before {key}".encode())
        old.flush(timeout=10)
        admin.create_partitions({topic: new_count}, timeout_ms=5000)
        for key in keys:
            old.send(topic, key=key.encode(), value=f"stale {key}".encode())
        old.flush(timeout=10)
        new = _producer(bootstrap=bootstrap)
        try:
            for key in keys:
                new.send(topic, key=key.encode(), value=f"after {key}".encode())
            new.flush(timeout=10)
        finally:
            new.close(timeout=5)
    finally:
        old.close(timeout=5)
        admin.close()
    stored = _stored_by_value(bootstrap, topic)
    return {
        key: tuple(stored[f"{when} {key}".encode()] for when in ("before", "stale", "after"))
        for key in keys
    }


def try_shrink(bootstrap: str, topic: str, partitions: int) -> str:
    """Ask the broker to give ``topic`` fewer partitions; the name of the error it answers
    with (or "no error")."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        admin.create_partitions({topic: partitions}, timeout_ms=5000)
        return "no error"
    except KafkaError as error:
        said = re.search(r"error_message='([^']*)'", str(error))
        return f"{type(error).__name__}: {said.group(1) if said else error}"
    finally:
        admin.close()


def placement_table(moves: dict[str, tuple]) -> None:
    """Print the grow_topic result as a table, marking the keys that moved."""
    print(f"{'key':<10}{'before':>7}{'same producer':>15}{'new producer':>14}")
    for key, (before, stale, after) in moves.items():
        mark = "  moved" if after != before else ""
        print(f"{key:<10}{before:>7}{stale:>15}{after:>14}{mark}")
    moved = sum(after != before for before, _stale, after in moves.values())
    print(f"{moved} of {len(moves)} keys moved")


def count_by_partition(placement: dict[str, int]) -> dict[int, int]:
    """How many of the keys each partition got."""
    return dict(sorted(Counter(placement.values()).items()))


def librdkafka_placement(
    bootstrap: str, topic: str, keys: list[str], partitioner: str = "consistent_random"
) -> dict[str, int]:
    """Send one record per key with a librdkafka client (confluent-kafka) and its
    ``partitioner`` setting (its default unless told); {key: partition} as the broker stores
    them."""
    from confluent_kafka import Producer

    producer = Producer(
        {"bootstrap.servers": bootstrap, "partitioner": partitioner, "linger.ms": 0}
    )
    for key in keys:
        producer.produce(topic, key=key.encode("utf-8"), value=f"librdkafka {key}".encode())
    left = producer.flush(10)
    if left:
        raise RuntimeError(f"{left} record(s) not delivered within 10 s")
    placed = {r.key_text: r.partition for r in kafka_io.read_all(bootstrap, topic)}
    return {key: placed[key] for key in keys}
