"""What lesson 09's rebalance-safe consumer processed, recorded by the grader, and the check's
members joining and leaving its group while it does.

The learner's consumer gets ``Audit.process`` as the one way to process a record; the check's
own members hand theirs to ``Audit.handle``. Both write each call to the attempt's audit topic
with the grader's own producer (``kafka_io``), so the verdict counts, from the broker, how many
times each offset was processed and by whom. A record is "processed" when it is handed to
``process``; nothing the learner's code returns or prints is counted.

``Membership`` runs the changes in a thread of its own, each one when the stream has reached
the point where it hurts a consumer that does not commit before giving partitions up:

1. once your consumer has processed a few records, the first check member joins;
2. once your consumer has processed a few more, the second joins (with two partitions and
   three members, your consumer, last by member id, is left with none);
3. once the second member has processed a few, the first leaves cleanly.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from autograder.grading import kafka_io
from autograder.grading.exercises.group_members import CheckMember, close_all

LEARNER = "your consumer"
HANDLE_S = 0.04  # the work each record costs: enough for the group to move mid-stream
# While a member of the check is joining, each record costs more, so that however slowly the
# machine lets the member join, your consumer still has records left to lose when it does.
JOINING_HANDLE_S = 0.25
STEP_WAIT_S = 12.0  # how long a membership step may wait for its moment, under load


def prepare_stream(attempt: Any, partitions: int, records: int) -> dict:
    """A topic of ``records`` keyed events per partition and an empty audit topic beside it; the
    keyword arguments a streaming exercise's function is called with."""
    kafka_io.create_topic(attempt.bootstrap, attempt.topic(), partitions)
    kafka_io.create_topic(attempt.bootstrap, attempt.topic("audit"), 1)
    kafka_io.append_to_partitions(
        attempt.bootstrap,
        attempt.topic(),
        [
            (p, f"key-{p}", b"event %d of partition %d" % (n, p))
            for n in range(records)
            for p in range(partitions)
        ],
    )
    return {
        "bootstrap": attempt.bootstrap,
        "topic": attempt.topic(),
        "group": attempt.group(),
        "audit": attempt.topic("audit"),
    }


class Audit:
    """Counts and records every processing call, the learner's and the check members'."""

    def __init__(self, bootstrap: str, topic: str, audit_topic: str):
        self.bootstrap, self.topic, self.audit_topic = bootstrap, topic, audit_topic
        # One writer thread sends the calls to the audit topic: the grader's clients serve one
        # caller at a time, and the members call from threads of their own.
        self._pending: queue.Queue[tuple[str, bytes] | None] = queue.Queue()
        self._writer = threading.Thread(target=self._write, name="check-audit", daemon=True)
        self._writer.start()
        self.write_error: str | None = None
        self.pace = HANDLE_S
        self.by_whom: Counter[str] = Counter()
        self.seen: set[tuple[int, int]] = set()  # (partition, offset) processed at least once
        self._guard = threading.Lock()

    def process(self, record: Any) -> None:
        """The learner's one way to process a record: call it once per record, in order."""
        if getattr(record, "topic", None) != self.topic or not isinstance(
            getattr(record, "offset", None), int
        ):
            raise TypeError("process() takes one record polled from the topic you were given")
        self.handle(LEARNER, record)

    def handle(self, who: str, record: Any) -> None:
        time.sleep(self.pace)
        self._pending.put(
            (who, json.dumps({"partition": record.partition, "offset": record.offset}).encode())
        )
        with self._guard:
            self.by_whom[who] += 1
            self.seen.add((record.partition, record.offset))

    def close(self, timeout_s: float = 15.0) -> None:
        """Send what is still pending to the audit topic, then stop the writer."""
        self._pending.put(None)
        self._writer.join(timeout_s)

    def _write(self) -> None:
        done = False
        while not done:
            batch = [self._pending.get()]
            while not self._pending.empty():
                batch.append(self._pending.get())
            done = None in batch
            records = [item for item in batch if item is not None]
            if records:
                try:
                    kafka_io.append_keyed(self.bootstrap, self.audit_topic, records)
                except Exception as error:  # the verdict then finds calls missing, and says so
                    self.write_error = f"{type(error).__name__}: {error}"

    def count(self, who: str) -> int:
        with self._guard:
            return self.by_whom[who]

    def covered(self) -> int:
        with self._guard:
            return len(self.seen)


class Membership:
    """The check's members joining and leaving ``group`` mid-stream, in a thread; ``stop`` is
    set once every record has been processed (or a step waited too long)."""

    def __init__(self, bootstrap: str, group: str, topic: str, audit: Audit, total: int):
        self.bootstrap, self.group, self.topic = bootstrap, group, topic
        self.audit, self.total = audit, total
        self.stop = threading.Event()
        self.learner_done = threading.Event()
        self.steps: list[str] = []
        self.members: list[CheckMember] = []
        self._thread = threading.Thread(target=self._run, name="check-membership", daemon=True)

    def start(self) -> Membership:
        self._thread.start()
        return self

    def finish(self) -> None:
        """After the learner's function returned: end the steps and close the members."""
        self.learner_done.set()
        self.stop.set()
        self._thread.join(STEP_WAIT_S)
        close_all(self.members)

    def _member(self, name: str) -> CheckMember:
        member = CheckMember(
            self.bootstrap, self.group, [self.topic], name, handle=self.audit.handle
        ).start()
        self.members.append(member)
        return member

    def _when(self, condition: Callable[[], bool]) -> bool:
        stop_at = time.monotonic() + STEP_WAIT_S
        while not self.learner_done.is_set() and time.monotonic() < stop_at:
            if condition():
                return True
            time.sleep(0.02)
        return False

    def _run(self) -> None:
        count = self.audit.count
        try:
            if not self._when(lambda: count(LEARNER) >= 3):
                return
            self.audit.pace = JOINING_HANDLE_S
            first = self._member("check-member-1")
            self.steps.append("check-member-1 joined")
            if not self._when(lambda: count("check-member-1") >= 1):
                return
            self.audit.pace = HANDLE_S
            mark = count(LEARNER)
            if not self._when(lambda: count(LEARNER) >= mark + 2):
                return
            self.audit.pace = JOINING_HANDLE_S
            self._member("check-member-2")
            self.steps.append("check-member-2 joined")
            if not self._when(lambda: count("check-member-2") >= 1):
                return
            self.audit.pace = HANDLE_S
            first.close()
            self.steps.append("check-member-1 left")
            if self._when(lambda: self.audit.covered() >= self.total):
                self.steps.append("every record processed")
        finally:
            self.audit.pace = HANDLE_S
            self.stop.set()
