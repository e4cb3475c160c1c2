"""Lesson 09's checks on the real broker, beyond what every exercise must do
(tests/lessons/test_every_exercise.py): each plausible wrong answer gets the hint for its own
mistake; the check's own members really joined and left, as the coordinator's stored history
shows; and a forged claim, or a learner that bypasses the group, earns nothing."""

from __future__ import annotations

import pytest
from kafka import ConsumerRebalanceListener, OffsetAndMetadata, TopicPartition

from autograder.grading import kafka_io
from autograder.grading.exercises.base import Attempt
from autograder.grading.exercises.lesson09 import LEARNER_CLIENT_ID, STEPS, _seen_on_broker
from autograder.grading.namespace import Namespace
from autograder.grading.verdict import ensure_claims_topic, rejudge, run_check
from tests.learner_code import for_lesson

LESSON = "09"
_, solution, wrong_answers = for_lesson(LESSON)

# What each wrong answer's hint must talk about: the mistake it made, not a generic one.
HINT_FOR = {
    (
        "rebalance-safe-consumer",
        "commits in on_partitions_assigned, once the partitions have already moved",
    ): "on_partitions_revoked",
    (
        "rebalance-safe-consumer",
        "commits the offset of the last record processed instead of the next one to read",
    ): "record.offset + 1",
    (
        "rebalance-safe-consumer",
        "no rebalance listener: one commit at the end, whatever moved in between",
    ): "on_partitions_revoked",
    (
        "predict-assignment",
        "members taken in the order given, as if the assignor kept the order they joined in",
    ): "sort the names",
    (
        "predict-assignment",
        "round-robin dealt again from the first member for each topic",
    ): "one turn counter across topics",
    (
        "predict-assignment",
        "range laid over all the topics' partitions at once, not topic by topic",
    ): "topic by topic",
    (
        "restart-without-rebalance",
        "no group_instance_id: a dynamic member leaves the group on close() and joins it anew",
    ): "LeaveGroup",
    (
        "restart-without-rebalance",
        "a new group_instance_id on every start",
    ): "the same on every start",
    (
        "restart-without-rebalance",
        "a session timeout shorter than the restart takes",
    ): "session_timeout_ms (1000 ms) ran out",
    (
        "slow-handler-kept",
        "max_poll_records left at its default of 500: only the interval is set",
    ): "default (500)",
    (
        "slow-handler-kept",
        "a batch sized to the session timeout, as if heartbeats kept a slow handler in the group",
    ): "max_poll_records=12",
    (
        "slow-handler-kept",
        "max_poll_interval_ms raised instead of smaller batches",
    ): "lower max_poll_records",
}


def _latest_attempt(bootstrap: str, namespace: Namespace, exercise: str) -> Attempt:
    claims = [
        r.value_json()
        for r in kafka_io.read_all(bootstrap, namespace.claims_topic)
        if r.key_text == exercise
    ]
    return Attempt(bootstrap, namespace, exercise, claims[-1]["attempt"])


def test_every_wrong_answer_in_the_manifest_has_its_own_hint_here():
    assert {(exercise, name) for exercise, name, _ in wrong_answers()} == set(HINT_FOR)


@pytest.mark.parametrize("exercise, name", sorted(HINT_FOR), ids=lambda v: v[:40])
def test_plausible_wrong_answer_fails_with_the_hint_for_its_mistake(verdicts, exercise, name):
    result = verdicts.wrong(LESSON, exercise, name).result
    assert not result.passed, str(result)
    assert HINT_FOR[(exercise, name)] in result.hint, str(result)


# ----- rebalance-safe-consumer --------------------------------------------------------------


def test_the_checks_members_really_joined_and_left_while_the_reference_consumed(
    bootstrap, verdicts
):
    judged = verdicts.reference(LESSON, "rebalance-safe-consumer")
    assert judged.result.passed, str(judged.result)
    attempt = _latest_attempt(bootstrap, judged.namespace, "rebalance-safe-consumer")
    history = kafka_io.group_history(bootstrap, attempt.group())
    assert _seen_on_broker(history) == list(STEPS)
    # With two partitions and three members, the learner's consumer (last by member id) was
    # left with nothing for a generation: the moment a missing commit on revoke shows.
    assert any(
        g.member(LEARNER_CLIENT_ID) and not g.member(LEARNER_CLIENT_ID).assignment for g in history
    )


