"""Lesson 10's consume-transform-produce checks: the readings, their conversion, and a
transactional producer that kills its own process at a chosen moment.

The pipeline check hands the learner's function a ``CrashingProducer`` inside a forked child
(see ``autograder.grading.crash_runner``). The kill is a real SIGKILL, so nothing is closed,
committed or aborted by the dying process; the broker is left with whatever was in flight. Two
moments matter:

* ``CrashBeforeCommit``: the transaction's records and offsets were sent (the producer flushes
  them first, so they are really in the log) and ``commit_transaction()`` was called but never
  reaches the broker. The next run's ``init_transactions()`` aborts what was left open.
* ``CrashAfterCommit``: the first ``commit_transaction()`` of the run returned, and the process
  dies before the code's next step (its next poll, or an offset commit of its own).
"""

from __future__ import annotations

import json
import random

from kafka import KafkaProducer

from autograder.grading.crash_runner import crash_now

SENSORS = ("boiler", "attic", "cellar", "porch")
TRANSACTION_TIMEOUT_MS = 8000  # a run killed mid-transaction must not hold the topic for 60 s


def make_readings(attempt_id: str, prefix: str, count: int) -> list[dict]:
    """``count`` temperature readings, the same for the same attempt id."""
    rng = random.Random(f"{prefix}:{attempt_id}")
    return [
        {
            "id": f"{prefix}-{attempt_id}-{n:02d}",
            "sensor": SENSORS[n % len(SENSORS)],
            "celsius": round(rng.uniform(-10, 40), 1),
        }
        for n in range(count)
    ]


def to_fahrenheit(reading: dict) -> dict:
    """What the pipeline writes for one reading (the task statement gives the same formula)."""
    return {
        "id": reading["id"],
        "sensor": reading["sensor"],
        "fahrenheit": round(reading["celsius"] * 9 / 5 + 32, 1),
    }


def encoded(reading: dict) -> tuple[str, bytes]:
    """(key, value) of a reading's input record: keyed by sensor, the value JSON."""
    return reading["sensor"], json.dumps(reading).encode()


class CrashPlan:
    """When to crash; the base plan never does."""

    def before_commit(self, producer: CrashingProducer) -> None:
        """Called as commit_transaction() starts."""

    def after_commit(self, producer: CrashingProducer) -> None:
        """Called once commit_transaction() returned."""


class CrashBeforeCommit(CrashPlan):
    """Dies at the run's first commit, once the transaction's sends are in the log."""

    def before_commit(self, producer: CrashingProducer) -> None:
        producer.flush(timeout=5)
        crash_now()


class CrashAfterCommit(CrashPlan):
    """Dies right after the run's first commit returned."""

    def after_commit(self, producer: CrashingProducer) -> None:
        crash_now()


PLANS: dict[str, type[CrashPlan]] = {
    "before commit": CrashBeforeCommit,
    "after commit": CrashAfterCommit,
    "none": CrashPlan,
}


class CrashingProducer(KafkaProducer):
    """A transactional KafkaProducer whose commit_transaction() first and last asks the plan."""

    plan: CrashPlan = CrashPlan()

    def commit_transaction(self) -> None:
        self.plan.before_commit(self)
        super().commit_transaction()
        self.plan.after_commit(self)

    def __repr__(self) -> str:
        return "<KafkaProducer, transactional, init_transactions() done>"


def open_producer(bootstrap: str, transactional_id: str, plan: CrashPlan) -> CrashingProducer:
    """The producer the learner gets: transactional, initialised (so whatever a killed
    predecessor left open is aborted before the learner's code runs), armed with ``plan``."""
    producer = CrashingProducer(
        bootstrap_servers=bootstrap,
        client_id="lesson10-learner",
        transactional_id=transactional_id,
        transaction_timeout_ms=TRANSACTION_TIMEOUT_MS,
        max_block_ms=15_000,  # init_transactions() on a busy broker
    )
    producer.init_transactions()
    producer.plan = plan
    return producer
