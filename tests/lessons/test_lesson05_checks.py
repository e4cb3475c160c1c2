"""Lesson 05's checks against the real broker, beyond what every exercise must do
(tests/lessons/test_every_exercise.py): every wrong answer is told its own mistake, the
reference leaves no member behind in its group, and a partial answer is caught."""

from __future__ import annotations

import pytest

from autograder.demos.lesson05 import describe_group
from autograder.grading import kafka_io
from autograder.grading.exercises import Attempt
from autograder.grading.verdict import run_check
from tests.learner_code import for_lesson

LESSON = "05"
_, solution, wrong_answers = for_lesson(LESSON)

WRONG = [(exercise, name) for exercise, name, _ in wrong_answers()]

# What each wrong answer must be told: the judge names the actual mistake, not a generic one.
SUMMARIES = {
    "auto_offset_reset left at 'latest'": "read no orders",
    "one poll, taken as everything": "stopped before the end",
    "auto-commit off and no commit": "committed nothing",
    "subscribe to the whole topic": "not exactly the records",
    "assign with the default 'latest'": "not exactly the records",
    "assign every partition of the topic": "not exactly the records",
}
HINTS = {
    "auto_offset_reset left at 'latest'": "auto_offset_reset='earliest'",
    "one poll, taken as everything": "max_poll_records",
    "auto-commit off and no commit": "consumer.commit()",
    "subscribe to the whole topic": "assign([TopicPartition(topic, partition)])",
    "assign with the default 'latest'": "auto_offset_reset='earliest'",
    "assign every partition of the topic": "assign([TopicPartition(topic, partition)])",
}


def _last_attempt(bootstrap, namespace, exercise) -> Attempt:
    claims = [
        r for r in kafka_io.read_all(bootstrap, namespace.claims_topic) if r.key_text == exercise
    ]
    return Attempt(bootstrap, namespace, exercise, claims[-1].value_json()["attempt"])


def test_the_reference_leaves_its_group_at_the_end_with_no_member(bootstrap, namespace):
    assert run_check(bootstrap, namespace, "consume-all", solution("consume-all")).passed
    attempt = _last_attempt(bootstrap, namespace, "consume-all")
    ends = kafka_io.end_offsets(bootstrap, attempt.topic())
    committed = kafka_io.committed_offsets(bootstrap, attempt.group())
    assert {p: committed[(attempt.topic(), p)] for p in ends} == ends
    assert sum(ends.values()) == 600
    assert describe_group(bootstrap, attempt.group())["members"] == []


def test_every_wrong_answer_in_the_manifest_has_its_own_guidance_here():
    assert {name for _, name in WRONG} == set(SUMMARIES) == set(HINTS)


@pytest.mark.parametrize("exercise, name", WRONG, ids=[f"{e}:{n}" for e, n in WRONG])
def test_plausible_wrong_answer_is_told_its_own_mistake(verdicts, exercise, name):
    result = verdicts.wrong(LESSON, exercise, name).result
    assert not result.passed, str(result)
    assert SUMMARIES[name] in result.summary, str(result)
    assert HINTS[name] in result.hint, str(result)


def test_a_partial_answer_that_commits_everything_still_fails(bootstrap, namespace):
    """The answer is judged, not only the offsets: skipping records and committing is caught."""
    reference = solution("consume-all")

    def revenue_per_customer(bootstrap, topic, group):
        revenue = reference(bootstrap, topic, group)
        revenue.pop(sorted(revenue)[0])
        return revenue

    result = run_check(bootstrap, namespace, "consume-all", revenue_per_customer)
    assert not result.passed and "stopped before the end" in result.summary
