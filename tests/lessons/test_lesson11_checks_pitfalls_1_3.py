"""Lesson 11's pitfalls 1 and 3 on the real broker, beyond what every exercise must do
(tests/lessons/test_every_exercise.py): each broken program gets the hint for its own mistake,
and the condition each check injects really happened: the crash run was killed with the group
committed past records nobody handled, and the serial program's lookups never overlapped while
its group fell behind."""

from __future__ import annotations

import threading

import pytest

from autograder.grading import kafka_io
from autograder.grading.exercises.base import Attempt
from autograder.grading.exercises.clinic.auto_commit_handoff import (
    GATE_AT,
    RECORDS,
    journal_path,
    read_journal,
)
from autograder.grading.exercises.clinic.parallel_slow_stream import MIN_CONCURRENT
from autograder.grading.exercises.clinic.parallel_slow_stream import RECORDS as INPUTS
from autograder.grading.namespace import Namespace
from autograder.grading.verdict import run_check
from tests.learner_code import for_lesson

LESSON = "11"
_, solution, wrong_answers = for_lesson(LESSON)
MINE = ("auto-commit-handoff", "parallel-slow-stream")

# What each wrong answer's hint must talk about: the mistake it made, not a generic one.
HINT_FOR = {
    (
        "auto-commit-handoff",
        "the program as given: auto-commit looks after the offsets, so slow work can go to threads",
    ): "`enable_auto_commit=True` the consumer commits its position on a timer",
    (
        "auto-commit-handoff",
        "auto-commit off, and a commit() as soon as the records are handed to the pool",
    ): "a `commit()` right after `submit` does the same",
    (
        "parallel-slow-stream",
        "the program as given: one loop looks up each record in turn, and the stream has to wait",
    ): "Your loop calls lookup(record) itself",
    (
        "parallel-slow-stream",
        "a thread pool makes the lookups parallel, even when each result is waited for at once",
    ): "`pool.submit(...).result()` in the loop",
}
AS_GIVEN = {exercise: name for exercise, name in HINT_FOR if name.startswith("the program as")}


def _claim(bootstrap: str, namespace: Namespace, exercise: str) -> tuple[Attempt, dict]:
    """The attempt a check ran, and its claim, found on the broker."""
    claim = [
        record.value_json()
        for record in kafka_io.read_all(bootstrap, namespace.claims_topic)
        if record.key_text == exercise
    ][-1]
    return Attempt(bootstrap, namespace, exercise, str(claim["attempt"])), claim


def test_every_wrong_answer_of_these_pitfalls_has_its_own_hint_here():
    found = {(exercise, name) for exercise, name, _ in wrong_answers() if exercise in MINE}
    assert found == set(HINT_FOR)


@pytest.mark.parametrize("exercise, name", sorted(HINT_FOR))
def test_plausible_wrong_answer_fails_with_the_hint_for_its_mistake(verdicts, exercise, name):
    result = verdicts.wrong(LESSON, exercise, name).result
    assert not result.passed, str(result)
    assert HINT_FOR[(exercise, name)] in result.hint, str(result)


# ----- auto-commit-handoff ------------------------------------------------------------------


def test_auto_commit_left_committed_offsets_past_records_the_crash_took(bootstrap, verdicts):
    judged = verdicts.wrong(LESSON, "auto-commit-handoff", AS_GIVEN["auto-commit-handoff"])
    attempt, claim = _claim(bootstrap, judged.namespace, "auto-commit-handoff")
    evidence = claim["evidence"]
    assert evidence["runs"][0]["ended"] == "crashed"
    handled = set(read_journal(journal_path(attempt)))
    after_crash = {int(p): o for p, o in evidence["after crash"]["committed"].items()}
    ends = kafka_io.end_offsets(bootstrap, attempt.topic())
    lost = [(p, o) for p, end in ends.items() for o in range(end) if (p, o) not in handled]
    assert lost, "the broken program lost nothing"
    # Each lost record lies below what the group had committed when the process died: the
    # restart was told to skip it.
    assert all(o < after_crash.get(p, 0) for p, o in lost), (lost, after_crash)


def test_the_reference_is_killed_too_and_handles_some_records_twice(bootstrap, verdicts):
    judged = verdicts.reference(LESSON, "auto-commit-handoff")
    assert judged.result.passed, str(judged.result)
    attempt, claim = _claim(bootstrap, judged.namespace, "auto-commit-handoff")
    assert claim["evidence"]["runs"][0]["ended"] == "crashed"
    journal = read_journal(journal_path(attempt))
    assert len(set(journal)) == RECORDS
    # 4 workers: the gated call starts only once 4 earlier calls have finished, and none of them
    # was committed (they all came in the first poll), so the restart hands them over again.
    assert len(journal) - RECORDS >= GATE_AT - 4, journal
    assert "handled twice" in judged.result.summary
    committed = kafka_io.committed_offsets(bootstrap, attempt.group())
    assert {p: committed[(attempt.topic(), p)] for p in range(3)} == kafka_io.end_offsets(
        bootstrap, attempt.topic()
    )


def test_a_function_that_hands_nothing_over_is_never_crashed(bootstrap, namespace):
    def run_pipeline(bootstrap, topic, group, handle):
        return None

    result = run_check(bootstrap, namespace, "auto-commit-handoff", run_pipeline)
    assert result.summary == "your function was never caught by the injected crash", str(result)


# ----- parallel-slow-stream ------------------------------------------------------------------


def test_the_serial_program_never_overlaps_a_lookup_and_its_group_falls_behind(bootstrap, verdicts):
    judged = verdicts.wrong(LESSON, "parallel-slow-stream", AS_GIVEN["parallel-slow-stream"])
    attempt, claim = _claim(bootstrap, judged.namespace, "parallel-slow-stream")
    assert claim["timed_out"]
    seen = claim["evidence"]["lookup"]
    assert seen["most at once"] == 1 and 0 < seen["calls"] < INPUTS
    assert seen["from your function's own thread"] == seen["calls"]
    # When the time was up, the group's commits were behind the input's end: lag.
    committed = {int(p): o for p, o in claim["evidence"]["committed on return"].items()}
    ends = kafka_io.end_offsets(bootstrap, attempt.topic())
    assert sum(ends.values()) - sum(committed.values()) > 0, (committed, ends)


def test_the_reference_overlaps_its_lookups_and_writes_each_result_once(bootstrap, verdicts):
    judged = verdicts.reference(LESSON, "parallel-slow-stream")
    assert judged.result.passed, str(judged.result)
    attempt, claim = _claim(bootstrap, judged.namespace, "parallel-slow-stream")
    assert claim["evidence"]["lookup"]["most at once"] >= MIN_CONCURRENT
    assert claim["evidence"]["lookup"]["from your function's own thread"] == 0
    output = kafka_io.read_all(bootstrap, attempt.topic("enriched"))
    assert len(output) == len({record.value for record in output}) == INPUTS


def test_a_pool_of_two_workers_is_told_to_add_workers(bootstrap, namespace):
    reference = solution("parallel-slow-stream")

    def enrich_all(bootstrap, topic, group, output_topic, lookup):
        two = threading.Semaphore(2)

        def narrow(record):
            with two:  # at most two lookups at once, whatever the pool's size
                return lookup(record)

        return reference(bootstrap, topic, group, output_topic, narrow)

    result = run_check(bootstrap, namespace, "parallel-slow-stream", enrich_all)
    assert result.summary == "at most 2 lookups ran at once", str(result)
    assert "max_workers" in result.hint
