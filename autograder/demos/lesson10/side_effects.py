"""Section 7: where exactly-once ends. A pipeline that, besides its Kafka output, "sends an
e-mail" per order (a row in a SQLite outbox) is killed before its commit and restarted: the
Kafka output is exact under read_committed, the outbox is not, unless it refuses a second copy
as lesson 07's sink did. The pipeline keeps two outboxes side by side, one of each kind."""

from __future__ import annotations

import sqlite3
from collections import Counter
from contextlib import closing
from functools import partial
from pathlib import Path

from kafka.structs import OffsetAndMetadata

from autograder.demos.lesson10.pipeline import batches_until_end, input_consumer, receipt
from autograder.demos.lesson10.producers import transactional
from autograder.demos.lesson10.reading import read_values
from autograder.grading import kafka_io
from autograder.grading.crash_runner import crash_now, run_forked
from autograder.grading.quiet import silence_kafka_logs

OUTBOXES = {"outbox, plain INSERT": False, "outbox, unique (part, offset)": True}


def _outbox(path: Path, unique: bool) -> sqlite3.Connection:
    outbox = sqlite3.connect(path, timeout=5)
    outbox.execute("PRAGMA synchronous = OFF")  # a SIGKILL keeps the OS cache; see lesson 07
    key = ", UNIQUE (part, offset)" if unique else ""
    outbox.execute(f"CREATE TABLE IF NOT EXISTS mails (part INTEGER, offset INTEGER{key})")
    return outbox


def _mail(outbox: sqlite3.Connection, unique: bool, record) -> None:
    """Send the e-mail for one order: once this returns, no abort can call it back."""
    verb = "INSERT OR IGNORE" if unique else "INSERT"
    outbox.execute(f"{verb} INTO mails VALUES (?, ?)", (record.partition, record.offset))
    outbox.commit()


def pipeline_with_mail(
    bootstrap: str,
    source: str,
    sink: str,
    group: str,
    folder: str,
    crash: bool,
    deadline_s: float = 20,
) -> int:
    """Section 4's transactional pipeline, plus one "e-mail" per order into each outbox of
    OUTBOXES (files in ``folder``). With ``crash`` the process is killed in its second batch,
    after sending and mailing, before the commit. Returns the transactions committed."""
    silence_kafka_logs()
    producer = transactional(bootstrap, group)
    producer.init_transactions()
    consumer = input_consumer(bootstrap, source, group, "read_committed")
    outboxes = {
        unique: _outbox(Path(folder) / f"{group}-{n}.db", unique)
        for n, unique in enumerate(OUTBOXES.values())
    }
    committed = 0
    try:
        for batch in batches_until_end(consumer, deadline_s):
            producer.begin_transaction()
            for records in batch.values():
                for record in records:
                    producer.send(sink, value=receipt(record.value))
                    for unique, outbox in outboxes.items():
                        _mail(outbox, unique, record)
            if crash and committed == 1:
                producer.flush(timeout=10)
                crash_now()
            offsets = {tp: OffsetAndMetadata(rs[-1].offset + 1, "", -1) for tp, rs in batch.items()}
            producer.send_offsets_to_transaction(offsets, consumer.group_metadata())
            producer.commit_transaction()
            committed += 1
        return committed
    finally:
        consumer.close(autocommit=False)
        producer.close(timeout=5)
        for outbox in outboxes.values():
            outbox.close()


def crash_with_side_effects(
    bootstrap: str, source: str, group: str, folder: str
) -> dict[str, dict[str, int]]:
    """The pipeline killed once before its commit, then run to the end. For each outbox:
    orders, receipts a read_committed consumer reads, mails stored, mails stored twice."""
    sink = f"{group}-sink"
    kafka_io.create_topic(bootstrap, sink, 1)
    for n in range(len(OUTBOXES)):
        (Path(folder) / f"{group}-{n}.db").unlink(missing_ok=True)
    for crash in (True, False):
        run = run_forked(
            partial(pipeline_with_mail, bootstrap, source, sink, group, folder, crash),
            time_limit_s=40,
        )
        if run.crashed != crash or run.error or run.timed_out:
            raise RuntimeError(f"the pipeline process ended unexpectedly: {run}")
    orders = len(read_values(bootstrap, source))
    receipts = len(read_values(bootstrap, sink, "read_committed"))
    results = {}
    for n, label in enumerate(OUTBOXES):
        with closing(sqlite3.connect(Path(folder) / f"{group}-{n}.db", timeout=5)) as outbox:
            mails = Counter(outbox.execute("SELECT part, offset FROM mails").fetchall())
        results[label] = {
            "orders": orders,
            "receipts read_committed": receipts,
            "mails": sum(mails.values()),
            "mails twice": sum(k - 1 for k in mails.values() if k > 1),
        }
    return results
