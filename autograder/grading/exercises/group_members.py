"""The check's own members of a consumer group (lesson 09): real kafka-python consumers, each
polling in a thread of the grader's process, that join a group, take their share of its
partitions, and leave it when told.

A member may also process records for lesson 09's rebalance-safe exercise: it hands each one to
the grader's ``handle`` (which records it), commits what it handled after every batch and, in its
rebalance listener, before it gives partitions up, as a correct consumer does.

    member = CheckMember(bootstrap, group, [topic], "check-1").start()
    ...
    member.close()  # a clean leave: the group moves on at once
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from kafka import (
    AsyncConsumerRebalanceListener,
    KafkaConsumer,
    OffsetAndMetadata,
    TopicPartition,
)
from kafka.errors import CommitFailedError, KafkaTimeoutError

from autograder.grading.quiet import grader_busy

POLL_MS = 100
# Low timeouts keep the check quick: the course broker allows session timeouts down to 1 s.
SESSION_TIMEOUT_MS = 3000
HEARTBEAT_INTERVAL_MS = 300
COMMIT_TIMEOUT_MS = 3000  # a commit caught in a rebalance that never ends must not hang the check

Handle = Callable[[str, Any], None]  # (member name, ConsumerRecord)


class _CommitBeforeGivingUp(AsyncConsumerRebalanceListener):
    """Commits what the member handled of the partitions it is about to lose.

    Async: kafka-python 3 runs rebalance callbacks on the consumer's IO loop, where a blocking
    ``commit()`` raises RuntimeError; awaiting ``commit_async()`` is the way it supports.
    """

    def __init__(self, member: CheckMember):
        self.member = member

    async def on_partitions_revoked(self, revoked):
        offsets = self.member.handled_offsets(list(revoked))
        consumer = self.member._consumer
        if offsets and consumer is not None:
            try:
                await consumer.commit_async(offsets)
            except CommitFailedError:  # removed from the group already: the work is redone
                self.member.commit_failures += 1

    async def on_partitions_assigned(self, assigned):
        pass


class CheckMember:
    """One member of ``group`` subscribed to ``topics``, polling in its own thread.

    ``client_id`` is ``name``, so the member is found by name in the group's description and in
    the history its coordinator stores. ``handle``, when given, receives every record the member
    polls; without it the member only holds its partitions.
    """

    def __init__(
        self,
        bootstrap: str,
        group: str,
        topics: Sequence[str],
        name: str,
        *,
        assignors: Sequence[type] | None = None,
        handle: Handle | None = None,
        max_poll_records: int = 5,
        **settings: Any,
    ):
        self.name = name
        self.topics = list(topics)
        self.handle = handle
        self.config: dict[str, Any] = {
            "bootstrap_servers": bootstrap,
            "group_id": group,
            "client_id": name,
            "enable_auto_commit": False,
            "auto_offset_reset": "earliest",
            "session_timeout_ms": SESSION_TIMEOUT_MS,
            "heartbeat_interval_ms": HEARTBEAT_INTERVAL_MS,
            "max_poll_records": max_poll_records,
            **({"partition_assignment_strategy": tuple(assignors)} if assignors else {}),
            **settings,
        }
        self.error: str | None = None
        self.commit_failures = 0
        self._handled: dict[TopicPartition, int] = {}  # partition -> next offset to handle
        self._stop = threading.Event()
        self._started = threading.Event()
        self._consumer: KafkaConsumer | None = None
        self._thread = threading.Thread(target=self._run, name=f"check-member-{name}", daemon=True)

    @classmethod
    def from_config(
        cls,
        config: dict[str, Any],
        topics: Sequence[str],
        name: str,
        handle: Handle | None = None,
    ) -> CheckMember:
        """A member built from ``config`` alone (the KafkaConsumer settings a learner chose),
        subscribed by the check to ``topics``; ``name`` only names its thread."""
        member = cls(config.get("bootstrap_servers", ""), "", topics, name, handle=handle)
        member.config = dict(config)
        return member

    def start(self) -> CheckMember:
        self._thread.start()
        self._started.wait(10)
        return self

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop polling, commit what was handled, and close: a dynamic member leaves the group
        at once (LeaveGroup); a static one stays in it until its session times out."""
        self._stop.set()
        self._thread.join(timeout_s)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def handled_offsets(self, partitions: Sequence[TopicPartition] | None = None) -> dict:
        """{partition: the next offset to handle} for ``partitions`` (default: every one
        handled), ready to commit; the revoked ones are forgotten."""
        chosen = list(self._handled) if partitions is None else list(partitions)
        offsets = {
            tp: OffsetAndMetadata(self._handled[tp], "", -1) for tp in chosen if tp in self._handled
        }
        if partitions is not None:
            for tp in chosen:
                self._handled.pop(tp, None)
        return offsets

    def commit_handled(self) -> None:
        """Commit, from the polling thread, the next offset to handle of every partition. A
        commit the group refuses (the member was removed meanwhile) is counted, and the member
        goes on: its next poll rejoins."""
        offsets = self.handled_offsets()
        if self._consumer is not None and offsets:
            try:
                self._consumer.commit(offsets, timeout_ms=COMMIT_TIMEOUT_MS)
            except (CommitFailedError, KafkaTimeoutError):
                self.commit_failures += 1
                self._handled.clear()

    def _run(self) -> None:
        with grader_busy():
            try:
                self._consumer = KafkaConsumer(**self.config)
            except Exception as error:  # a refused setting: say so, never raise in a thread
                self.error = f"{type(error).__name__}: {error}"
                self._started.set()
                return
            consumer = self._consumer
            try:
                consumer.subscribe(self.topics, listener=_CommitBeforeGivingUp(self))
                # A metadata refresh before the first poll joins the group: with several
                # members in one process, kafka-python 3.0.12 can otherwise leave one stuck
                # rejoining (see autograder/demos/lesson05.py).
                consumer.topics()
                self._started.set()
                while not self._stop.is_set():
                    self._poll_once(consumer)
                if self.handle is not None:
                    self.commit_handled()
            except Exception as error:  # recorded for the check, never raised in a thread
                self.error = f"{type(error).__name__}: {error}"
            finally:
                self._started.set()
                try:
                    consumer.close(autocommit=False)
                except Exception:
                    pass

    def _poll_once(self, consumer: KafkaConsumer) -> None:
        batch = consumer.poll(timeout_ms=POLL_MS)
        if self.handle is None:
            return
        for tp, records in batch.items():
            for record in records:
                if self._stop.is_set():
                    break  # told to close: what is left of the batch stays for the next owner
                self.handle(self.name, record)
                self._handled[tp] = record.offset + 1
        if batch:
            self.commit_handled()


def close_in_time(client: Any, timeout_s: float = 5.0, **options: Any) -> None:
    """Close a kafka-python client from a thread of its own, waiting at most ``timeout_s``:
    a learner's consumer runs the learner's rebalance listener as it closes, and whatever that
    does (raise, hang) must not reach or stop the check."""

    def close() -> None:
        with grader_busy():
            try:
                client.close(**options)
            except Exception:
                pass

    closing = threading.Thread(target=close, name="close-in-time", daemon=True)
    closing.start()
    closing.join(timeout_s)


def close_all(members: Sequence[CheckMember]) -> None:
    """Close members side by side (each close may wait on the coordinator)."""
    for member in members:
        member._stop.set()
    for member in members:
        member.close()


def wait_until(condition: Callable[[], bool], timeout_s: float, every_s: float = 0.1) -> bool:
    """Poll ``condition`` until it holds or ``timeout_s`` passes; whether it held."""
    stop_at = time.monotonic() + timeout_s
    while time.monotonic() < stop_at:
        if condition():
            return True
        time.sleep(every_s)
    return condition()
