"""Lesson 06's demonstrations: where auto-commit leaves a group after a crash, manual commits,
the off-by-one trap, and seeking.

Every consumer here assigns its partitions itself (``assign``) while carrying a ``group_id``:
commits work exactly as for a subscribed member, and a killed process leaves no member behind
for the group to wait for.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from queue import Empty, Queue

from kafka import KafkaConsumer, KafkaProducer, OffsetAndMetadata, TopicPartition

from autograder.grading import kafka_io
from autograder.grading.quiet import grader_busy
from autograder.notebook.workers import Worker, running

FAST = {"request_timeout_ms": 5000}
# 1 June 2024, 09:00 UTC: the readings' clock starts here, one reading a minute.
READINGS_START_MS = 1717232400000
MINUTE_MS = 60_000


def fill(
    bootstrap: str, topic: str, count: int, partition: int = 0, start_ms: int | None = None
) -> None:
    """Write ``count`` records ``b"record <n>"`` to one partition; with ``start_ms``, record n
    is stamped ``start_ms + n`` minutes (an explicit ``timestamp_ms``)."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, **FAST)
    try:
        for n in range(count):
            stamp = None if start_ms is None else start_ms + n * MINUTE_MS
            producer.send(topic, partition=partition, value=b"record %d" % n, timestamp_ms=stamp)
        producer.flush(timeout=10)
    finally:
        producer.close(timeout=5)


def committed(bootstrap: str, group: str) -> dict[int, int]:
    """partition -> the group's committed offset, as the broker holds it."""
    return {
        partition: offset
        for (_topic, partition), offset in sorted(
            kafka_io.committed_offsets(bootstrap, group).items()
        )
    }


# ----------------------------------------------------------------------------------------------
# Auto-commit and a real crash


def auto_committing_consumer(
    bootstrap: str,
    topic: str,
    group: str,
    journal: str,
    hand_off: bool,
    per_record_s: float,
    interval_ms: int,
    lifetime_s: float = 60,
) -> None:
    """The child process: consume partition 0 with auto-commit and 'process' each record slowly,
    appending its offset to ``journal`` once done (a file survives a SIGKILL).

    ``hand_off=False``: each batch is processed inside the poll loop, before the next poll.
    ``hand_off=True``: the poll loop queues records for a worker thread and keeps polling.
    ``lifetime_s`` ends the process on its own if nobody kills it.
    """
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=True,
        auto_commit_interval_ms=interval_ms,
        auto_offset_reset="earliest",
        max_poll_records=5,
        **FAST,
    )
    consumer.assign([TopicPartition(topic, 0)])
    todo: Queue = Queue()
    with open(journal, "a", buffering=1) as done:

        def process(record) -> None:
            time.sleep(per_record_s)
            done.write(f"{record.offset}\n")  # line-buffered: on disk before the next record

        def worker() -> None:
            while True:
                try:
                    process(todo.get(timeout=1))
                except Empty:
                    continue

        if hand_off:
            threading.Thread(target=worker, daemon=True).start()
        stop_at = time.monotonic() + lifetime_s
        while time.monotonic() < stop_at:
            for records in consumer.poll(timeout_ms=100).values():
                for record in records:
                    if hand_off:
                        todo.put(record)
                    else:
                        process(record)
    os._exit(0)  # nothing graceful: the point is what the broker holds without a goodbye


@dataclass(frozen=True)
class CrashReport:
    """What a killed auto-committing consumer had done, and what the broker says it had."""

    processed: list[int]  # offsets the consumer finished, in order
    committed: int | None  # the group's committed offset afterwards (None: nothing committed)
    records: int  # records in the partition
    exitcode: int | None = None  # the child's end: -9 when SIGKILL ended it

    @property
    def restarts_at(self) -> int:
        """Where a restarted consumer of the group begins (the committed offset, else 0)."""
        return self.committed or 0

    @property
    def lost(self) -> list[int]:
        """Offsets never processed that a restarted consumer will skip."""
        return [n for n in range(self.restarts_at) if n not in self.processed]

    @property
    def repeated(self) -> list[int]:
        """Offsets already processed that a restarted consumer will process again."""
        return [n for n in self.processed if n >= self.restarts_at]

    def summary(self) -> dict[str, object]:
        return {
            "processed": f"{len(self.processed)} records (offsets 0-{max(self.processed)})"
            if self.processed
            else "none",
            "committed offset": self.committed,
            "lost": len(self.lost),
            "processed again": len(self.repeated),
        }


