"""Pitfall 2 · a batch committer with no rebalance listener: work redone when partitions move.

The learner's ``consume_shared(bootstrap, topic, group, process, stop)`` runs a consumer of its
own in ``group``, hands every record of ``topic`` to the grader's ``process(record)`` and
returns once the check sets ``stop`` (a threading.Event). The program as given commits once
every 50 records, and has no rebalance listener.

While it streams, a member of the check's (``group_members.CheckMember``, one that commits what
it handled after each batch and before giving partitions up) joins the group, once the learner's
consumer has processed a few records: the group rebalances and the member takes a
partition over. It starts reading it at the group's committed offset, so every record the
learner's consumer processed there since its last commit is processed a second time. Once every
record has been processed, the member leaves and the check sets ``stop``.

Every processing call, the learner's and the member's, is written to the attempt's audit topic
by the grader's own producer (``stream_audit.Audit``), so the verdict counts from the broker how
many times each offset was processed and by whom; the group coordinator's stored generations
(``kafka_io.group_history``, from the offset the attempt's evidence names) show that the member
really joined and held a partition beside the learner's consumer; the committed offsets at the
end come from the broker too. A rejudge reads the same three things.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from autograder.grading import kafka_io
from autograder.grading.exercises.base import Attempt, Exercise
from autograder.grading.exercises.group_members import CheckMember
from autograder.grading.exercises.lesson09 import RebalanceSafeConsumer, _audit
from autograder.grading.exercises.stream_audit import (
    HANDLE_S,
    JOINING_HANDLE_S,
    LEARNER,
    STEP_WAIT_S,
    Audit,
    prepare_stream,
)
from autograder.grading.harness import Outcome, run_learner_function
from autograder.grading.result import CheckResult

PARTITIONS = 2
RECORDS = 50  # per partition: records left to move, however long the rebalance takes
MEMBER = "check-member-1"  # as the audit and the verdict name it
# Its client id: one that sorts before a default kafka-python member id, one that sorts after.
MEMBER_NAMES = (f"0-{MEMBER}", f"z-{MEMBER}")
STEPS = (f"{MEMBER} joined", f"{MEMBER} took over a partition", "every record processed")


class _Takeover:
    """The check's member joining the group mid-stream, in a thread; ``stop`` is set once every
    record was processed (or a step waited too long), after the member has left."""

    def __init__(self, bootstrap: str, group: str, topic: str, audit: Audit, since: int):
        self.bootstrap, self.group, self.topic, self.audit = bootstrap, group, topic, audit
        self.since = since
        self.stop = threading.Event()
        self.steps: list[str] = []
        self.until: int | None = None
        self.member: CheckMember | None = None
        self._returned = threading.Event()
        self._thread = threading.Thread(target=self._run, name="check-takeover", daemon=True)

    def start(self) -> _Takeover:
        self._thread.start()
        return self

    def finish(self) -> None:
        """After the learner's function returned: end the steps, make sure the member left."""
        self._returned.set()
        self._thread.join(STEP_WAIT_S)
        if self.member is not None:
            self.member.close()

    def _when(self, condition: Callable[[], bool]) -> bool:
        stop_at = time.monotonic() + STEP_WAIT_S
        while not self._returned.is_set() and time.monotonic() < stop_at:
            if condition():
                return True
            time.sleep(0.02)
        return False

    def _run(self) -> None:
        audit = self.audit
        try:
            if not self._when(lambda: audit.count(LEARNER) >= 4):
                return
            # kafka-python hands out one partition's fetched records before the next one's, so
            # your consumer may have worked on one partition only. Range (and round-robin) give
            # partition 0 to the member whose id sorts first: the member's client id is chosen
            # so that it takes a partition your consumer has processed records of.
            ids = [
                m.member_id
                for g in kafka_io.group_history(self.bootstrap, self.group, self.since)
                for m in g.members
            ]
            first = 0 in {p for p, _ in audit.seen}
            name = MEMBER_NAMES[0] if first else MEMBER_NAMES[1]
            if ids and (name < ids[-1]) != first:
                name = MEMBER_NAMES[1] if first else MEMBER_NAMES[0]
            audit.pace = JOINING_HANDLE_S  # records left to lose, however slow the join
            self.member = CheckMember(
                self.bootstrap,
                self.group,
                [self.topic],
                name,
                handle=lambda _name, record: audit.handle(MEMBER, record),
            ).start()
            self.steps.append(STEPS[0])
            if not self._when(lambda: audit.count(MEMBER) >= 1):
                return
            audit.pace = HANDLE_S
            self.steps.append(STEPS[1])
            if self._when(lambda: audit.covered() >= PARTITIONS * RECORDS):
                self.steps.append(STEPS[2])
        finally:
            audit.pace = HANDLE_S
            # The member leaves before your consumer is told to stop: what your consumer has
            # not committed by then stays uncommitted, and nobody processes anything again.
            if self.member is not None:
                self.member.close()
            self.until = kafka_io.group_log_end(self.bootstrap, self.group)
            self.stop.set()


