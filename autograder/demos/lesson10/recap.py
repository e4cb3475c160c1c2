"""Section 1: what an idempotent producer alone does not give, with real crashes.

Each "application" runs in a forked child process that kills itself with SIGKILL at a chosen
line (``autograder.grading.crash_runner``), so nothing after that line runs, as in a power cut.
"""

from __future__ import annotations

from functools import partial

from kafka import KafkaProducer

from autograder.demos.lesson10.reading import close_quietly, read_records, read_values
from autograder.grading import kafka_io
from autograder.grading.crash_runner import crash_now, run_forked
from autograder.grading.quiet import silence_kafka_logs

# max.block.ms generous: a freshly created topic can take a busy broker seconds to announce.
FAST = {"request_timeout_ms": 30_000, "max_block_ms": 30_000}


def _idempotent(bootstrap: str) -> KafkaProducer:
    # enable.idempotence is kafka-python 3's default; stated here because it is the point.
    return KafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, **FAST)


def _send_then_crash(bootstrap: str, topic: str, value: bytes) -> None:
    """The application: send a payment, get the broker's ack, die before noting it was sent."""
    silence_kafka_logs()
    producer = _idempotent(bootstrap)
    producer.send(topic, value).get(timeout=10)
    crash_now()  # the ack arrived; the note "payment sent" was never written


def _run_crashing(body) -> None:
    run = run_forked(body, time_limit_s=30)
    if not run.crashed:
        raise RuntimeError(f"the producer process did not crash as planned: {run}")


def resend_after_restart(bootstrap: str, topic: str) -> dict[str, object]:
    """A producer process sends ``payment 1`` and is killed; its restart, not knowing whether
    the payment went out, sends it again. Returns the copies in the topic and the producer ids
    the broker tracks for the partition (DescribeProducers)."""
    _run_crashing(partial(_send_then_crash, bootstrap, topic, b"payment 1"))
    restarted = _idempotent(bootstrap)
    try:
        restarted.send(topic, b"payment 1").get(timeout=10)  # the resend after the restart
    finally:
        close_quietly(restarted)
    producers = kafka_io.active_producers(bootstrap, topic)
    return {
        "values in the topic": read_values(bootstrap, topic),
        "producer ids": sorted(p["producer_id"] for ps in producers.values() for p in ps),
    }


def _transfer_then_crash(bootstrap: str, topic: str) -> None:
    """The application: a transfer is a debit in partition 0 and a credit in partition 1."""
    silence_kafka_logs()
    producer = _idempotent(bootstrap)
    producer.send(topic, b"debit alice 10", partition=0).get(timeout=10)
    crash_now()  # between the two writes
    producer.send(topic, b"credit bob 10", partition=1).get(timeout=10)


def half_a_transfer(bootstrap: str, topic: str) -> dict[int, list[str]]:
    """An idempotent producer killed between a transfer's two writes (two partitions of
    ``topic``): partition -> the values it holds afterwards."""
    _run_crashing(partial(_transfer_then_crash, bootstrap, topic))
    stored = read_records(bootstrap, topic)
    return {partition: [v for p, _, v in stored if p == partition] for partition in (0, 1)}
