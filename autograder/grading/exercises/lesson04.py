"""Lesson 04, reliability: no duplicates through lost answers, order through a refused request,
and an honest report of sends the broker refused.

The first two checks run the learner's function behind the fault proxy (see ``behind_proxy``):
the verdict comes from the broker and from the proxy's own report, recorded with the claim, of
the faults that struck the learner's producer; a later rejudge needs no proxy.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from dataclasses import replace

from autograder.faults import FaultProxy
from autograder.grading import kafka_io
from autograder.grading.exercises import late_binding, scans
from autograder.grading.exercises.base import Attempt, Exercise
from autograder.grading.exercises.behind_proxy import BehindFaultProxy
from autograder.grading.harness import Outcome
from autograder.grading.result import CheckResult

ACCOUNTS = ("acct-ada", "acct-bo", "acct-cy", "acct-di")
PARTITIONS = 3
TOPIC_LIMIT_BYTES = "2048"  # max.message.bytes of the readings topic
# Kafka's NOT_LEADER_OR_FOLLOWER, under the name kafka-python gives it: what a producer with
# acks=1 meets when a leader moves (min.insync.replicas, hence NOT_ENOUGH_REPLICAS, is only
# checked for acks=all).
LEADER_MOVED = "NOT_LEADER_FOR_PARTITION"


def _make(attempt_id: str, prefix: str, count: int) -> list[dict]:
    rng = random.Random(f"{prefix}-{attempt_id}")
    return [
        {
            "id": f"{prefix}-{attempt_id}-{n:02d}",
            "account": ACCOUNTS[n % len(ACCOUNTS)],
            "amount": rng.randint(1, 900),
        }
        for n in range(count)
    ]


class PacedFeed:
    """Events as a live feed delivers them: iterating waits ``interval_s`` before each one."""

    def __init__(self, events: list[dict], interval_s: float) -> None:
        self._events = list(events)
        self._interval_s = interval_s

    def __iter__(self):
        for event in self._events:
            time.sleep(self._interval_s)
            yield dict(event)

    def __len__(self) -> int:
        return len(self._events)

    def __repr__(self) -> str:
        return f"<live feed of {len(self._events)} events, one every {self._interval_s:g} s>"


ORDER_HINT = (
    "A refused batch was retried after later batches had gone through: "
    "what stops a producer from overtaking its own retry? Keep "
    "`enable_idempotence` on (or allow one request in flight)."
)


def _judge_once_and_in_order(
    exercise: Exercise,
    attempt: Attempt,
    expected: list[dict],
    what: str,
    order_hint: str = ORDER_HINT,
) -> CheckResult | None:
    """Every expected record once, each account's in the given order; else the failure."""
    stored = kafka_io.read_all(attempt.bootstrap, attempt.topic())
    copies = scans.copies_by_id(stored, "id")
    wanted = [e["id"] for e in expected]
    missing = [i for i in wanted if i not in copies]
    if missing:
        return exercise.failure(
            f"{len(missing)} {what}(s) never reached the broker",
            f"all {len(wanted)} {what}s",
            f"{len(wanted) - len(missing)} of them; missing {missing[:3]}",
            "Did every send succeed in the end? A producer that does not retry gives up "
            "at the first fault: leave `retries` at its default, flush before returning.",
        )
    unknown = sorted(set(copies) - set(wanted))
    if unknown:
        return exercise.failure(
            "the topic holds records that are not yours to send",
            f"only the {len(wanted)} {what}s",
            f"also {unknown[:3]}",
            "Did you send anything besides what you were given? Send each one as given.",
        )
    doubled = {i: n for i, n in copies.items() if n > 1}
    if doubled:
        sample = sorted(doubled)[:2]
        return exercise.failure(
            f"{len(doubled)} {what}(s) are stored more than once",
            f"each {what} exactly once",
            f"{len(stored)} records; e.g. " + ", ".join(f"{i} ×{doubled[i]}" for i in sample),
            "The broker wrote a batch, its answer was lost, and your producer sent it "
            "again: what lets the broker recognise a retried batch? Keep "
            "`enable_idempotence` on, and check that nothing you set (acks=1, "
            "retries=0, more than 5 requests in flight) quietly turns it off.",
        )
    order = defaultdict(list)
    for record in stored:  # sorted by partition, then offset
        value = record.value_json()
        order[value["account"]].append(value["id"])
    for account in sorted(order):
        wanted_order = [e["id"] for e in expected if e["account"] == account]
        if order[account] != wanted_order:
            return exercise.failure(
                f"{account}'s {what}s are out of order on the broker",
                " → ".join(i[-2:] for i in wanted_order),
                " → ".join(i[-2:] for i in order[account]),
                order_hint,
            )
    return None


