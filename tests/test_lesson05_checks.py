"""Lesson 05's checks against the real broker: the reference passes (and passes again when
rejudged from the broker), every wrong answer fails for its own reason with a hint, the stubs
say "not written", and the reference leaves no member behind in its group."""

from __future__ import annotations

import pytest

from autograder.demos.lesson05 import describe_group
from autograder.grading import kafka_io
from autograder.grading.exercises import Attempt
from autograder.grading.namespace import Namespace, new_run_id
from autograder.grading.verdict import rejudge, run_check

from .learner_code import for_lesson

_, solution, wrong_answers = for_lesson("05")

LESSON05 = ("consume-all", "read-one-partition")
WRONG = list(wrong_answers())

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


@pytest.fixture
def namespace():
    """A fresh run namespace of lesson 05, as its setup cell would make."""
    return Namespace(new_run_id(), "05")


def _last_attempt(bootstrap, namespace, exercise) -> Attempt:
    claims = [
        r for r in kafka_io.read_all(bootstrap, namespace.claims_topic) if r.key_text == exercise
    ]
    return Attempt(bootstrap, namespace, exercise, claims[-1].value_json()["attempt"])


@pytest.mark.parametrize("exercise", LESSON05)
def test_reference_solution_passes_and_the_broker_agrees(bootstrap, namespace, exercise):
    result = run_check(bootstrap, namespace, exercise, solution(exercise))
    assert result.passed, str(result)
    assert rejudge(bootstrap, namespace, exercise).passed


def test_the_reference_leaves_its_group_at_the_end_with_no_member(bootstrap, namespace):
    assert run_check(bootstrap, namespace, "consume-all", solution("consume-all")).passed
    attempt = _last_attempt(bootstrap, namespace, "consume-all")
    ends = kafka_io.end_offsets(bootstrap, attempt.topic())
    committed = kafka_io.committed_offsets(bootstrap, attempt.group())
    assert {p: committed[(attempt.topic(), p)] for p in ends} == ends
    assert sum(ends.values()) == 600
    assert describe_group(bootstrap, attempt.group())["members"] == []


@pytest.mark.parametrize("exercise, name, function", WRONG, ids=[f"{e}:{n}" for e, n, _ in WRONG])
def test_plausible_wrong_answer_fails_with_its_own_hint(
    bootstrap, namespace, exercise, name, function
):
    result = run_check(bootstrap, namespace, exercise, function)
    assert not result.passed, str(result)
    assert SUMMARIES[name] in result.summary, str(result)
    assert HINTS[name] in result.hint, str(result)
    assert result.expected and result.found and result.hint.rstrip().endswith(".")
    assert "?" in result.hint, "a hint is a question that ends with what to do next"
    assert not rejudge(bootstrap, namespace, exercise).passed


@pytest.mark.parametrize(
    "exercise, stub",
    [
        (
            "consume-all",
            "def revenue_per_customer(bootstrap, topic, group):\n    raise NotImplementedError()\n",
        ),
        (
            "read-one-partition",
            "def read_partition(bootstrap, topic, partition):\n    raise NotImplementedError()\n",
        ),
    ],
)
def test_untouched_stub_fails_as_not_written_yet(bootstrap, namespace, exercise, stub):
    scope: dict = {}
    exec(stub, scope)
    function = next(v for k, v in scope.items() if not k.startswith("__"))
    result = run_check(bootstrap, namespace, exercise, function)
    assert not result.passed and result.summary == "not written yet"


def test_a_partial_answer_that_commits_everything_still_fails(bootstrap, namespace):
    """The answer is judged, not only the offsets: skipping records and committing is caught."""
    reference = solution("consume-all")

    def revenue_per_customer(bootstrap, topic, group):
        revenue = reference(bootstrap, topic, group)
        revenue.pop(sorted(revenue)[0])
        return revenue

    result = run_check(bootstrap, namespace, "consume-all", revenue_per_customer)
    assert not result.passed and "stopped before the end" in result.summary