class CommitOnRevoke(Exercise):
    id = "commit-on-revoke"
    time_limit_s = 30.0
    error_hints = RebalanceSafeConsumer.error_hints  # a blocking commit() in a listener

    def prepare(self, attempt: Attempt) -> dict:
        return prepare_stream(attempt, PARTITIONS, RECORDS)

    def run_learner(self, function: Callable[..., Any], kwargs: dict) -> Outcome:
        bootstrap, topic, group = kwargs["bootstrap"], kwargs["topic"], kwargs["group"]
        audit = Audit(bootstrap, topic, kwargs["audit"])
        since = kafka_io.group_log_end(bootstrap, group)
        takeover = _Takeover(bootstrap, group, topic, audit, since).start()
        try:
            outcome = run_learner_function(
                function,
                {
                    "bootstrap": bootstrap,
                    "topic": topic,
                    "group": group,
                    "process": audit.process,
                    "stop": takeover.stop,
                },
                self.time_limit_s,
            )
        finally:
            takeover.finish()
            audit.close()  # every call on the audit topic before the verdict reads it
        return Outcome(
            outcome.returned,
            outcome.error,
            outcome.error_type,
            outcome.timed_out,
            outcome.notes,
            evidence={"since": since, "until": takeover.until, "steps": takeover.steps},
        )

    def _history(self, attempt: Attempt, outcome: Outcome) -> list[kafka_io.GroupGeneration]:
        since, until = outcome.evidence.get("since"), outcome.evidence.get("until")
        return kafka_io.group_history(
            attempt.bootstrap,
            attempt.group(),
            since if isinstance(since, int) and since >= 0 else 0,
            until if isinstance(until, int) else None,
        )

    def unmet_condition(self, attempt: Attempt, outcome: Outcome) -> CheckResult | None:
        history = self._history(attempt, outcome)
        shared = [
            g
            for g in history
            if any(m.client_id in MEMBER_NAMES and m.assignment for m in g.members)
            and any(m.client_id not in MEMBER_NAMES and m.assignment for m in g.members)
        ]
        calls = _audit(attempt)
        took_over = any(who == MEMBER for who, _, _ in calls)
        if shared and took_over:
            return None
        mine = sum(1 for who, _, _ in calls if who == LEARNER)
        steps = outcome.evidence.get("steps") or []
        return self.failure(
            "the check's member never took a partition over from your consumer",
            f"{MEMBER} joining your group and processing a partition beside your consumer",
            f"your consumer processed {mine} record(s); the check got as far as: "
            + (", then ".join(str(s) for s in steps) or "nothing"),
            "Did your consumer subscribe to `topic` in `group`, from the earliest offset "
            "(auto_offset_reset='earliest'), and keep polling small batches until stop is "
            "set? Loop on `while not stop.is_set():` around consumer.poll(timeout_ms=...).",
        )

    def verdict(self, attempt: Attempt, outcome: Outcome) -> CheckResult:
        calls = _audit(attempt)
        counts = Counter((p, o) for _, p, o in calls)
        wanted = {(p, o) for p in range(PARTITIONS) for o in range(RECORDS)}
        lost = sorted(wanted - set(counts))
        if lost:
            return self.failure(
                f"{len(lost)} of {len(wanted)} records were never processed",
                "every record processed once, by your consumer or the check's member",
                "never processed: " + ", ".join(f"partition {p} offset {o}" for p, o in lost[:4]),
                "Did your consumer commit offsets past records it had not processed? Commit "
                "only the offset after the last record handed to process().",
            )
        twice = sorted(key for key, n in counts.items() if n > 1)
        if twice:
            p, o = twice[0]
            who = sorted({w for w, cp, co in calls if (cp, co) == (p, o)})
            isolated = all(
                counts[(tp, to)] == 2 and (tp, to - 1) not in twice and (tp, to + 1) not in twice
                for tp, to in twice
            )
            hint = (
                "Which offset does a commit name: the last record processed, or the next one "
                "to read? The next one: commit record.offset + 1."
                if isolated
                else "Where does the new owner of a partition start reading? At the group's "
                "last commit, and your consumer had processed records there since its last "
                "one. Commit what it processed in the on_partitions_revoked of an "
                "AsyncConsumerRebalanceListener (await consumer.commit_async(offsets)): it "
                "runs before the partitions leave, on_partitions_assigned only after."
            )
            return self.failure(
                f"{len(twice)} record{'s were' if len(twice) > 1 else ' was'} processed "
                "twice when a partition moved",
                "each record processed once, across your consumer and the check's member",
                f"partition {p} offset {o} {counts[(p, o)]} times (by {', '.join(who)}), "
                f"and {len(twice) - 1} more",
                hint,
            )
        ends = kafka_io.end_offsets(attempt.bootstrap, attempt.topic())
        committed = kafka_io.committed_offsets(attempt.bootstrap, attempt.group())
        behind = {
            p: committed.get((attempt.topic(), p))
            for p, end in ends.items()
            if committed.get((attempt.topic(), p)) != end
        }
        if behind:
            return self.failure(
                "the group's committed offsets do not reach the end",
                f"committed = end offsets {dict(sorted(ends.items()))}",
                f"committed {dict(sorted(behind.items()))}",
                "Did your consumer commit what it processed before it returned? Commit once "
                "more after the loop, then close the consumer.",
            )
        generations = sorted({g.generation for g in self._history(attempt, outcome)})
        return self.success(
            f"all {len(wanted)} records processed exactly once and committed, while "
            f"{MEMBER} joined and took a partition over (generations "
            f"{', '.join(map(str, generations))})"
        )


EXERCISES = (CommitOnRevoke(),)