class NoDuplicates(BehindFaultProxy):
    id = "no-duplicates"
    time_limit_s = 20.0
    count = 12
    lost_answers = 2
    fault = "the broker's first answers, lost after it wrote the batches"

    def payments(self, attempt: Attempt) -> list[dict]:
        return _make(attempt.attempt_id, "pay", self.count)

    def arm(self, proxy: FaultProxy) -> list:
        return [proxy.drop_responses("Produce", count=self.lost_answers)]

    def prepare(self, attempt: Attempt) -> dict:
        kafka_io.create_topic(attempt.bootstrap, attempt.topic(), PARTITIONS)
        return {
            "bootstrap": self.start_proxy(attempt),
            "topic": attempt.topic(),
            "payments": self.payments(attempt),
        }

    def verdict(self, attempt: Attempt, outcome: Outcome) -> CheckResult:
        problem = _judge_once_and_in_order(self, attempt, self.payments(attempt), "payment")
        return problem or self.success(
            f"{self.count} payments, each stored once and in "
            "order, although the broker's first answers were lost"
        )


class KeepOrder(NoDuplicates):
    """Order under the team's acks=1, which in kafka-python silently switches idempotence off
    (kafka/producer/kafka.py, the conflicts check in __init__): order then has to come from
    one request in flight. The broker's producer state tells whether acks=1 was kept, since
    only an idempotent producer (acks=all) leaves one."""

    id = "keep-order"
    count = 12
    interval_s = 0.02
    fault = "its first request refused (the partition's leader moved) while later ones go through"
    error_hints = {
        "KafkaConfigurationError": "kafka-python refused to build your producer: "
        "enable_idempotence=True cannot go with acks=1, since the broker can only check "
        "sequence numbers of writes every in-sync replica has. With idempotence impossible, "
        "what else stops a retry from being overtaken? Keep acks=1, set "
        "enable_idempotence=False and max_in_flight_requests_per_connection=1.",
    }

    def payments(self, attempt: Attempt) -> list[dict]:
        return _make(attempt.attempt_id, "evt", self.count)

    def arm(self, proxy: FaultProxy) -> list:
        return [proxy.fail_requests("Produce", count=1, error=LEADER_MOVED, after_s=0.25)]

    def prepare(self, attempt: Attempt) -> dict:
        kwargs = super().prepare(attempt)
        return {
            "bootstrap": kwargs["bootstrap"],
            "topic": kwargs["topic"],
            "feed": PacedFeed(kwargs["payments"], self.interval_s),
        }

    def unmet_condition(self, attempt: Attempt, outcome: Outcome) -> CheckResult | None:
        problem = super().unmet_condition(attempt, outcome)
        if problem is not None and "acks=0" in problem.found:
            return replace(
                problem,
                hint="Did your producer wait for the broker's answers? With acks=0 nothing "
                "comes back, so a refusal goes unnoticed and nothing is known: keep the "
                "team's acks=1.",
            )
        return problem

    def verdict(self, attempt: Attempt, outcome: Outcome) -> CheckResult:
        problem = _judge_once_and_in_order(
            self,
            attempt,
            self.payments(attempt),
            "event",
            order_hint="A refused batch was retried after later batches had gone through. "
            "Did you check whether your producer is still idempotent? With acks=1, "
            "kafka-python switches idempotence off and only logs a warning, and then up to 5 "
            "requests in flight may overtake a retry. Set enable_idempotence=False and "
            "max_in_flight_requests_per_connection=1 with acks=1.",
        )
        if problem:
            return problem
        producers = kafka_io.active_producers(attempt.bootstrap, attempt.topic())
        idempotent = sorted({s["producer_id"] for states in producers.values() for s in states})
        if idempotent:
            return self.failure(
                "the events were written by an idempotent producer, so not with acks=1",
                "a producer with the team's acks=1 (which kafka-python cannot make idempotent)",
                f"producer id {idempotent[0]} tracked by the broker: idempotence, so acks='all'",
                "The team's latency budget asks for acks=1: what does kafka-python do to "
                "idempotence then, and what keeps order without it? Create the producer with "
                "acks=1, enable_idempotence=False and max_in_flight_requests_per_connection=1.",
            )
        return self.success(
            f"{self.count} events, each account's in order, with acks=1 and no idempotence, "
            "although the broker refused the first request"
        )


