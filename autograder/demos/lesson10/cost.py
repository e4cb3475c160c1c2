"""Section 6: what transactions cost. Records per second against the records per transaction,
and the delay a read_committed consumer sees against how often the producer commits.

Small on purpose (a few thousand records, a few seconds): the figures show the shape, not a
benchmark. ``bench/transactions.py`` measures the same with more records, beside Kafka's Java
producer.
"""

from __future__ import annotations

import logging
import statistics
import threading
import time

from kafka import KafkaProducer, TopicPartition

from autograder.demos.lesson10.producers import transactional
from autograder.demos.lesson10.reading import close_quietly, reader
from autograder.grading.quiet import grader_busy

# records per transaction -> records sent for it: enough transactions to time, a second or less.
SIZES = {1: 30, 10: 150, 100: 1000, 1000: 2000}
PLAIN_RECORDS = 2000
PAYLOAD = b"x" * 100


def records_per_second(
    bootstrap: str,
    topic: str,
    per_transaction: int | None,
    records: int,
    transactional_id: str = "",
) -> int:
    """Send ``records`` records of 100 bytes: in transactions of ``per_transaction`` records,
    or without transactions when it is None (an idempotent producer, kafka-python's default).
    The rate from the first send to the last commit (or flush)."""
    if per_transaction is None:
        producer = KafkaProducer(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    else:
        producer = transactional(bootstrap, transactional_id)
        producer.init_transactions()  # once per producer's life: not part of the rate
    try:
        started = time.perf_counter()
        for first in range(0, records, per_transaction or records):
            if per_transaction:
                producer.begin_transaction()
            for _ in range(min(per_transaction or records, records - first)):
                producer.send(topic, PAYLOAD)
            if per_transaction:
                producer.commit_transaction()  # flushes, then writes the markers
            else:
                producer.flush(timeout=30)
        return round(records / (time.perf_counter() - started))
    finally:
        close_quietly(producer)


def throughput_table(bootstrap: str, topic: str, transactional_id: str) -> dict[str, int]:
    """label -> records/s, for each size in SIZES and without transactions."""
    with grader_busy():  # on a busy machine kafka-python warns that its event loop is slow
        return _throughput_table(bootstrap, topic, transactional_id)


def _throughput_table(bootstrap: str, topic: str, transactional_id: str) -> dict[str, int]:
    rates = {
        f"{size} per transaction": records_per_second(
            bootstrap, topic, size, count, f"{transactional_id}-{size}"
        )
        for size, count in SIZES.items()
    }
    rates["no transactions"] = records_per_second(bootstrap, topic, None, PLAIN_RECORDS)
    return rates


def _watch(consumer, tp: TopicPartition, expected: int, delays: dict, stop_at: float) -> None:
    """Note, per commit interval, how many ms after its send each record arrived."""
    seen = 0
    while seen < expected and time.monotonic() < stop_at:
        for record in consumer.poll(timeout_ms=100).get(tp, []):
            interval, sent_ms = record.value.decode().split(":")
            delays.setdefault(int(interval), []).append(time.time() * 1000 - float(sent_ms))
            seen += 1


def delays_by_commit_interval(
    bootstrap: str,
    topic: str,
    transactional_id: str,
    intervals: tuple[int, ...] = (0, 100, 400),
    duration_s: float = 0.8,
    every_ms: int = 20,
) -> dict[int, dict[str, float]]:
    """For each commit interval in turn, a producer sends one record every ``every_ms`` for
    ``duration_s`` and commits its transaction every that many ms; a read_committed consumer
    notes how long after its send each record reached it. interval -> the median and the
    largest delay in ms, and the records counted."""
    with grader_busy():  # on a busy machine kafka-python warns that its event loop is slow
        return _delays(bootstrap, topic, transactional_id, intervals, duration_s, every_ms)


def _delays(
    bootstrap: str,
    topic: str,
    transactional_id: str,
    intervals: tuple[int, ...],
    duration_s: float,
    every_ms: int,
) -> dict[int, dict[str, float]]:
    tp = TopicPartition(topic, 0)
    consumer = reader(bootstrap, "read_committed")
    producer = transactional(bootstrap, transactional_id)
    delays: dict[int, list[float]] = {}
    per_interval = int(duration_s * 1000 / every_ms)
    try:
        consumer.assign([tp])
        consumer.seek_to_end(tp)
        consumer.position(tp)  # settle the start before anything is sent
        producer.init_transactions()
        stop_at = time.monotonic() + len(intervals) * duration_s + 15
        expected = per_interval * len(intervals)
        watcher = threading.Thread(target=_watch, args=(consumer, tp, expected, delays, stop_at))
        watcher.start()
        try:
            for interval in intervals:
                producer.begin_transaction()
                opened = time.monotonic()
                for _ in range(per_interval):
                    stamp = f"{interval}:{time.time() * 1000}"
                    producer.send(topic, stamp.encode(), partition=0)
                    if (time.monotonic() - opened) * 1000 >= interval:
                        producer.commit_transaction()
                        producer.begin_transaction()
                        opened = time.monotonic()
                    time.sleep(every_ms / 1000)
                producer.commit_transaction()
        finally:
            watcher.join()
        return {
            interval: {
                "median ms": round(statistics.median(delays.get(interval, [0]))),
                "max ms": round(max(delays.get(interval, [0]))),
                "records": len(delays.get(interval, [])),
            }
            for interval in intervals
        }
    finally:
        close_quietly(producer)
        close_quietly(consumer)


def plot_cost(rates: dict[str, int], delays: dict[int, dict[str, float]]):
    """Left: records/s per transaction size and without transactions. Right: the delay a
    read_committed consumer sees against the commit interval."""
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.2))
    labels = list(rates)
    colours = ["#c0392b"] * (len(labels) - 1) + ["#7f8c8d"]
    left.bar(range(len(labels)), [rates[k] for k in labels], color=colours)
    left.set_xticks(range(len(labels)), [k.replace(" per transaction", "") for k in labels])
    left.set_xlabel("records per transaction")
    left.set_ylabel("records / s")
    left.set_title("throughput")
    intervals = sorted(delays)
    right.plot(intervals, [delays[i]["median ms"] for i in intervals], "o-", label="median")
    right.plot(intervals, [delays[i]["max ms"] for i in intervals], "s--", label="largest")
    right.set_xlabel("commit interval (ms)")
    right.set_ylabel("send → read_committed (ms)")
    right.set_title("delay seen by a read_committed consumer")
    right.legend()
    figure.tight_layout()
    return figure


