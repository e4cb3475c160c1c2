"""Lesson 07's demonstrations: real crashes between processing and committing, what they do to a
SQLite sink, and how long a group waits for a member that crashed instead of closing.

The crashing consumers run in forked child processes (``autograder.grading.crash_runner``: a fork
starts in milliseconds, where a fresh interpreter spends a second importing kafka-python) and
kill themselves with SIGKILL at the injected moment. They assign their partitions (``assign``) while
carrying a ``group_id``: their commits count for the group, and a dead one leaves no member
behind, so the restart begins at once. The last demo subscribes on purpose, to measure that
wait.
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from contextlib import closing
from functools import partial
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError

from autograder.grading import kafka_io
from autograder.grading.crash_runner import crash_now, run_forked
from autograder.grading.paths import state_dir
from autograder.grading.quiet import grader_busy, silence_kafka_logs

FAST = {"request_timeout_ms": 5000}
STRATEGIES = {
    # label: (when offsets are committed, does the sink refuse a second copy?)
    "commit before processing": ("before", False),
    "commit after processing": ("after", False),
    "commit after + unique key": ("after", True),
}


def fill(bootstrap: str, topic: str, count: int) -> None:
    """Write ``count`` records ``b"reading <n>"`` (keyless, spread over the partitions)."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, **FAST)
    try:
        for n in range(count):
            producer.send(topic, value=b"reading %d" % n)
        producer.flush(timeout=10)
    finally:
        producer.close(timeout=5)


def _open_sink(path: str, unique: bool) -> sqlite3.Connection:
    sink = sqlite3.connect(path, timeout=5)
    # A killed process leaves what it wrote in the operating system's cache, which survives it;
    # only a power cut needs the fsync that synchronous=FULL waits for at every commit. So the
    # crashes here are those of a killed process, not of a machine losing power.
    sink.execute("PRAGMA synchronous = OFF")
    key = ", UNIQUE (part, offset)" if unique else ""
    sink.execute(
        f"CREATE TABLE IF NOT EXISTS processed (part INTEGER, offset INTEGER, value TEXT{key})"
    )
    return sink


def _store(sink: sqlite3.Connection, record, unique: bool) -> None:
    """Processing, for the demo: one row per record, durable once this returns."""
    verb = "INSERT OR IGNORE" if unique else "INSERT"
    sink.execute(
        f"{verb} INTO processed VALUES (?, ?, ?)",
        (record.partition, record.offset, record.value.decode()),
    )
    sink.commit()


def consume_into_sink(
    bootstrap: str,
    topic: str,
    group: str,
    sink_path: str,
    commit: str,
    unique: bool,
    crash_after: int | None = None,
    deadline_s: float = 20,
) -> int:
    """Read ``topic`` to its end, storing every record in the SQLite sink and committing offsets
    ``commit="before"`` or ``"after"`` each batch is stored. With ``crash_after=k`` the process
    kills itself (SIGKILL) right after storing its k-th record: before the batch's commit when
    committing after, after it when committing before. Returns how many records it stored."""
    silence_kafka_logs()  # a child process: its log lines would only land in the kernel's output
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        max_poll_records=5,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **FAST,
    )
    sink = _open_sink(sink_path, unique)
    stored = 0
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        ends = consumer.end_offsets(partitions)
        stop_at = time.monotonic() + deadline_s
        while (
            any(consumer.position(tp) < ends[tp] for tp in partitions)
            and time.monotonic() < stop_at
        ):
            batch = consumer.poll(timeout_ms=500)
            if commit == "before" and batch:
                consumer.commit()
            for records in batch.values():
                for record in records:
                    _store(sink, record, unique)
                    stored += 1
                    if stored == crash_after:
                        crash_now()  # the injected crash: mid-batch, no close, no commit
            if commit == "after" and batch:
                consumer.commit()
        return stored
    finally:
        consumer.close(autocommit=False)
        sink.close()


def audit(bootstrap: str, topic: str, sink_path: str) -> dict[str, int]:
    """Compare the topic with the sink: records, rows, and how many records were lost (never
    stored) or duplicated (stored more than once)."""
    on_broker = {(r.partition, r.offset) for r in kafka_io.read_all(bootstrap, topic)}
    with closing(sqlite3.connect(sink_path, timeout=5)) as sink:
        rows = Counter(sink.execute("SELECT part, offset FROM processed").fetchall())
    return {
        "records": len(on_broker),
        "rows in sink": sum(rows.values()),
        "lost": len(on_broker - set(rows)),
        "duplicated": sum(n - 1 for n in rows.values() if n > 1),
    }