def crash_auto_commit(
    bootstrap: str,
    topic: str,
    group: str,
    hand_off: bool,
    records: int = 30,
    kill_after: int = 12,
    per_record_s: float = 0.1,
    interval_ms: int = 200,
    timeout_s: float = 30,
) -> CrashReport:
    """Fill partition 0 of ``topic`` with ``records`` records, start an auto-committing consumer
    in a child process, SIGKILL it once it has processed ``kill_after`` records, and compare what
    it processed with what its group committed."""
    fill(bootstrap, topic, records)
    with tempfile.TemporaryDirectory() as scratch:
        journal = Path(scratch) / "processed.txt"
        journal.touch()
        child = Worker(
            auto_committing_consumer,
            bootstrap,
            topic,
            group,
            str(journal),
            hand_off,
            per_record_s,
            interval_ms,
            name="auto-committing-consumer",
        )
        with running(child):
            deadline = time.monotonic() + timeout_s
            while (
                len(journal.read_text().split()) < kill_after
                and child.alive
                and time.monotonic() < deadline
            ):
                time.sleep(0.01)
            child.kill()  # SIGKILL: no close(), no last commit
        exitcode = child.exitcode
        processed = [int(line) for line in journal.read_text().split()]
    found = committed(bootstrap, group)
    return CrashReport(processed, found.get(0), records, exitcode)


def plot_crashes(reports: dict[str, CrashReport]):
    """One row per crash: processed offsets, the committed offset, and what is lost or repeated."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    colours = {
        "processed once": "#2e8b57",
        "processed, done again after restart": "#f0a030",
        "never processed, skipped after restart": "#c0392b",
        "not reached": "#dddddd",
    }
    figure, axes = plt.subplots(
        len(reports), 1, figsize=(9, 1.2 * len(reports) + 0.9), sharex=True, squeeze=False
    )
    for ax, (label, report) in zip(axes[:, 0], reports.items(), strict=True):
        for offset in range(report.records):
            if offset in report.repeated:
                kind = "processed, done again after restart"
            elif offset in report.lost:
                kind = "never processed, skipped after restart"
            elif offset in report.processed:
                kind = "processed once"
            else:
                kind = "not reached"
            ax.add_patch(plt.Rectangle((offset, 0), 0.9, 1, color=colours[kind]))
        ax.axvline(report.restarts_at - 0.05, color="black", linewidth=2)
        near_end = report.restarts_at > 0.8 * report.records
        ax.text(
            report.restarts_at + (-0.3 if near_end else 0.3),
            1.12,
            f"committed {report.committed}",
            fontsize=9,
            ha="right" if near_end else "left",
        )
        ax.set_ylim(0, 1.45)
        ax.set_yticks([])
        ax.set_ylabel(label, rotation=0, ha="right", va="center")
    axes[-1, 0].set_xlim(0, max(r.records for r in reports.values()))
    axes[-1, 0].set_xlabel("offset")
    figure.legend(
        handles=[Patch(color=c, label=k) for k, c in colours.items()],
        ncol=2,
        loc="upper center",
        frameon=False,
        fontsize=9,
    )
    figure.tight_layout(rect=(0, 0, 1, 0.8))
    return figure


# ----------------------------------------------------------------------------------------------
# Manual commits


def _manual_consumer(bootstrap: str, group: str) -> KafkaConsumer:
    return KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **FAST,
    )


def first_offset_after_restart(bootstrap: str, topic: str, group: str) -> int | None:
    """The offset of the first record a fresh consumer of ``group`` receives (None: no record)."""
    with _manual_consumer(bootstrap, group) as consumer:
        consumer.assign([TopicPartition(topic, 0)])
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=200, max_records=1).values():
                return records[0].offset
    return None


def commit_then_restart(
    bootstrap: str, topic: str, group: str, commit_next: bool, count: int = 5
) -> dict[str, object]:
    """Read ``count`` records, commit the last one's offset (or that offset + 1), close, then see
    which record a restarted consumer of the group receives first."""
    tp = TopicPartition(topic, 0)
    with _manual_consumer(bootstrap, group) as consumer:
        consumer.assign([tp])
        read: list = []
        deadline = time.monotonic() + 5
        while len(read) < count and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=200, max_records=count - len(read)).values():
                read += records
        last = read[-1]
        offset = last.offset + 1 if commit_next else last.offset
        consumer.commit({tp: OffsetAndMetadata(offset, "", last.leader_epoch)})
    return {
        "processed": [r.offset for r in read],
        "committed": committed(bootstrap, group).get(0),
        "first record after restart": first_offset_after_restart(bootstrap, topic, group),
    }


def process_until_failure(
    bootstrap: str, topic: str, group: str, fail_at: int, commit_processed: bool
) -> dict[str, object]:
    """The sync-on-shutdown pattern around a processing step that fails at offset ``fail_at``.

    In the loop each batch ends with ``commit_async``; on the way out ``commit()`` (synchronous)
    has the last word, then ``close()``. With ``commit_processed`` the commits carry the offsets
    of the records really processed; without, they carry the consumer's positions.
    """
    tp = TopicPartition(topic, 0)
    processed: list[int] = []
    done: dict[TopicPartition, OffsetAndMetadata] = {}
    consumer = _manual_consumer(bootstrap, group)
    consumer.assign([tp])
    error = None
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=200, max_records=5).values():
                for record in records:
                    if record.offset == fail_at:
                        raise ValueError(f"cannot process offset {record.offset}")
                    processed.append(record.offset)
                    done[tp] = OffsetAndMetadata(record.offset + 1, "", record.leader_epoch)
            consumer.commit_async(done if commit_processed else None)
    except ValueError as failure:
        error = str(failure)
    finally:
        try:
            consumer.commit(done if commit_processed else None)  # the last word, synchronous
        finally:
            consumer.close()
    return {
        "error": error,
        "processed": f"offsets 0-{processed[-1]}" if processed else "none",
        "committed": committed(bootstrap, group).get(0),
        "first record after restart": first_offset_after_restart(bootstrap, topic, group),
    }


def _wait_until(condition, deadline_s: float = 10.0) -> bool:
    """Check ``condition()`` every 50 ms until it holds (True) or ``deadline_s`` passes (False).
    Only the caller's own checks run meanwhile: no consumer call, so no callback can fire."""
    stop_at = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > stop_at:
            return False
        time.sleep(0.05)
    return True


