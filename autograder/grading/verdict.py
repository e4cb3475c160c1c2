"""Running a check end to end, and judging it again later from the broker alone.

In the learner's kernel, ``run_check`` prepares the exercise on the broker, calls the learner's
function, records what happened in the run's claims topic, and judges. The grader's own
process calls ``rejudge`` with nothing but the run's namespace: the verdict it reaches comes
from the broker, out of reach of anything the notebook redefined.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from autograder.grading import kafka_io
from autograder.grading.exercises import EXERCISES, Attempt
from autograder.grading.harness import Outcome
from autograder.grading.namespace import Namespace, new_attempt_id
from autograder.grading.result import CheckResult, failed, run_again

CLAIMS_PARTITIONS = 1  # one partition keeps every claim in the order it was made


def ensure_claims_topic(bootstrap: str, namespace: Namespace) -> None:
    if namespace.claims_topic not in kafka_io.list_topics(bootstrap):
        try:
            kafka_io.create_topic(bootstrap, namespace.claims_topic, CLAIMS_PARTITIONS)
        except Exception as error:  # a concurrent creator won the race: the topic is there
            if "TopicAlreadyExists" not in type(error).__name__:
                raise


def _unreachable(exercise: str, error: Exception) -> CheckResult:
    return failed(
        exercise,
        "the broker did not answer",
        "a running Kafka broker",
        str(error),
        run_again("Is the broker up? Run `kafka-course broker up` in a terminal."),
    )


def run_check(
    bootstrap: str, namespace: Namespace, exercise_id: str, function: Callable[..., Any]
) -> CheckResult:
    """Prepare, run the learner's function, record the claim, judge."""
    exercise = EXERCISES[exercise_id]
    attempt = Attempt(bootstrap, namespace, exercise_id, new_attempt_id())
    try:
        kafka_io.ping(bootstrap)  # a stopped broker is reported in seconds, before any learner code
        kwargs = exercise.prepare(attempt)
    except kafka_io.BrokerUnreachable as error:
        return _unreachable(exercise_id, error)
    outcome = exercise.run_learner(function, kwargs)
    try:
        ensure_claims_topic(bootstrap, namespace)
        kafka_io.append_json(
            bootstrap,
            namespace.claims_topic,
            exercise_id,
            {"attempt": attempt.attempt_id, **outcome.to_claim()},
        )
        result = exercise.judge(attempt, outcome)
    except kafka_io.BrokerUnreachable as error:
        return _unreachable(exercise_id, error)
    return result.with_notes(list(outcome.notes))


def trial(
    bootstrap: str, namespace: Namespace, exercise_id: str, function: Callable[..., Any]
) -> CheckResult:
    """Run an exercise's check on ``function`` without recording a claim: for showing a broken
    program fail (the pitfalls clinic, the drills), never for a learner's graded attempt, so a
    later ``rejudge`` still sees only the learner's own runs."""
    exercise = EXERCISES[exercise_id]
    attempt = Attempt(bootstrap, namespace, exercise_id, new_attempt_id())
    try:
        kafka_io.ping(bootstrap)
        kwargs = exercise.prepare(attempt)
        outcome = exercise.run_learner(function, kwargs)
        return exercise.judge(attempt, outcome).with_notes(list(outcome.notes))
    except kafka_io.BrokerUnreachable as error:
        return _unreachable(exercise_id, error)


def rejudge(bootstrap: str, namespace: Namespace, exercise_id: str) -> CheckResult:
    """The verdict from broker state alone: the latest claim for the exercise, judged afresh."""
    try:
        claims = kafka_io.read_all(bootstrap, namespace.claims_topic)
    except kafka_io.BrokerUnreachable as error:
        return _unreachable(exercise_id, error)
    latest = None
    for record in claims:
        if record.key_text == exercise_id:
            latest = record.value_json()
    if latest is None:
        return failed(
            exercise_id,
            "this check never ran against the broker",
            "a run of the check cell",
            "no record of it in this run",
            "Run the lesson from the top so the check cell calls your function.",
        )
    attempt = Attempt(bootstrap, namespace, exercise_id, str(latest.get("attempt")))
    return EXERCISES[exercise_id].judge(attempt, Outcome.from_claim(latest))
