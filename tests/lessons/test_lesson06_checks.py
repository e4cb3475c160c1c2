"""Lesson 06's check, replay-since, against the real broker, beyond what every exercise must do
(tests/lessons/test_every_exercise.py): each plausible mistake gets its own guidance, and the
data always holds the cases the exercise is about."""

from __future__ import annotations

from kafka import KafkaConsumer, TopicPartition

from autograder.grading import manifest
from autograder.grading.exercises import Attempt
from autograder.grading.exercises.lesson06 import PARTITIONS, Replay, ReplaySince
from autograder.grading.verdict import run_check
from tests.learner_code import define, solution_source

LESSON = "06"
EXERCISE = manifest.lesson(LESSON).exercise("replay-since")


def _define(code: str):
    return define(code, EXERCISE.function, LESSON)


def _solution_source() -> str:
    return solution_source(EXERCISE.id, LESSON)


# What each wrong answer must be told: the judge names the actual mistake, not a generic one.
SUMMARIES = {
    "replays from the beginning": "records older than the timestamp were replayed",
    "commits the offset of the last record read": "the committed offsets are one short",
    "skips the partition where offsets_for_times says None": (
        "old records of a partition with nothing new were replayed"
    ),
}


def test_each_wrong_answer_gets_the_guidance_for_its_own_mistake(verdicts):
    summaries = {
        w.name: verdicts.wrong(LESSON, EXERCISE.id, w.name).result.summary
        for w in EXERCISE.wrong_answers
    }
    assert summaries == SUMMARIES


def test_a_replay_that_never_commits_the_quiet_partition_fails(bootstrap, namespace):
    code = _solution_source().replace(
        "consumer.assign(partitions)\n",
        "consumer.assign(partitions)\n"
        "        quiet = consumer.offsets_for_times({tp: since_ms for tp in partitions})\n"
        "        partitions = [tp for tp in partitions if quiet[tp] is not None]\n"
        "        consumer.assign(partitions)\n",
    )
    result = run_check(bootstrap, namespace, EXERCISE.id, _define(code))
    assert not result.passed and "no committed offset for partition" in result.summary


def test_reading_offset_of_a_none_answer_gets_the_none_hint(bootstrap, namespace):
    code = _solution_source().replace(
        "ends[tp] if starts[tp] is None else starts[tp].offset", "starts[tp].offset"
    )
    result = run_check(bootstrap, namespace, EXERCISE.id, _define(code))
    assert not result.passed and "AttributeError" in result.found
    assert "None" in result.hint


def test_bytes_instead_of_text_gets_the_decode_hint(bootstrap, namespace):
    code = _solution_source().replace("record.value.decode()", "record.value")
    result = run_check(bootstrap, namespace, EXERCISE.id, _define(code))
    assert not result.passed and "decode" in result.hint


def test_every_attempt_has_a_quiet_partition_and_a_reading_exactly_at_the_moment():
    for attempt_id in (f"{n:06x}" for n in range(0, 5000, 7)):
        replay = Replay.for_attempt(attempt_id)
        assert replay == Replay.for_attempt(attempt_id), "rebuilt the same from the attempt id"
        assert all(s < replay.since_ms for s in replay.stamps[replay.quiet])
        for partition, stamps in replay.stamps.items():
            assert stamps == sorted(stamps)
            if partition != replay.quiet:
                assert replay.since_ms in stamps
                assert any(s < replay.since_ms for s in stamps)
                assert any(s > replay.since_ms for s in stamps)


def test_the_prepared_topic_answers_none_for_the_quiet_partition_only(bootstrap, namespace):
    attempt = Attempt(bootstrap, namespace, EXERCISE.id, "abc123")
    kwargs = ReplaySince().prepare(attempt)
    replay = Replay.for_attempt("abc123")
    partitions = [TopicPartition(kwargs["topic"], p) for p in range(PARTITIONS)]
    with KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False) as consumer:
        found = consumer.offsets_for_times({tp: kwargs["since_ms"] for tp in partitions})
    assert {tp.partition for tp, answer in found.items() if answer is None} == {replay.quiet}
    for tp, answer in found.items():
        if answer is not None:
            assert answer.timestamp == kwargs["since_ms"]
            assert answer.offset == replay.stamps[tp.partition].index(kwargs["since_ms"])