def async_commit_callback_timing(bootstrap: str, topic: str, group: str) -> dict[str, object]:
    """When the broker has an async commit, and when its callback runs.

    Waits (up to 10 s) until the broker holds the new offset and the future that
    ``commit_async`` returned is done, calling nothing on the consumer meanwhile; then one
    ``poll()``. If the 10 s pass, "broker has" shows what the broker held by then."""
    tp = TopicPartition(topic, 0)
    calls: list = []
    with _manual_consumer(bootstrap, group) as consumer:
        consumer.assign([tp])
        consumer.poll(timeout_ms=2000, max_records=3)
        future = consumer.commit_async(
            callback=lambda offsets, response: calls.append(
                {tp.partition: meta.offset for tp, meta in offsets.items()}
            )
        )
        _wait_until(
            lambda: future.is_done and committed(bootstrap, group).get(0) == consumer.position(tp)
        )
        seen: dict[str, object] = {
            "commit_async returned": type(future).__name__,
            "future done": future.is_done,
            "broker has": committed(bootstrap, group).get(0),
            "callback calls before the next poll": len(calls),
        }
        consumer.poll(timeout_ms=0)
        seen["callback calls after the next poll"] = len(calls)
        seen["callback saw"] = calls[0] if calls else None
    return seen


def pending_callbacks(bootstrap: str, topic: str, group: str) -> dict[str, list[str]]:
    """Two async commits, each with a callback, and no poll() between them or after: which
    callbacks have run after the first commit's answer, after the second commit, and after
    ``close()`` (auto-commit off)."""
    tp = TopicPartition(topic, 0)
    ran: list[str] = []
    seen: dict[str, list[str]] = {}
    with _manual_consumer(bootstrap, group) as consumer:
        consumer.assign([tp])
        consumer.poll(timeout_ms=2000, max_records=2)
        first = consumer.commit_async(callback=lambda offsets, response: ran.append("first"))
        _wait_until(lambda: first.is_done)
        seen["once the first commit is answered"] = list(ran)
        second = consumer.commit_async(callback=lambda offsets, response: ran.append("second"))
        seen["after the second commit_async()"] = list(ran)
        _wait_until(lambda: second.is_done)
    seen["after close()"] = list(ran)
    return seen


