"""A SQLite sink and a consumer that kill their own process at a chosen moment.

Lesson 07's check hands both to the learner's function inside a forked child (see
``autograder.grading.crash_runner``). The kill is a real SIGKILL: no ``finally`` runs, nothing is
closed or committed. (A killed process, not a power cut: the sink skips the fsync that only a
power cut needs, see ``open_sink``.) Two moments matter:

* ``CrashWhileStoring``: the sink is about to commit rows it was given (the records are
  processed, the transaction is not durable yet). Code that committed offsets before this point
  loses those records.
* ``CrashBeforeOffsetCommit``: the sink has just made new rows durable and the code's next step
  (a sink statement, a poll or an offset commit) never happens. Code whose sink cannot take the
  same record twice is fine; any other gets duplicates on the restart.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

from kafka import KafkaConsumer, TopicPartition
from kafka.serializer import Deserializer

from autograder.grading.crash_runner import crash_now

TABLE = "orders"
COMMIT_WORDS = ("COMMIT", "END")


class JsonDeserializer(Deserializer):
    """Record values from JSON bytes to Python objects."""

    def deserialize(self, topic, headers, data):
        return None if data is None else json.loads(data.decode("utf-8"))


def durable_rows(path: Path) -> int:
    """Rows in the sink's table that a fresh connection sees: what survived every crash so far."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as reader:
            return reader.execute(f"SELECT count(*) FROM {TABLE}").fetchall()[0][0]
    except sqlite3.Error:  # no file or no table yet
        return 0


class CrashPlan:
    """When to crash; the base plan never does."""

    description = "ran to the end"

    def on_statement(self, sink: CrashingSink, sql: str) -> None:
        """Called as each SQL statement starts on the sink (COMMIT included)."""

    def on_kafka_call(self, sink: CrashingSink) -> None:
        """Called before each poll and offset commit of the consumer."""


class CrashWhileStoring(CrashPlan):
    """Dies as the sink is about to commit once ``after_rows`` rows were written in this run (or,
    for statements outside a transaction, at the first statement after them)."""

    description = "killed while storing, just before the sink's commit"

    def __init__(self, after_rows: int) -> None:
        self.after_rows = after_rows

    def on_statement(self, sink: CrashingSink, sql: str) -> None:
        committing = sql.lstrip().upper().startswith(COMMIT_WORDS)
        if sink.total_changes >= self.after_rows and (committing or not sink.in_transaction):
            crash_now()


class CrashBeforeOffsetCommit(CrashPlan):
    """Dies at the first step after the sink durably holds rows it did not hold at the start."""

    description = "killed after the sink's commit, before the offsets' commit"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.at_start = durable_rows(path)

    def _check(self) -> None:
        if durable_rows(self.path) > self.at_start:
            crash_now()

    def on_statement(self, sink: CrashingSink, sql: str) -> None:
        self._check()

    def on_kafka_call(self, sink: CrashingSink) -> None:
        self._check()


class CrashingSink(sqlite3.Connection):
    """A plain sqlite3 connection, watched by a crash plan."""

    plan: CrashPlan = CrashPlan()

    def watch(self, plan: CrashPlan) -> None:
        self.plan = plan
        self.set_trace_callback(lambda sql: self.plan.on_statement(self, sql))

    def commit(self) -> None:
        super().commit()
        self.plan.on_statement(self, "-- after commit")  # `with sink:` commits without this


class CrashingConsumer(KafkaConsumer):
    """A KafkaConsumer whose poll and commits first ask the crash plan."""

    sink: CrashingSink | None = None

    def _ask(self) -> None:
        if self.sink is not None:
            self.sink.plan.on_kafka_call(self.sink)

    def poll(self, *args, **kwargs):
        self._ask()
        return super().poll(*args, **kwargs)

    def commit(self, *args, **kwargs):
        self._ask()
        return super().commit(*args, **kwargs)

    def commit_async(self, *args, **kwargs):
        self._ask()
        return super().commit_async(*args, **kwargs)


def open_consumer(bootstrap: str, topic: str, group: str) -> CrashingConsumer:
    """The consumer the learner gets: every partition of ``topic`` assigned (so no group
    membership waits on a dead predecessor), offsets committed under ``group``, auto-commit off,
    values as dicts, at most 5 records per poll."""
    consumer = CrashingConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        client_id="lesson07-learner",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=5,
        value_deserializer=JsonDeserializer(),
        request_timeout_ms=6000,
    )
    partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
    consumer.assign(partitions)
    for partition in partitions:  # fetch the committed positions now, not in the first poll
        consumer.position(partition, timeout_ms=5000)
    return consumer


def open_sink(path: Path) -> CrashingSink:
    sink = sqlite3.connect(path, factory=CrashingSink, timeout=5)
    # SIGKILL spares what the process already handed the operating system; only a power cut
    # needs the fsync at every commit, and skipping it keeps the check fast.
    sink.execute("PRAGMA synchronous = OFF")
    return sink
