"""Benchmark: what transactions cost a producer, kafka-python next to the Java client.

    .venv/bin/python bench/transactions.py [--records 10000] [--transactions 200] [--quick]

Each arm sends 100-byte records to its own fresh one-partition topic on the same broker, every
producer setting at its client's default, and commits one transaction after another:

- kafka-python: a fresh KafkaProducer with a `transactional_id`; `init_transactions()` and the
  first metadata fetch happen before the clock starts. Then begin, send k records, commit,
  again, for k = 1, 10, 100 and 1000 records per transaction; "none" is a plain producer
  sending every record and flushing once. records/s is first send to the last commit (flush).
- Java: `kafka-producer-perf-test` (org.apache.kafka.tools.ProducerPerformance from the broker's
  own kafka-tools jar) with --throughput -1, and for the transactional arms --transactional-id
  and --transaction-duration-ms. records/s is the tool's own steady-state figure: it leaves out
  the first tenth of the records (--warmup-records), so the client's start (its first metadata
  fetch, the JIT warming up) weighs on neither client.

Java's tool sizes a transaction by time, not by records: it commits once a transaction is
older than --transaction-duration-ms. For k records per transaction the duration is chosen as
the time Java's own plain arm (run first) takes to send k records, at least 1 ms (the tool's
floor), and the records per transaction each arm really achieved is measured from the log:
its data records divided by the COMMIT markers in the topic (kafka_io.read_log sees the
markers). Java cannot go below what it sends in 1 ms, so its small-k rows carry more records
per transaction than k: the table says how many.

Java sends --records records in every arm. A kafka-python arm with k records per transaction
sends at most --transactions transactions (so k = 1 sends 200 records, not 10000): its commits
are slow enough that the full count would take minutes. The arms alternate which client goes
first, so drift on a shared machine hits both alike. A broker is started for the benchmark
unless KAFKA_BOOTSTRAP_SERVERS is set. Prints a table; the last line is JSON:
{"txn_records_per_s": {"python": {"1": ..., ..., "none": ...}, "java": {...}}}.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kafka import KafkaProducer  # noqa: E402

from autograder.broker.cds import archive_path  # noqa: E402
from autograder.broker.config import LOG4J_CONFIG  # noqa: E402
from autograder.broker.fixture import test_broker  # noqa: E402
from autograder.broker.jars import kafka_jars  # noqa: E402
from autograder.broker.java_runtime import find_java  # noqa: E402
from autograder.grading import kafka_io  # noqa: E402
from autograder.grading.namespace import Namespace, new_run_id  # noqa: E402
from autograder.grading.quiet import silence_kafka_logs  # noqa: E402

SIZES = (1, 10, 100, 1000)  # records per transaction; "none" is no transaction at all
RECORD_SIZE = 100
PERF_STEADY = re.compile(r"(\d+) steady state records sent, ([\d.]+) records/sec")


def python_arm(bootstrap: str, topic: str, records: int, per_transaction: int | None) -> float:
    """Records per second for kafka-python, ``per_transaction`` records in each transaction
    (None: a plain producer, no transactions)."""
    value = b"x" * RECORD_SIZE
    settings = {} if per_transaction is None else {"transactional_id": f"{topic}-txn"}
    producer = KafkaProducer(bootstrap_servers=bootstrap, **settings)
    try:
        if per_transaction is not None:
            producer.init_transactions()
        producer.partitions_for(topic)
        started = time.perf_counter()
        if per_transaction is None:
            for _ in range(records):
                producer.send(topic, value=value)
            producer.flush(timeout=300)
        else:
            for first in range(0, records, per_transaction):
                producer.begin_transaction()
                for _ in range(min(per_transaction, records - first)):
                    producer.send(topic, value=value)
                producer.commit_transaction()  # flushes, then ends the transaction
        return records / (time.perf_counter() - started)
    finally:
        producer.close(timeout=10)


def java_flags(quick: bool) -> list[str]:
    """JVM flags that shorten the tool's start, which its figures leave out anyway: the class
    archive the course's broker left in the cache (if any; the client's classes are mostly in
    it), and under --quick the fast compiler only."""
    java, jars = find_java(), kafka_jars()
    archive = archive_path(java, jars)
    flags = ["-Xlog:cds*=off", f"-XX:SharedArchiveFile={archive}"] if archive.is_file() else []
    return flags + (["-XX:TieredStopAtLevel=1"] if quick else [])


def java_arm(
    bootstrap: str, topic: str, records: int, duration_ms: int | None, flags: list[str]
) -> float:
    """Records per second reported by kafka-producer-perf-test, committing every
    ``duration_ms`` (None: no transactions)."""
    command = [
        str(find_java().executable),
        "-Xmx256m",
        *flags,
        "-cp",
        kafka_jars().classpath(),
        f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
        "org.apache.kafka.tools.ProducerPerformance",
        "--bootstrap-server",
        bootstrap,
        "--topic",
        topic,
        "--num-records",
        str(records),
        "--record-size",
        str(RECORD_SIZE),
        "--throughput",
        "-1",
        "--warmup-records",
        str(records // 10),
    ]
    if duration_ms is not None:
        command += [
            "--transactional-id",
            f"{topic}-txn",
            "--transaction-duration-ms",
            str(duration_ms),
        ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    found = PERF_STEADY.findall(done.stdout)
    if done.returncode != 0 or not found:
        raise RuntimeError(
            f"kafka-producer-perf-test failed ({done.returncode}): "
            + (done.stdout + done.stderr)[-1500:]
        )
    sent, per_second = found[-1]
    if int(sent) != records - records // 10:
        raise RuntimeError(f"kafka-producer-perf-test sent {sent} steady records of {records}")
    return float(per_second)


def transactions_in(bootstrap: str, topic: str, records: int) -> int:
    """The COMMIT markers in the topic, after checking it holds ``records`` data records and
    nothing aborted: the number of transactions the arm committed."""
    assert kafka_io.wait_until_stable(bootstrap, topic, deadline_s=30)
    log = kafka_io.read_log(bootstrap, topic, deadline_s=60)
    data = sum(1 for e in log if e.control is None)
    markers = [e.control for e in log if e.control is not None]
    if data != records or "ABORT" in markers:
        raise RuntimeError(f"{topic} holds {data} of {records} records, markers {set(markers)}")
    return len(markers)


def measure(bootstrap: str, records: int, max_transactions: int, quick: bool) -> list[dict]:
    """Every arm, plain first (Java's plain rate sizes its transactions), alternating which
    client goes first; one row per arm."""
    namespace = Namespace(new_run_id(), "bench")
    rows: list[dict] = []
    java_plain_rate = 0.0
    flags = java_flags(quick)
    for n, size in enumerate((None, *reversed(SIZES))):
        label = "none" if size is None else str(size)
        count = records if size is None else min(records, size * max_transactions)  # python
        duration = None if size is None else max(1, round(size * 1000 / java_plain_rate))
        topics = {client: namespace.topic(f"txn-{label}-{client}") for client in ("py", "java")}
        for topic in topics.values():
            kafka_io.create_topic(bootstrap, topic, 1)
        rates = {}
        for client in ("java", "py") if n % 2 == 0 else ("py", "java"):
            if client == "py":
                rates[client] = python_arm(bootstrap, topics["py"], count, size)
            else:
                rates[client] = java_arm(bootstrap, topics["java"], records, duration, flags)
        if size is None:
            java_plain_rate = rates["java"]
        row = {
            "label": label,
            "records": count,
            "java_records": records,
            "python": round(rates["py"]),
            "java": round(rates["java"]),
            "java_duration_ms": duration,
        }
        if size is not None:
            row["python_txns"] = transactions_in(bootstrap, topics["py"], count)
            row["java_txns"] = transactions_in(bootstrap, topics["java"], records)
        rows.append(row)
    return rows


def report(rows: list[dict]) -> dict:
    """Print the table and return the JSON summary."""
    print(
        f"Transactions: records/s of {RECORD_SIZE}-byte records to one-partition topics, "
        f"client defaults otherwise ({os.cpu_count()} CPUs). Records per transaction as "
        "measured from the COMMIT markers in each topic:"
    )
    print(
        f"{'records/txn':<12}{'py records':>11}{'kafka-python':>14}{'py rec/txn':>11}"
        f"{'java records':>13}{'java':>10}{'java dur ms':>12}{'java rec/txn':>13}{'java/py':>9}"
    )
    ordered = sorted(rows, key=lambda r: math.inf if r["label"] == "none" else int(r["label"]))
    for row in ordered:
        if row["label"] == "none":
            py_per_txn, java_per_txn, duration = "-", "-", "-"
        else:
            py_per_txn = f"{row['records'] / row['python_txns']:.0f}"
            java_per_txn = f"{row['java_records'] / row['java_txns']:.0f}"
            duration = str(row["java_duration_ms"])
        print(
            f"{row['label']:<12}{row['records']:>11,}{row['python']:>14,}{py_per_txn:>11}"
            f"{row['java_records']:>13,}{row['java']:>10,}{duration:>12}{java_per_txn:>13}"
            f"{row['java'] / row['python']:>8.1f}x"
        )
    summary = {
        "txn_records_per_s": {
            client: {row["label"]: row[client] for row in ordered} for client in ("python", "java")
        }
    }
    print(json.dumps(summary))
    return summary


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000, help="records per arm (10000)")
    parser.add_argument(
        "--transactions",
        type=int,
        default=200,
        help="at most this many transactions per arm (200)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="300 records and at most 10 transactions per arm: does it run, not how fast",
    )
    args = parser.parse_args(argv)
    records, transactions = (300, 10) if args.quick else (args.records, args.transactions)
    silence_kafka_logs()
    with test_broker() as bootstrap:
        rows = measure(bootstrap, records, transactions, args.quick)
        kafka_io.close_all()
    return report(rows)


if __name__ == "__main__":
    main()