def crash_and_restart(
    bootstrap: str, topic: str, prefix: str, crash_after: int = 2, sink_dir: str | None = None
) -> dict[str, dict[str, int]]:
    """For each strategy in STRATEGIES: a consumer process that crashes after storing
    ``crash_after`` records, then a restart that reads on to the end; the audit of each sink.

    Each strategy has its own group, ``<prefix>-<n>``, and its own sink in ``sink_dir`` (by
    default the course's state folder)."""
    folder = Path(sink_dir) if sink_dir else state_dir() / "sinks"
    folder.mkdir(parents=True, exist_ok=True)
    jobs = {}
    for n, (label, (commit, unique)) in enumerate(STRATEGIES.items()):
        path = folder / f"{prefix}-{n}.db"
        path.unlink(missing_ok=True)
        jobs[label] = (f"{prefix}-{n}", str(path), commit, unique)
    for group, sink_path, commit, unique in jobs.values():
        for crash in (crash_after, None):
            run = run_forked(
                partial(
                    consume_into_sink, bootstrap, topic, group, sink_path, commit, unique, crash
                ),
                time_limit_s=30,
            )
            if run.crashed != bool(crash) or run.error or run.timed_out:
                raise RuntimeError(f"the consumer process ended unexpectedly: {run}")
    return {
        label: audit(bootstrap, topic, sink_path) for label, (_, sink_path, _, _) in jobs.items()
    }


def consume_with_offsets_in_sink(
    bootstrap: str, topic: str, sink_path: str, crash_after: int | None = None
) -> int:
    """Read ``topic`` with no group at all: each record's row and the partition's next offset
    are written in one SQLite transaction, and at start every partition is sought to the offset
    the sink holds. With ``crash_after=k`` the process kills itself right after the k-th
    record's transaction. Returns how many records it stored."""
    silence_kafka_logs()  # a child process: its log lines would only land in the kernel's output
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, max_poll_records=5, **FAST
    )
    sink = _open_sink(sink_path, unique=False)
    sink.execute("CREATE TABLE IF NOT EXISTS next_offsets (part INTEGER PRIMARY KEY, next INTEGER)")
    stored = 0
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        saved = dict(sink.execute("SELECT part, next FROM next_offsets").fetchall())
        for tp in partitions:  # start where the sink says; nothing saved yet: the beginning
            if tp.partition in saved:
                consumer.seek(tp, saved[tp.partition])
            else:
                consumer.seek_to_beginning(tp)
        ends = consumer.end_offsets(partitions)
        stop_at = time.monotonic() + 20
        while (
            any(consumer.position(tp) < ends[tp] for tp in partitions)
            and time.monotonic() < stop_at
        ):
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    with sink:  # one transaction: the row and the offset, or neither
                        sink.execute(
                            "INSERT INTO processed VALUES (?, ?, ?)",
                            (record.partition, record.offset, record.value.decode()),
                        )
                        sink.execute(
                            "INSERT OR REPLACE INTO next_offsets VALUES (?, ?)",
                            (record.partition, record.offset + 1),
                        )
                    stored += 1
                    if stored == crash_after:
                        crash_now()  # the injected crash: mid-batch, no close
        return stored
    finally:
        consumer.close(autocommit=False)
        sink.close()


def offsets_in_the_sink(
    bootstrap: str, topic: str, name: str, crash_after: int = 2, sink_dir: str | None = None
) -> dict[str, dict[str, int]]:
    """The offsets-in-the-sink consumer crashes after storing ``crash_after`` records, then a
    restart reads on to the end; the audit of its sink (a plain table, no unique key)."""
    folder = Path(sink_dir) if sink_dir else state_dir() / "sinks"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.db"
    path.unlink(missing_ok=True)
    for crash in (crash_after, None):
        run = run_forked(
            partial(consume_with_offsets_in_sink, bootstrap, topic, str(path), crash),
            time_limit_s=30,
        )
        if run.crashed != bool(crash) or run.error or run.timed_out:
            raise RuntimeError(f"the consumer process ended unexpectedly: {run}")
    return {"offsets in the sink": audit(bootstrap, topic, str(path))}


