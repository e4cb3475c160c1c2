"""Lesson 08's check against the real broker, beyond what every exercise must do
(tests/lessons/test_every_exercise.py): each plausible wrong answer gets the hint for its own
mistake, and the prepared group has the cases the exercise is about."""

from __future__ import annotations

import pytest

from autograder.grading.exercises.base import Attempt
from autograder.grading.exercises.lesson08 import _plan
from autograder.grading.verdict import run_check
from tests.learner_code import for_lesson

LESSON = "08"
_, solution, wrong_answers = for_lesson(LESSON)

WRONG = [name for _, name, _ in wrong_answers()]

# What each wrong answer's hint must talk about: the mistake it made, not a generic one.
HINT_FOR = {
    "end minus one, taken for the last record's offset": "next one",
    "only the partitions the group committed": "describe_topics",
    "a consumer in the group, asked for its positions": "group_id=group",
}


def test_every_wrong_answer_in_the_manifest_has_its_own_hint_here():
    assert set(WRONG) == set(HINT_FOR)


@pytest.mark.parametrize("name", sorted(HINT_FOR))
def test_plausible_wrong_answer_fails_with_the_hint_for_its_mistake(verdicts, name):
    result = verdicts.wrong(LESSON, "group-lag", name).result
    assert not result.passed, str(result)
    assert HINT_FOR[name] in result.hint, str(result)


def test_a_consumer_that_commits_while_measuring_is_caught_by_the_broker(verdicts):
    name = "a consumer in the group, asked for its positions"
    result = verdicts.wrong(LESSON, "group-lag", name).result
    assert result.summary == "your function changed the group's committed offsets"


def test_counting_a_never_committed_partition_as_zero_lag_fails(bootstrap, namespace):
    reference = solution("group-lag")

    def group_lag(bootstrap, group):
        lags = reference(bootstrap, group)
        return {
            t: {p: 0 if lag is None else lag for p, lag in parts.items()}
            for t, parts in lags.items()
        }

    result = run_check(bootstrap, namespace, "group-lag", group_lag)
    assert not result.passed and "auto.offset.reset" in result.hint, str(result)


def test_a_flat_dict_with_tuple_keys_is_reported_as_the_wrong_shape(bootstrap, namespace):
    reference = solution("group-lag")

    def group_lag(bootstrap, group):
        return {
            (t, p): lag
            for t, parts in reference(bootstrap, group).items()
            for p, lag in parts.items()
        }

    result = run_check(bootstrap, namespace, "group-lag", group_lag)
    assert result.summary == "the result has the wrong shape", str(result)


def test_the_prepared_group_has_one_never_committed_partition_and_varies_by_attempt(
    bootstrap, namespace
):
    first = Attempt(bootstrap, namespace, "group-lag", "a1b2c3")
    counts, commits = _plan(first)
    assert len(counts) == 5 and len(commits) == 4
    assert _plan(Attempt(bootstrap, namespace, "group-lag", "d4e5f6")) != (counts, commits)
    assert _plan(first) == (counts, commits)  # the grader rebuilds it from the attempt id alone
