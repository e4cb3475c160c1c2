"""How long kafka-python's transactional calls may block, with the coordinator's answers held
back by the course's fault proxy (``autograder.faults``): ``init_transactions()`` gives up after
``max.block.ms``; in kafka-python 3.0.12 ``commit_transaction()`` does not."""

from __future__ import annotations

import threading
import time

from kafka import KafkaProducer
from kafka.errors import KafkaError, KafkaTimeoutError

from autograder.demos.lesson10.reading import close_quietly
from autograder.faults import fault_proxy
from autograder.grading.quiet import grader_busy


def _elapsed(started: float) -> float:
    return round(time.monotonic() - started, 1)


def _init_once_answered(producer: KafkaProducer, attempts: int = 20) -> None:
    """init_transactions() again, now that the held answer flows: each call goes on waiting for
    the same answer (for max_block_ms at most), so call until it has come."""
    for _ in range(attempts - 1):
        try:
            producer.init_transactions()
            return
        except KafkaTimeoutError:
            continue
    producer.init_transactions()


def held_back_answers(
    bootstrap: str, topic: str, transactional_id: str, max_block_ms: int = 1000, wait_s: float = 1.5
) -> dict[str, str]:
    """A producer with ``max_block_ms`` behind the fault proxy. Its InitProducerId answer is
    held back: what init_transactions() does. Then its EndTxn answer is held back for
    ``max_block_ms`` + ``wait_s``: whether commit_transaction() is still waiting by then, and
    how it ends once the answer flows again."""
    found = {}
    with fault_proxy(bootstrap) as proxy, grader_busy():
        producer = KafkaProducer(
            bootstrap_servers=proxy.bootstrap,
            transactional_id=transactional_id,
            max_block_ms=max_block_ms,
            request_timeout_ms=30_000,  # longer than the wait: no retry muddles what is seen
        )
        try:
            producer.partitions_for(topic)  # connect and learn the topic first
            with proxy.withhold_responses("InitProducerId"):
                started = time.monotonic()
                try:
                    producer.init_transactions()
                    found["init_transactions()"] = f"returned after {_elapsed(started)} s"
                except KafkaError as error:
                    found["init_transactions()"] = (
                        f"{type(error).__name__} after {_elapsed(started)} s"
                    )
            _init_once_answered(producer)
            producer.begin_transaction()
            producer.send(topic, b"committed late")
            producer.flush(timeout=10)
            with proxy.withhold_responses("EndTxn"):
                commit = threading.Thread(target=producer.commit_transaction, daemon=True)
                started = time.monotonic()
                commit.start()
                commit.join(max_block_ms / 1000 + wait_s)
                still = commit.is_alive()
                found["commit_transaction()"] = (
                    f"still waiting after {_elapsed(started)} s" if still else "returned"
                )
            commit.join(10)
            found["once the answer flows"] = (
                f"returned after {_elapsed(started)} s" if not commit.is_alive() else "waiting"
            )
        finally:
            close_quietly(producer)
    return found