def broker_settings(bootstrap: str, *names: str) -> dict[str, str | None]:
    """The values the course's broker runs with for these settings."""
    first = min(configs := kafka_io.broker_configs(bootstrap, list(names)))
    return {name: configs[first].get(name) for name in names}


def print_audits(audits: dict[str, dict[str, int]]) -> None:
    """The audits as a small table, one strategy per row."""
    columns = list(next(iter(audits.values())))
    width = max(len(label) for label in audits)
    print(" " * width + "".join(f"{name:>14}" for name in columns))
    for label, row in audits.items():
        print(f"{label:<{width}}" + "".join(f"{row[name]:>14}" for name in columns))


# ----------------------------------------------------------------------------------------------
# Close versus crash: how long the group waits before another member gets the partitions


def _member(bootstrap: str, group: str, session_timeout_ms: int) -> KafkaConsumer:
    return KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        session_timeout_ms=session_timeout_ms,
        heartbeat_interval_ms=min(1000, session_timeout_ms // 3),
        **FAST,
    )


def _wait_for_partitions(consumer: KafkaConsumer, deadline_s: float) -> bool:
    stop_at = time.monotonic() + deadline_s
    while not consumer.assignment() and time.monotonic() < stop_at:
        consumer.poll(timeout_ms=100)
    return bool(consumer.assignment())


def join_then_leave(
    bootstrap: str, topic: str, group: str, ending: str, session_timeout_ms: int = 6000
) -> None:
    """A group member that gets its partitions, then ends by ``ending``: "close" (it leaves the
    group) or "crash" (SIGKILL: it just stops)."""
    silence_kafka_logs()  # a child process: its log lines would only land in the kernel's output
    consumer = _member(bootstrap, group, session_timeout_ms)
    consumer.subscribe([topic])
    if not _wait_for_partitions(consumer, 30):
        consumer.close()
        raise RuntimeError("the first member never got partitions")
    if ending == "crash":
        crash_now()
    consumer.close()


def takeover_seconds(
    bootstrap: str, topic: str, group: str, ending: str, session_timeout_ms: int = 6000
) -> float:
    """Seconds from the end of a member's process (closed or crashed) until a new member of the
    same group owns the partitions."""
    first = run_forked(
        partial(join_then_leave, bootstrap, topic, group, ending, session_timeout_ms),
        time_limit_s=40,
    )
    if first.error or first.timed_out or first.crashed != (ending == "crash"):
        raise RuntimeError(f"the first member ended unexpectedly: {first}")
    ended = time.monotonic()
    # Quiet: a fresh subscriber logs "no partition metadata yet" warnings that say nothing here.
    with grader_busy():
        successor = _member(bootstrap, group, session_timeout_ms)
        try:
            successor.subscribe([topic])
            if not _wait_for_partitions(successor, 3 * session_timeout_ms / 1000):
                raise RuntimeError("the new member never got the partitions")
            return round(time.monotonic() - ended, 1)
        finally:
            successor.close()


def plot_takeover(seconds: dict[str, float], session_timeout_ms: int):
    """Two bars: partitions unowned after a close and after a crash, against the session
    timeout."""
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(6, 2.2))
    labels = list(seconds)
    ax.barh(labels, [seconds[k] for k in labels], color=["#2e8b57", "#c0392b"][: len(labels)])
    ax.axvline(session_timeout_ms / 1000, color="black", linestyle="--", linewidth=1)
    ax.text(session_timeout_ms / 1000, len(labels) - 0.45, " session.timeout.ms", fontsize=9)
    for y, label in enumerate(labels):
        ax.text(seconds[label] + 0.1, y, f"{seconds[label]:.1f} s", va="center", fontsize=9)
    ax.set_xlabel("seconds until another member owns the partitions")
    ax.set_xlim(0, max(max(seconds.values()), session_timeout_ms / 1000) * 1.25)
    figure.tight_layout()
    return figure


def join_with_session_timeout(
    bootstrap: str, topic: str, group: str, session_timeout_ms: int
) -> str:
    """Try to join ``group`` with the given session timeout: "joined", or the error's name."""
    with grader_busy():  # the refusal is the answer here, not a warning worth printing
        consumer = _member(bootstrap, group, session_timeout_ms)
        try:
            consumer.subscribe([topic])
            return "joined" if _wait_for_partitions(consumer, 10) else "no partitions in 10 s"
        except KafkaError as error:
            return type(error).__name__
        finally:
            consumer.close()
