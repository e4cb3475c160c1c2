"""Section 4: consume-transform-produce under real crashes, exactly once against at least once.

Each pipeline reads orders from a source topic and writes one receipt per order to a sink
topic. It runs in a forked child process (``autograder.grading.crash_runner``) that kills itself
with SIGKILL at a chosen line, is restarted, and finally runs to the end. The pipelines take
their partitions with ``assign()`` while carrying a ``group_id``, as lesson 07's consumers do: their
offset commits count for the group and a dead one leaves no member for the restart to wait for.
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from autograder.demos.lesson10.producers import transactional
from autograder.demos.lesson10.reading import ISOLATION_LEVELS, read_values
from autograder.grading import kafka_io
from autograder.grading.crash_runner import crash_now, run_forked
from autograder.grading.quiet import silence_kafka_logs

# The moments the first two runs are killed at, in their second batch; the third run finishes.
CRASHES = ("after sending, before commit", "after commit, before the next poll")
# kafka-python's 30 s request timeout for the producers, and for the consumers (whose own
# default is 305 s) so that no call waits minutes; a busy machine can take seconds to answer.
FAST = {"request_timeout_ms": 30_000}


def fill(bootstrap: str, topic: str, count: int) -> None:
    """Write ``count`` orders ``order <n>``, dealt over the topic's partitions in turn (a keyless
    sticky producer would put a few records all in one partition)."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, **FAST)
    try:
        partitions = len(producer.partitions_for(topic))
        for n in range(count):
            producer.send(topic, value=b"order %d" % n, partition=n % partitions)
        producer.flush(timeout=10)
    finally:
        producer.close(timeout=5)


def receipt(value: bytes) -> bytes:
    """The transformation: one receipt per order."""
    return b"receipt for " + value


def input_consumer(bootstrap: str, topic: str, group: str, isolation_level: str) -> KafkaConsumer:
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level=isolation_level,
        max_poll_records=3,
        **FAST,
    )
    consumer.assign([TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)])
    return consumer


def batches_until_end(consumer: KafkaConsumer, deadline_s: float):
    """Yield poll() results until every partition's position reaches the end offsets the
    consumer saw when it started, or the deadline."""
    partitions = list(consumer.assignment())
    ends = consumer.end_offsets(partitions)
    stop_at = time.monotonic() + deadline_s
    while time.monotonic() < stop_at and any(consumer.position(tp) < ends[tp] for tp in partitions):
        batch = consumer.poll(timeout_ms=500)
        if batch:
            yield batch


def exactly_once(
    bootstrap: str,
    source: str,
    sink: str,
    group: str,
    transactional_id: str,
    crash: str | None = None,
    deadline_s: float = 20,
) -> int:
    """Consume-transform-produce in transactions: each batch's receipts and the input offsets
    after it are committed together, or not at all. ``crash`` (one of CRASHES) kills the
    process in its second batch. Returns the number of transactions committed."""
    silence_kafka_logs()  # a child process: its log lines would only land in a log file
    producer = transactional(bootstrap, transactional_id)
    # First init_transactions(): it aborts whatever a predecessor with this transactional.id left
    # open, and with it the offsets that predecessor had added to its transaction.
    producer.init_transactions()
    # read_committed, so that the committed offsets it starts from are stable ones (kafka-python
    # asks the broker for those only at this level) and no aborted input is processed.
    consumer = input_consumer(bootstrap, source, group, "read_committed")
    committed = 0
    try:
        for batch in batches_until_end(consumer, deadline_s):
            producer.begin_transaction()
            for records in batch.values():
                for record in records:
                    producer.send(sink, key=record.key, value=receipt(record.value))
            offsets = {
                tp: OffsetAndMetadata(records[-1].offset + 1, "", -1)
                for tp, records in batch.items()
            }
            producer.send_offsets_to_transaction(offsets, consumer.group_metadata())
            if crash == CRASHES[0] and committed == 1:
                producer.flush(timeout=10)
                crash_now()  # receipts and offsets are in the transaction, which never ends
            producer.commit_transaction()
            committed += 1
            if crash == CRASHES[1] and committed == 2:
                crash_now()  # committed; the next poll never happens
        return committed
    finally:
        consumer.close(autocommit=False)
        producer.close(timeout=5)


