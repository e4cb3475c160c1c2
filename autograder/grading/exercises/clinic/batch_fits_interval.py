"""Pitfall 4 · a poll's batch too big for the poll interval: a bulk loader removed from its group.

The learner's ``bulk_loader(bootstrap, topic, group, write_batch, max_poll_interval_ms, stop)``
runs a consumer of its own in ``group`` that hands each poll's records to the grader's
``write_batch(records)``, a sink that costs RECORD_COST_MS per record, until the check sets
``stop`` (a threading.Event). ``max_poll_interval_ms`` is fixed by "operations": the loader must
keep it. The program as given polls with ``max_poll_records=500``: its first batch (the whole
topic) takes longer to write than the interval, kafka-python's heartbeat thread makes the
member leave the group, and its commit fails with CommitFailedError.

Every call of ``write_batch`` is written to the attempt's audit topic by the grader's own
producer (``stream_audit.Audit``), each record keyed by the number of the batch it came in, so
the verdict reads from the broker how many records each batch held and how often each offset
was written. The group coordinator's stored generations (``kafka_io.group_history``) show the
interval the member told the broker and whether it stayed in the group: one member id in every
generation, no generation without it, up to the moment the last record was written (that
offset of ``__consumer_offsets`` is the attempt's evidence, with where the window starts). The
committed offset comes from the broker too, so a rejudge reaches the same verdict.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from autograder.grading import kafka_io
from autograder.grading.exercises.base import Attempt, Exercise
from autograder.grading.exercises.stream_audit import Audit
from autograder.grading.harness import Outcome, run_learner_function
from autograder.grading.result import CheckResult

RECORDS = 160
RECORD_COST_MS = 25  # what write_batch costs per record: 500 of them take 12.5 s
INTERVAL_MS = 2000  # max_poll_interval_ms, as operations fixed it
MARGIN = 0.5  # a batch must be written within half the interval: sinks slow down at times
STOP_AFTER_S = 9.0  # the check stops a loader that has not written everything by then


def _short(topic: str) -> str:
    return topic.rsplit("-", 1)[-1]


def _writes(attempt: Attempt) -> list[tuple[int, int]]:
    """(batch number, offset) for every record written, in the order written, from the audit."""
    found = []
    for record in kafka_io.read_all(attempt.bootstrap, attempt.topic("audit")):
        try:
            found.append(
                (int((record.key_text or "").split()[-1]), int(record.value_json()["offset"]))
            )
        except (ValueError, KeyError, TypeError, IndexError):
            continue
    return found


def _largest_batch(writes: list[tuple[int, int]]) -> int:
    return max(Counter(batch for batch, _ in writes).values(), default=0)


class BatchFitsInterval(Exercise):
    id = "batch-fits-interval"
    time_limit_s = 12.0

    def prepare(self, attempt: Attempt) -> dict:
        kafka_io.create_topic(attempt.bootstrap, attempt.topic(), 1)
        kafka_io.create_topic(attempt.bootstrap, attempt.topic("audit"), 1)
        kafka_io.append_to_partitions(
            attempt.bootstrap,
            attempt.topic(),
            [(0, None, b"row %d" % n) for n in range(RECORDS)],
        )
        return {
            "bootstrap": attempt.bootstrap,
            "topic": attempt.topic(),
            "group": attempt.group(),
            "audit": attempt.topic("audit"),
        }

    def run_learner(self, function: Callable[..., Any], kwargs: dict) -> Outcome:
        """The loader runs with the grader's write_batch; once every record is written (or
        STOP_AFTER_S passed), the check notes where the group's history stands and sets stop."""
        bootstrap, topic, group = kwargs["bootstrap"], kwargs["topic"], kwargs["group"]
        audit = Audit(bootstrap, topic, kwargs["audit"])
        audit.pace = RECORD_COST_MS / 1000
        stop = threading.Event()
        since = kafka_io.group_log_end(bootstrap, group)
        evidence: dict[str, Any] = {"since": since}
        batches = [0]

        def finish() -> None:
            if "until" not in evidence:
                evidence["until"] = kafka_io.group_log_end(bootstrap, group)
            stop.set()

        def write_batch(records: Any) -> None:
            """The sink: writes each record, RECORD_COST_MS apiece."""
            records = list(records)
            if any(getattr(r, "topic", None) != topic for r in records):
                raise TypeError("write_batch() takes a list of records polled from your topic")
            batches[0] += 1
            for record in records:
                audit.handle(f"batch {batches[0]}", record)
            if audit.covered() >= RECORDS:
                finish()  # in the loader's thread: nothing it does next is in the window

        timer = threading.Timer(STOP_AFTER_S, finish)
        timer.daemon = True
        timer.start()
        try:
            outcome = run_learner_function(
                function,
                {
                    "bootstrap": bootstrap,
                    "topic": topic,
                    "group": group,
                    "write_batch": write_batch,
                    "max_poll_interval_ms": INTERVAL_MS,
                    "stop": stop,
                },
                self.time_limit_s,
            )
        finally:
            timer.cancel()
            stop.set()
            audit.close()  # every write on the audit topic before the verdict reads it
        evidence.setdefault("until", kafka_io.group_log_end(bootstrap, group))
        evidence["batches"] = batches[0]
        return Outcome(
            outcome.returned,
            outcome.error,
            outcome.error_type,
            outcome.timed_out,
            outcome.notes,
            evidence=evidence,
        )

    def judge(self, attempt: Attempt, outcome: Outcome) -> CheckResult:
        # A commit refused because the loader was removed is this pitfall, not a stray error:
        # the broker's history and the audit say why, so say it from there.
        if outcome.error_type == "CommitFailedError":
            return self._removed(attempt, outcome, "its commit failed: " + (outcome.error or ""))
        return super().judge(attempt, outcome)

    def _history(self, attempt: Attempt, outcome: Outcome) -> list[kafka_io.GroupGeneration]:
        since, until = outcome.evidence.get("since"), outcome.evidence.get("until")
        return kafka_io.group_history(
            attempt.bootstrap,
            attempt.group(),
            since if isinstance(since, int) and since >= 0 else 0,
            until if isinstance(until, int) else None,
        )

    def _removed(self, attempt: Attempt, outcome: Outcome, how: str) -> CheckResult:
        writes = _writes(attempt)
        largest = _largest_batch(writes)
        history = self._history(attempt, outcome)
        shown = ", ".join(f"generation {g.generation}: {len(g.members)} member(s)" for g in history)
        return self.failure(
            "your loader was removed from its group in the middle of a batch",
            f"one member in the group from start to end, each batch written within "
            f"{INTERVAL_MS} ms",
            f"a batch of {largest} records ({largest * RECORD_COST_MS} ms to write); {how}; the "
            f"broker stored {shown or 'no generation'}"[:400],
            f"How long did your biggest batch take? {largest} records at {RECORD_COST_MS} ms "
            f"each is {largest * RECORD_COST_MS} ms without a poll, more than "
            f"max_poll_interval_ms ({INTERVAL_MS} ms), so kafka-python left the group for the "
            "member. Keep the interval and lower max_poll_records so that a whole batch is "
            "written well inside it.",
        )

    def verdict(self, attempt: Attempt, outcome: Outcome) -> CheckResult:
        history = self._history(attempt, outcome)
        joined = [m for g in history for m in g.members]
        if not joined:
            return self.failure(
                "your loader never joined its group",
                f"a stored generation of group {_short(attempt.group())} with your consumer",
                f"{len(history)} stored generation(s), none with a member",
                "Did your consumer subscribe to `topic` with group_id=group, and poll until "
                "stop is set? Subscribe, then loop on `while not stop.is_set():`.",
            )
        intervals = sorted({m.rebalance_timeout_ms for m in joined})
        if intervals != [INTERVAL_MS]:
            return self.failure(
                "your loader changed the poll interval operations fixed",
                f"max_poll_interval_ms = {INTERVAL_MS} ms, as given",
                f"your consumer told the broker {', '.join(map(str, intervals))} ms",
                "A longer max_poll_interval_ms keeps a slow loader in the group, but a stuck "
                "one too, for as long: what else decides how long a loop between polls takes? "
                "Pass max_poll_interval_ms on as given and lower max_poll_records.",
            )
        ids = {m.member_id for m in joined}
        first = next(g.offset for g in history if g.members)
        if len(ids) > 1:
            return self._removed(attempt, outcome, "it rejoined under a new member id")
        if any(not g.members for g in history if g.offset > first):
            return self._removed(attempt, outcome, "the group was left empty before the end")
        writes = _writes(attempt)
        counts = Counter(offset for _, offset in writes)
        ends = kafka_io.end_offsets(attempt.bootstrap, attempt.topic())
        lost = [o for o in range(ends.get(0, 0)) if counts[o] == 0]
        if lost:
            return self.failure(
                f"{len(lost)} of {RECORDS} records were never written",
                "every record handed to write_batch",
                f"never written: offsets {lost[0]} to {lost[-1]}"
                if len(lost) > 1
                else f"never written: offset {lost[0]}",
                "Did your loader stop before stop was set, or skip records of a batch? Hand "
                "every polled record to write_batch until stop.is_set().",
            )
        twice = sorted(o for o, n in counts.items() if n > 1)
        if twice:
            return self.failure(
                f"{len(twice)} records were written more than once",
                "each record written once",
                f"offset {twice[0]} {counts[twice[0]]} times, and {len(twice) - 1} more",
                "Were records polled again after a commit that did not happen? Commit after "
                "each batch written, and poll only what the last commit has not covered.",
            )
        committed = kafka_io.committed_offsets(attempt.bootstrap, attempt.group())
        done = committed.get((attempt.topic(), 0))
        if done != ends.get(0):
            return self.failure(
                "the group's committed offset does not reach the end",
                f"committed offset {ends.get(0)}",
                f"committed offset {done}",
                "Did your loader commit after writing each batch? Call consumer.commit() once "
                "write_batch returned.",
            )
        largest = _largest_batch(writes)
        if largest * RECORD_COST_MS > INTERVAL_MS * MARGIN:
            return self.failure(
                "a batch leaves no margin inside the poll interval",
                f"each batch written in at most {int(INTERVAL_MS * MARGIN)} ms, half of "
                f"max_poll_interval_ms",
                f"a batch of {largest} records: {largest * RECORD_COST_MS} ms",
                "What happens the day the sink is twice as slow? A batch sized just under the "
                "interval gets the loader removed. Lower max_poll_records so a batch takes at "
                "most half of max_poll_interval_ms.",
            )
        return self.success(
            f"all {RECORDS} records written once and committed in generation "
            f"{history[-1].generation}, batches of up to {largest} records "
            f"({largest * RECORD_COST_MS} ms) inside max_poll_interval_ms ({INTERVAL_MS} ms)"
        )


EXERCISES = (BatchFitsInterval(),)