def test_duplicates_are_counted_across_members_from_the_audit_topic(bootstrap, verdicts):
    name = "no rebalance listener: one commit at the end, whatever moved in between"
    judged = verdicts.wrong(LESSON, "rebalance-safe-consumer", name)
    assert judged.result.summary.endswith("processed more than once"), str(judged.result)
    assert "check-member" in judged.result.found and "your consumer" in judged.result.found


def test_a_java_style_listener_that_commits_blocking_gets_the_async_hint(bootstrap, namespace):
    def consume_safely(consumer, topic, process, stop):
        done = {}

        class CommitOnRevoke(ConsumerRebalanceListener):
            def on_partitions_revoked(self, revoked):
                offsets = {
                    tp: OffsetAndMetadata(done.pop(tp), "", -1) for tp in revoked if tp in done
                }
                if offsets:
                    consumer.commit(offsets)  # blocking, on kafka-python's IO loop: refused

            def on_partitions_assigned(self, assigned):
                pass

        consumer.subscribe([topic], listener=CommitOnRevoke())
        consumer.topics()
        while not stop():
            for tp, records in consumer.poll(timeout_ms=200).items():
                for record in records:
                    process(record)
                    done[tp] = record.offset + 1

    result = run_check(bootstrap, namespace, "rebalance-safe-consumer", consume_safely)
    assert not result.passed and "AsyncConsumerRebalanceListener" in result.hint, str(result)


def test_a_consumer_that_reads_every_partition_outside_the_group_fails(bootstrap, namespace):
    def consume_safely(consumer, topic, process, stop):
        # "Exactly once, simply": assign every partition, so no rebalance ever touches it.
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(parts)
        while not stop():
            for records in consumer.poll(timeout_ms=200).values():
                for record in records:
                    process(record)

    result = run_check(bootstrap, namespace, "rebalance-safe-consumer", consume_safely)
    assert not result.passed, str(result)


def test_a_function_that_returns_before_stop_never_sees_the_group_change(bootstrap, namespace):
    def consume_safely(consumer, topic, process, stop):
        consumer.subscribe([topic])
        consumer.topics()
        for records in consumer.poll(timeout_ms=2000).values():
            for record in records:
                process(record)
        consumer.commit()

    result = run_check(bootstrap, namespace, "rebalance-safe-consumer", consume_safely)
    assert result.summary == "the group never changed under your consumer", str(result)
    assert "stop()" in result.hint


# ----- predict-assignment -------------------------------------------------------------------


def test_the_two_cases_really_differ_on_the_broker(bootstrap, verdicts):
    judged = verdicts.reference(LESSON, "predict-assignment")
    assert judged.result.passed, str(judged.result)
    attempt = _latest_attempt(bootstrap, judged.namespace, "predict-assignment")
    stored = {}
    for assignor in ("range", "roundrobin"):
        [last] = [
            g for g in kafka_io.group_history(bootstrap, attempt.group(assignor)) if g.members
        ][-1:]
        assert last.protocol == assignor
        stored[assignor] = {m.client_id: m.assignment for m in last.members}
    assert set(stored["range"]) == set(stored["roundrobin"]) == {"ana", "ben", "cleo"}
    assert stored["range"] != stored["roundrobin"]


def test_an_answer_of_the_wrong_shape_is_reported_as_such(bootstrap, namespace):
    def predict_assignment(assignor, members, partitions):
        return [[name, topic] for name, topics in members.items() for topic in topics]

    result = run_check(bootstrap, namespace, "predict-assignment", predict_assignment)
    assert result.summary == "the result has the wrong shape", str(result)


# ----- restart-without-rebalance ------------------------------------------------------------