def transaction_times(
    bootstrap: str, topic: str, transactional_id: str, retry_backoff_ms: int, transactions: int = 30
) -> list[float]:
    """Milliseconds each of ``transactions`` one-record transactions takes, begun right after
    the previous commit, with ``retry.backoff.ms`` = ``retry_backoff_ms``."""
    producer = transactional(bootstrap, transactional_id, retry_backoff_ms=retry_backoff_ms)
    try:
        producer.init_transactions()
        times = []
        for _ in range(transactions):
            started = time.perf_counter()
            producer.begin_transaction()
            producer.send(topic, PAYLOAD)
            producer.commit_transaction()
            times.append((time.perf_counter() - started) * 1000)
        return times
    finally:
        close_quietly(producer)


class _AddPartitionsAnswers(logging.Handler):
    """Notes when kafka-python's transaction manager received each AddPartitionsToTxn answer
    (it says so in its debug log, the only place the answers show)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.answers: list[tuple[float, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("Received transactional response AddPartitionsToTxnResponse"):
            self.answers.append((record.created, message))


def retry_waits(
    bootstrap: str, topic: str, transactional_id: str, retry_backoff_ms: int, transactions: int = 30
) -> tuple[list[float], list[float]]:
    """Run ``transactions`` one-record transactions back to back. Returns the milliseconds
    each took, and for every AddPartitionsToTxn the coordinator refused with
    CONCURRENT_TRANSACTIONS, the milliseconds until the answer to its retry."""
    logger = logging.getLogger("kafka.producer.transaction_manager")
    answers, level = _AddPartitionsAnswers(), logger.level
    logger.addHandler(answers)
    logger.setLevel(logging.DEBUG)
    try:
        with grader_busy():  # the debug lines are for the handler above, not for the notebook
            times = transaction_times(
                bootstrap, topic, transactional_id, retry_backoff_ms, transactions
            )
    finally:
        logger.removeHandler(answers)
        logger.setLevel(level)
    seen = answers.answers
    waits = [
        (later[0] - at) * 1000
        for (at, message), later in zip(seen, seen[1:], strict=False)
        if "error_code=51" in message  # CONCURRENT_TRANSACTIONS
    ]
    return times, waits


def backoff_effect(
    bootstrap: str, topic: str, transactional_id: str, backoffs: tuple[int, ...] = (100, 20)
) -> dict[str, dict[str, float | int | None]]:
    """retry.backoff.ms -> how many one-record transactions ran (30, or up to 90 until one is
    refused: refusals come and go with the broker's pace), how many were refused at first with
    CONCURRENT_TRANSACTIONS, the shortest and longest wait until their retry was answered, and
    the median transaction."""
    found: dict[str, dict[str, float | int | None]] = {}
    for backoff in backoffs:
        times: list[float] = []
        waits: list[float] = []
        for round_ in range(3):
            more_times, more_waits = retry_waits(
                bootstrap, topic, f"{transactional_id}-{backoff}-{round_}", backoff
            )
            times += more_times
            waits += more_waits
            if waits:
                break
        found[f"retry_backoff_ms={backoff}"] = {
            "transactions": len(times),
            "refused at first": len(waits),
            "shortest wait ms": round(min(waits)) if waits else None,
            "longest wait ms": round(max(waits)) if waits else None,
            "median transaction ms": round(statistics.median(times), 1),
        }
    return found