def at_least_once(
    bootstrap: str,
    source: str,
    sink: str,
    group: str,
    transactional_id: str | None = None,
    crash: str | None = None,
    deadline_s: float = 20,
) -> int:
    """The same pipeline as lesson 07 would write it: plain (idempotent) sends, flushed, then
    a plain offset commit. Same crash points. Returns the number of batches committed."""
    silence_kafka_logs()
    producer = KafkaProducer(bootstrap_servers=bootstrap, **FAST)
    consumer = input_consumer(bootstrap, source, group, "read_uncommitted")
    committed = 0
    try:
        for batch in batches_until_end(consumer, deadline_s):
            for records in batch.values():
                for record in records:
                    producer.send(sink, key=record.key, value=receipt(record.value))
            producer.flush(timeout=10)
            if crash == CRASHES[0] and committed == 1:
                crash_now()  # the receipts are written; the offsets are not committed
            consumer.commit()
            committed += 1
            if crash == CRASHES[1] and committed == 2:
                crash_now()
        return committed
    finally:
        consumer.close(autocommit=False)
        producer.close(timeout=5)


PIPELINES = {"exactly once (transactions)": exactly_once, "at least once (plain)": at_least_once}


def audit(bootstrap: str, source: str, sink: str) -> dict[str, int]:
    """Orders in the source against receipts in the sink, counted by a read_committed and a
    read_uncommitted consumer: missing receipts (under read_committed), extra copies."""
    orders = {v for v in read_values(bootstrap, source)}
    views = {level: Counter(read_values(bootstrap, sink, level)) for level in ISOLATION_LEVELS}
    committed = views["read_committed"]
    expected = {receipt(o.encode()).decode() for o in orders}
    return {
        "orders": len(orders),
        "receipts read_committed": sum(committed.values()),
        "missing": len(expected - set(committed)),
        "twice or more": sum(n - 1 for n in committed.values() if n > 1),
        "receipts read_uncommitted": sum(views["read_uncommitted"].values()),
    }


def crash_twice_and_finish(
    bootstrap: str, source: str, prefix: str, name: str
) -> dict[str, object]:
    """Run pipeline ``name`` (a key of PIPELINES) three times on one group and sink: killed at
    each of CRASHES in turn, then to the end. Returns how each run ended and the audit.

    The sink is ``<prefix>-sink``, the group and the transactional.id ``<prefix>``."""
    sink = f"{prefix}-sink"
    kafka_io.create_topic(bootstrap, sink, 1)
    runs = []
    for crash in (*CRASHES, None):
        body = partial(PIPELINES[name], bootstrap, source, sink, prefix, prefix, crash)
        run = run_forked(body, time_limit_s=40)
        if run.crashed != bool(crash) or run.error or run.timed_out:
            raise RuntimeError(f"the pipeline process ended unexpectedly: {run}")
        runs.append("killed " + crash if crash else f"finished ({run.returned} commits)")
    return {"runs": runs, **audit(bootstrap, source, sink)}


def crash_both(bootstrap: str, source: str, prefix: str) -> dict[str, dict[str, object]]:
    """crash_twice_and_finish for every pipeline of PIPELINES, side by side (each in its own
    thread, its runs in their own processes; group and sink ``<prefix>-<n>``)."""
    with ThreadPoolExecutor(len(PIPELINES)) as pool:
        runs = {
            name: pool.submit(crash_twice_and_finish, bootstrap, source, f"{prefix}-{n}", name)
            for n, name in enumerate(PIPELINES)
        }
        return {name: run.result() for name, run in runs.items()}


def print_audits(audits: dict[str, dict[str, object]]) -> None:
    """One row per pipeline: the counts of its audit."""
    columns = [c for c in next(iter(audits.values())) if c != "runs"]
    width = max(len(label) for label in audits)
    print(" " * width + "".join(f"{c:>14}" if len(c) < 14 else f"  {c}" for c in columns))
    for label, row in audits.items():
        cells = "".join(f"{row[c]:>{max(14, len(c) + 2)}}" for c in columns)
        print(f"{label:<{width}}{cells}")
