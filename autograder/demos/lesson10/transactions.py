"""Section 2: a transaction across two topics, what each isolation level reads, and the
transaction markers the log holds (which no consumer ever hands out)."""

from __future__ import annotations

from functools import partial

from kafka import KafkaProducer
from kafka.errors import KafkaError

from autograder.demos.lesson10.producers import transactional
from autograder.demos.lesson10.reading import close_quietly
from autograder.grading import kafka_io
from autograder.grading.crash_runner import run_forked
from autograder.grading.quiet import grader_busy


def log_rows(bootstrap: str, topic: str, partition: int = 0) -> list[dict[str, object]]:
    """A partition's raw log as rows: offset, the record's value or the marker's kind
    (COMMIT / ABORT), whether its batch is transactional, its producer id and epoch."""
    return [
        {
            "offset": e.offset,
            "entry": e.control or (e.value or b"").decode("utf-8", "replace"),
            "transactional": e.transactional,
            "producer id": e.producer_id,
            "epoch": e.producer_epoch,
        }
        for e in kafka_io.read_log(bootstrap, topic, partition=partition)
    ]


def print_log(bootstrap: str, topic: str, partition: int = 0) -> None:
    """The partition's raw log, one entry per line, markers included."""
    rows = log_rows(bootstrap, topic, partition)
    print(f"{'offset':>6}  {'entry':<28}{'transactional':<15}{'producer id':>11}{'epoch':>7}")
    for row in rows:
        marker = row["entry"] in ("COMMIT", "ABORT")
        entry = f"[{row['entry']} marker]" if marker else repr(row["entry"])
        print(
            f"{row['offset']:>6}  {entry:<28}{row['transactional']!s:<15}"
            f"{row['producer id']:>11}{row['epoch']:>7}"
        )


def send_outside_a_transaction(bootstrap: str, topic: str, transactional_id: str) -> str:
    """A transactional producer's send() before begin_transaction(): the error it raises."""
    producer = transactional(bootstrap, transactional_id)
    try:
        producer.init_transactions()
        producer.send(topic, b"no transaction")
        return "sent"
    except KafkaError as error:
        return f"{type(error).__name__}: {error}"
    finally:
        close_quietly(producer)


def _idempotence_off(bootstrap: str, transactional_id: str) -> str:
    try:
        KafkaProducer(
            bootstrap_servers=bootstrap, transactional_id=transactional_id, enable_idempotence=False
        ).close()
        return "accepted"
    except KafkaError as error:
        return f"{type(error).__name__}: {error}"


def refused_settings(bootstrap: str, transactional_id: str) -> dict[str, str]:
    """What kafka-python and the broker say to two settings a transactional producer cannot
    have: idempotence switched off, and a timeout above the broker's transaction.max.timeout.ms
    (900000 ms unless the broker is configured otherwise)."""
    # In a forked child: kafka-python 3.0.12's constructor raises after starting its metadata
    # thread, which then logs an error from the half-built producer at some later moment.
    refused = run_forked(partial(_idempotence_off, bootstrap, transactional_id), time_limit_s=20)
    found = {"enable_idempotence=False": refused.returned or str(refused.error)}
    producer = transactional(bootstrap, f"{transactional_id}-long", transaction_timeout_ms=900_001)
    try:
        with grader_busy():  # kafka-python also logs the refusal
            producer.init_transactions()
        found["transaction_timeout_ms=900001"] = "accepted"
    except KafkaError as error:
        found["transaction_timeout_ms=900001"] = f"{type(error).__name__}: {error}"
    finally:
        close_quietly(producer)
    return found