def test_the_static_restart_kept_the_generation_and_sent_no_leave_group(bootstrap, verdicts):
    judged = verdicts.reference(LESSON, "restart-without-rebalance")
    assert judged.result.passed, str(judged.result)
    attempt = _latest_attempt(bootstrap, judged.namespace, "restart-without-rebalance")
    history = kafka_io.group_history(bootstrap, attempt.group())
    records = [
        (g.generation, m.member_id, m.assignment)
        for g in history
        for m in g.members
        if m.group_instance_id == "orders-worker"
    ]
    ids = list(dict.fromkeys(member_id for _, member_id, _ in records))
    assert len(ids) == 2, "the restart joined under a new member id"
    first, second = ([r for r in records if r[1] == i] for i in ids)
    # Same generation, same partitions: the broker swapped the member id and nothing moved.
    assert first[-1][0] == second[0][0] and first[-1][2] == second[0][2]
    # A static member's close() sent no LeaveGroup: no generation was stored without it
    # between the two member ids.
    between = [g for g in history if first[-1][0] <= g.generation <= second[0][0]]
    assert all(g.member("orders-worker") for g in between)


def test_settings_for_another_group_are_caught(bootstrap, namespace):
    def static_member_settings(bootstrap, group, name):
        return {
            "bootstrap_servers": bootstrap,
            "group_id": group + "-mine",
            "group_instance_id": name,
            "session_timeout_ms": 10_000,
            "heartbeat_interval_ms": 1_000,
        }

    result = run_check(bootstrap, namespace, "restart-without-rebalance", static_member_settings)
    assert result.summary == "your member never joined the check's group", str(result)


# ----- slow-handler-kept --------------------------------------------------------------------


def test_a_worker_kicked_out_for_polling_late_shows_on_the_broker(bootstrap, verdicts):
    name = "max_poll_records left at its default of 500: only the interval is set"
    judged = verdicts.wrong(LESSON, "slow-handler-kept", name)
    assert judged.result.summary.startswith("the worker was removed"), str(judged.result)
    attempt = _latest_attempt(bootstrap, judged.namespace, "slow-handler-kept")
    history = kafka_io.group_history(bootstrap, attempt.group())
    # Removed (a generation stored without it), then back in a later generation.
    worker = [g.generation for g in history if g.member("slow-worker")]
    assert len(set(worker)) >= 2
    assert any(not g.members and worker[0] < g.generation < worker[-1] for g in history)


def test_the_reference_worker_stays_in_one_generation_within_the_limit(bootstrap, verdicts):
    judged = verdicts.reference(LESSON, "slow-handler-kept")
    assert judged.result.passed, str(judged.result)
    attempt = _latest_attempt(bootstrap, judged.namespace, "slow-handler-kept")
    stored = [g.member("slow-worker") for g in kafka_io.group_history(bootstrap, attempt.group())]
    worker = [m for m in stored if m is not None]
    assert len({m.member_id for m in worker}) == 1
    assert all(m.rebalance_timeout_ms == 1500 for m in worker)


# ----- forged claims ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "exercise, claim",
    [
        (
            "rebalance-safe-consumer",
            {"returned": None, "evidence": {"steps": list(STEPS)}},
        ),
        (
            "predict-assignment",
            {"returned": {"range": {}, "roundrobin": {}}, "evidence": {"formed": {}}},
        ),
        (
            "restart-without-rebalance",
            {"returned": [{}, {}], "evidence": {"restarted": True, "since": 0}},
        ),
        (
            "slow-handler-kept",
            {"returned": {"max_poll_records": 3}, "evidence": {"since": 0}},
        ),
    ],
)
def test_a_claim_without_the_broker_state_behind_it_earns_nothing(
    bootstrap, namespace, exercise, claim
):
    ensure_claims_topic(bootstrap, namespace)
    kafka_io.append_json(
        bootstrap,
        namespace.claims_topic,
        exercise,
        {"attempt": "forged", "error": None, "error_type": None, "timed_out": False, **claim},
    )
    assert not rejudge(bootstrap, namespace, exercise).passed