def assigned_commits_while_a_member_is_in(bootstrap: str, topic: str, group: str) -> dict:
    """An assign() consumer carrying ``group`` commits three times: while the group is empty,
    while a subscribed member is in it, and after that member has closed. What each commit got."""
    from kafka.errors import CommitFailedError

    tp = TopicPartition(topic, 0)
    outcomes: dict[str, str] = {}

    def commit(assigned: KafkaConsumer, label: str, offset: int) -> None:
        try:
            assigned.commit({tp: OffsetAndMetadata(offset, "", -1)})
            outcomes[label] = f"stored ({committed(bootstrap, group).get(0)})"
        except CommitFailedError as error:
            outcomes[label] = f"refused: {str(error).split()[-1]}"

    # The refused commit is the point here, not a warning worth printing.
    with grader_busy(), _manual_consumer(bootstrap, group) as assigned:
        assigned.assign([tp])
        commit(assigned, "group empty", 1)
        member = KafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=group,
            enable_auto_commit=False,
            session_timeout_ms=6000,
            heartbeat_interval_ms=500,
            **FAST,
        )
        try:
            member.subscribe([topic])
            member.topics()  # metadata first: one join, not two
            _wait_until(lambda: bool(member.poll(timeout_ms=100) or member.assignment()))
            commit(assigned, "a subscribed member in the group", 2)
        finally:
            member.close()
        commit(assigned, "member closed, group empty again", 3)
    return outcomes


# ----------------------------------------------------------------------------------------------
# Seeking


def positions_after_seeks(bootstrap: str, topic: str) -> dict[str, int]:
    """Where a consumer's position ends up after each kind of seek on partition 0."""
    tp = TopicPartition(topic, 0)
    with KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, **FAST) as consumer:
        consumer.assign([tp])
        found = {}
        consumer.seek_to_end(tp)
        found["seek_to_end"] = consumer.position(tp)
        consumer.seek_to_beginning(tp)
        found["seek_to_beginning"] = consumer.position(tp)
        consumer.seek(tp, 7)
        found["seek(tp, 7)"] = consumer.position(tp)
        return found


# The producer's own clocks disagree, or a record is sent late: with CreateTime (the topic's
# default message.timestamp.type) the broker stores each record's stamp as the producer gave it.
OUT_OF_ORDER_MINUTES = (0, 3, 1, 4, 2)


def out_of_order_lookup(bootstrap: str, topic: str, moment_minute: int = 2) -> dict[str, object]:
    """Write readings stamped 09:00, 09:03, 09:01, 09:04, 09:02 (in that offset order) to
    partition 0 of ``topic``, then ask offsets_for_times for 09:``moment_minute``: the offset it
    answers, and the stamps of the records from that offset on."""
    tp = TopicPartition(topic, 0)
    producer = KafkaProducer(bootstrap_servers=bootstrap, **FAST)
    try:
        for minute in OUT_OF_ORDER_MINUTES:
            stamp = READINGS_START_MS + minute * MINUTE_MS
            producer.send(topic, partition=0, value=b"reading", timestamp_ms=stamp)
        producer.flush(timeout=10)
    finally:
        producer.close(timeout=5)
    moment = READINGS_START_MS + moment_minute * MINUTE_MS
    with KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, **FAST) as consumer:
        found = consumer.offsets_for_times({tp: moment})[tp]
        consumer.assign([tp])
        consumer.seek(tp, found.offset)
        records: list = []
        stop_at = time.monotonic() + 5
        while (
            len(records) < len(OUT_OF_ORDER_MINUTES) - found.offset and time.monotonic() < stop_at
        ):
            for batch in consumer.poll(timeout_ms=200).values():
                records += batch
    return {
        f"offsets_for_times(09:{moment_minute:02d})": found.offset,
        "stamps from there on": [_clock(r.timestamp) for r in records],
    }


def _clock(timestamp_ms: int) -> str:
    minutes = (timestamp_ms - READINGS_START_MS) // MINUTE_MS
    return f"{9 + minutes // 60:02d}:{minutes % 60:02d}"


# ----------------------------------------------------------------------------------------------
# Closing


def with_block_commit(bootstrap: str, topic: str, group: str, fails: bool) -> int | None:
    """An auto-committing consumer used in a ``with`` block: poll 5 records, then leave the block
    normally or by an exception; the group's committed offset afterwards."""
    try:
        with KafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=group,
            enable_auto_commit=True,
            auto_offset_reset="earliest",
            **FAST,
        ) as consumer:
            consumer.assign([TopicPartition(topic, 0)])
            consumer.poll(timeout_ms=5000, max_records=5)
            if fails:
                raise RuntimeError("processing failed")
    except RuntimeError:
        pass
    return committed(bootstrap, group).get(0)


def group_states(bootstrap: str, prefix: str) -> dict[str, str]:
    """group id -> state, for every consumer group whose id starts with ``prefix``."""
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, **FAST)
    try:
        return {
            g["group_id"]: g["group_state"]
            for g in admin.list_groups()
            if g["group_id"].startswith(prefix)
        }
    finally:
        admin.close()