class FailureReport(Exercise):
    id = "failure-report"
    count = 10
    too_big = 3
    error_hints = {
        "MessageSizeTooLargeError": "With max_request_size=2048, send() itself refuses an "
        "oversized record: did you wrap each send in try/except KafkaError and record the "
        "reading as failed? Catch it.",
        "UnknownError": "kafka-python's flush() raises UnknownError('Future not done') while "
        "it splits a batch the broker refused as too large: why let the broker see an "
        "oversized record at all? Refuse it at the producer with max_request_size=2048.",
    }

    def readings(self, attempt: Attempt) -> list[dict]:
        rng = random.Random(f"readings-{attempt.attempt_id}")
        big = set(rng.sample(range(2, self.count - 2), self.too_big))  # fits on both sides
        readings = []
        for n in range(self.count):
            reading = {
                "id": f"r-{attempt.attempt_id}-{n:02d}",
                "sensor": f"s{n % 3}",
                "celsius": rng.randint(-20, 40),
            }
            if n in big:
                reading["trace"] = "0.125," * 500  # about 3 KB: over the topic's 2 KB limit
            readings.append(reading)
        return readings

    def prepare(self, attempt: Attempt) -> dict:
        kafka_io.create_topic(
            attempt.bootstrap, attempt.topic(), 1, {"max.message.bytes": TOPIC_LIMIT_BYTES}
        )
        return {
            "bootstrap": attempt.bootstrap,
            "topic": attempt.topic(),
            "readings": self.readings(attempt),
        }

    def verdict(self, attempt: Attempt, outcome: Outcome) -> CheckResult:
        report = outcome.returned
        if (
            not isinstance(report, dict)
            or not {"delivered", "failed"} <= set(report)
            or not isinstance(report["delivered"], dict)
            or not isinstance(report["failed"], dict)
        ):
            return self.failure(
                "the report has the wrong shape",
                "{'delivered': {id: [partition, offset]}, 'failed': {id: 'ErrorName'}}",
                repr(report)[:100],
                "What should your function return? Build both dicts from your "
                "callbacks and errbacks and return them.",
            )
        readings = self.readings(attempt)
        fits = [r["id"] for r in readings if "trace" not in r]
        too_big = sorted(r["id"] for r in readings if "trace" in r)
        stored = kafka_io.read_all(attempt.bootstrap, attempt.topic())
        copies = scans.copies_by_id(stored, "id")
        on_broker = scans.positions_by_id(stored, "id")
        missing = [i for i in fits if i not in on_broker]
        if missing:
            return self.failure(
                f"{len(missing)} reading(s) that fit never reached the broker",
                f"all {len(fits)} readings under 2 KB on the broker",
                f"{len(fits) - len(missing)} of them; missing {missing[:3]}",
                "After the broker refused one record, did your producer refuse "
                "everything after it? kafka-python's idempotent producer treats that "
                "refusal as fatal. Stop oversized records before they leave, with "
                "max_request_size=2048.",
            )
        doubled = sorted(i for i, n in copies.items() if n > 1)
        if doubled:
            return self.failure(
                "some readings are stored more than once",
                "each reading once",
                f"{doubled[:3]} more than once",
                "Did you send some readings again by hand? Send each reading once.",
            )
        sent_ids = [r["id"] for r in readings]
        if late_binding.looks_late_bound(report["delivered"], [], sent_ids, on_broker):
            return self.failure(
                "the report files deliveries under the wrong reading ids",
                f"the {len(on_broker)} delivered readings, each under its own id",
                f"{len(report['delivered'])} reported: {sorted(map(str, report['delivered']))}"[
                    :160
                ],
                late_binding.HINT.format(what="reading"),
            )
        wrong = scans.misreported(report["delivered"], on_broker)
        if wrong:
            reading_id = sorted(wrong)[0]
            return self.failure(
                "a reported position is not where the broker holds the reading",
                f"{reading_id} at {on_broker.get(reading_id, 'nowhere (it failed)')}",
                f"{reading_id} reported at {wrong[reading_id]}",
                "Where do partition and offset come from? Take them from the metadata "
                "your callback receives.",
            )
        delivered = {str(k) for k in report["delivered"]}
        unreported = sorted(set(on_broker) - delivered)
        if unreported:
            return self.failure(
                "some delivered readings are missing from your report",
                f"all {len(on_broker)} delivered readings",
                f"{len(delivered)} reported; e.g. {unreported[0]} is missing",
                "Did you wait for every callback before building the report? Flush "
                "before you return.",
            )
        reported_failed = {str(k): str(v) for k, v in report["failed"].items()}
        if sorted(reported_failed) != too_big:
            return self.failure(
                "the failed sends are not reported correctly",
                f"failed: {too_big}",
                f"failed: {sorted(reported_failed)}",
                "Where does the broker's refusal of a record arrive? Attach an errback "
                "to every future and record the reading's id with the error.",
            )
        names = {v for v in reported_failed.values()}
        if names != {"MessageSizeTooLargeError"}:
            return self.failure(
                "the failures carry the wrong error names",
                "MessageSizeTooLargeError for each",
                f"{sorted(names)}",
                "What names the error? Store type(error).__name__ of the exception "
                "your errback receives.",
            )
        return self.success(
            f"{len(fits)} readings delivered at the reported positions, "
            f"{len(too_big)} oversized readings reported as failed"
        )


EXERCISES = (NoDuplicates(), KeepOrder(), FailureReport())
