"""Lesson 11's pitfalls clinic, pitfalls 2, 4 and 5 (commit-on-revoke, batch-fits-interval,
lag-alert) on the real broker, beyond what every exercise must do
(tests/lessons/test_every_exercise.py): each wrong answer gets the hint for its own mistake, and
what each check injects really happened on the broker: a member of the check's took a partition
over, the loader as given was removed from its group, the live group had its member and lag."""

from __future__ import annotations

from collections import Counter

import pytest

from autograder.grading import kafka_io
from autograder.grading.exercises.base import Attempt
from autograder.grading.exercises.clinic import batch_fits_interval, commit_on_revoke, lag_alert
from autograder.grading.namespace import Namespace
from autograder.grading.verdict import run_check
from tests.learner_code import for_lesson

LESSON = "11"
_, solution, wrong_answers = for_lesson(LESSON)
MINE = ("commit-on-revoke", "batch-fits-interval", "lag-alert")

# What each wrong answer's hint must talk about: the mistake it made, not a generic one.
HINT_FOR = {
    (
        "commit-on-revoke",
        "the program as given: a commit every 50 records is enough, as if partitions never moved",
    ): "on_partitions_revoked",
    (
        "commit-on-revoke",
        "commits in on_partitions_assigned, once the partitions taken away are gone already",
    ): "on_partitions_assigned only after",
    (
        "commit-on-revoke",
        "a blocking commit() in a plain ConsumerRebalanceListener, as a Java consumer would do it",
    ): "AsyncConsumerRebalanceListener",
    (
        "batch-fits-interval",
        "the program as given: max_poll_records=500, as if a bigger batch were only a faster load",
    ): "160 records at 25 ms each",
    (
        "batch-fits-interval",
        "CommitFailedError caught and ignored, as if the next commit would make up for it",
    ): "lower max_poll_records",
    (
        "batch-fits-interval",
        "max_poll_interval_ms raised to fit the batch, instead of a batch that fits the interval",
    ): "Pass max_poll_interval_ms on as given",
    (
        "batch-fits-interval",
        "a batch sized to just fit the interval, with no margin for a slower sink",
    ): "half of max_poll_interval_ms",
    (
        "lag-alert",
        "the program as given: a group whose members are all there is keeping up",
    ): "members or none",
    (
        "lag-alert",
        "only the partitions the group committed on count, as if list_group_offsets listed "
        "them all",
    ): "never committed on",
}


def _attempt(bootstrap: str, namespace: Namespace, exercise: str) -> tuple[Attempt, dict]:
    """The latest attempt of ``exercise`` in ``namespace``, and its evidence."""
    claims = [
        r.value_json()
        for r in kafka_io.read_all(bootstrap, namespace.claims_topic)
        if r.key_text == exercise
    ]
    return Attempt(bootstrap, namespace, exercise, claims[-1]["attempt"]), claims[-1]["evidence"]


def test_every_wrong_answer_in_the_manifest_has_its_own_hint_here():
    found = {(exercise, name) for exercise, name, _ in wrong_answers() if exercise in MINE}
    assert found == set(HINT_FOR)


@pytest.mark.parametrize("exercise, name", sorted(HINT_FOR), ids=lambda v: v[:40])
def test_plausible_wrong_answer_fails_with_the_hint_for_its_mistake(verdicts, exercise, name):
    result = verdicts.wrong(LESSON, exercise, name).result
    assert not result.passed, str(result)
    assert HINT_FOR[(exercise, name)] in result.hint, str(result)


# ----- commit-on-revoke ---------------------------------------------------------------------


def test_the_checks_member_really_took_a_partition_over_from_the_reference(bootstrap, verdicts):
    judged = verdicts.reference(LESSON, "commit-on-revoke")
    assert judged.result.passed, str(judged.result)
    attempt, evidence = _attempt(bootstrap, judged.namespace, "commit-on-revoke")
    assert evidence["steps"] == list(commit_on_revoke.STEPS)
    history = kafka_io.group_history(bootstrap, attempt.group(), evidence["since"])
    # First the learner's consumer alone with both partitions, then the two side by side.
    names = commit_on_revoke.MEMBER_NAMES
    alone = [g for g in history if len(g.members) == 1 and g.members[0].client_id not in names]
    shared = [g for g in history if len(g.members) == 2 and all(m.assignment for m in g.members)]
    assert alone and shared and alone[0].offset < shared[0].offset
    assert sum(len(ps) for ps in alone[0].members[0].assignment.values()) == 2
    # The member took over a partition the learner's consumer had already processed records of.
    [taken] = [
        p
        for m in shared[0].members
        if m.client_id in names
        for ps in m.assignment.values()
        for p in ps
    ]
    calls = commit_on_revoke._audit(attempt)
    first_member_call = next(i for i, (who, _, _) in enumerate(calls) if who != "your consumer")
    assert any(p == taken for _, p, _ in calls[:first_member_call])


def test_the_program_as_given_redoes_the_moved_partitions_work_on_the_broker(bootstrap, verdicts):
    name = "the program as given: a commit every 50 records is enough, as if partitions never moved"
    judged = verdicts.wrong(LESSON, "commit-on-revoke", name)
    attempt, _ = _attempt(bootstrap, judged.namespace, "commit-on-revoke")
    calls = commit_on_revoke._audit(attempt)
    twice = [key for key, n in Counter((p, o) for _, p, o in calls).items() if n > 1]
    assert twice, str(judged.result)
    # Every duplicate was processed once by each: the program, then the member that took over.
    for p, o in twice:
        assert sorted(w for w, cp, co in calls if (cp, co) == (p, o)) == [
            commit_on_revoke.MEMBER,
            "your consumer",
        ]


def test_a_consumer_that_reads_from_the_latest_offset_never_meets_the_takeover(
    bootstrap, namespace
):
    def consume_shared(bootstrap, topic, group, process, stop):
        from kafka import KafkaConsumer

        consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group)
        try:
            while not stop.wait(0.2):
                for records in consumer.poll(timeout_ms=200).values():
                    for record in records:
                        process(record)
        finally:
            consumer.close()

    result = run_check(bootstrap, namespace, "commit-on-revoke", consume_shared)
    assert result.summary.startswith("the check's member never took a partition over"), str(result)
    assert "auto_offset_reset='earliest'" in result.hint


# ----- batch-fits-interval ------------------------------------------------------------------


def test_the_loader_as_given_was_removed_from_its_group_on_the_broker(bootstrap, verdicts):
    name = (
        "the program as given: max_poll_records=500, as if a bigger batch were only a faster load"
    )
    judged = verdicts.wrong(LESSON, "batch-fits-interval", name)
    assert judged.result.summary.startswith("your loader was removed"), str(judged.result)
    attempt, evidence = _attempt(bootstrap, judged.namespace, "batch-fits-interval")
    history = kafka_io.group_history(bootstrap, attempt.group(), evidence["since"])
    joined = next(i for i, g in enumerate(history) if g.members)
    # The member told the broker the interval it was given, then the group was left empty
    # (kafka-python's heartbeat thread sent LeaveGroup), and nothing was ever committed.
    assert history[joined].members[0].rebalance_timeout_ms == batch_fits_interval.INTERVAL_MS
    assert any(not g.members for g in history[joined:])
    assert kafka_io.committed_offsets(bootstrap, attempt.group()) == {}
    # The whole topic came in one batch: 160 records at 25 ms, twice the interval.
    writes = batch_fits_interval._writes(attempt)
    assert batch_fits_interval._largest_batch(writes) == batch_fits_interval.RECORDS


def test_the_reference_loader_stays_in_one_generation_with_small_batches(bootstrap, verdicts):
    judged = verdicts.reference(LESSON, "batch-fits-interval")
    assert judged.result.passed, str(judged.result)
    attempt, evidence = _attempt(bootstrap, judged.namespace, "batch-fits-interval")
    history = kafka_io.group_history(
        bootstrap, attempt.group(), evidence["since"], evidence["until"]
    )
    members = {m.member_id for g in history for m in g.members}
    assert len(members) == 1 and all(g.members for g in history if g.generation > 0)
    largest = batch_fits_interval._largest_batch(batch_fits_interval._writes(attempt))
    assert largest * batch_fits_interval.RECORD_COST_MS <= batch_fits_interval.INTERVAL_MS / 2


# ----- lag-alert ----------------------------------------------------------------------------


def test_the_live_group_had_its_member_and_every_case_its_lag_on_the_broker(bootstrap, verdicts):
    judged = verdicts.reference(LESSON, "lag-alert")
    assert judged.result.passed, str(judged.result)
    attempt, evidence = _attempt(bootstrap, judged.namespace, "lag-alert")
    history = kafka_io.group_history(
        bootstrap, attempt.group(lag_alert.LIVE), evidence["since"], evidence["until"]
    )
    assert lag_alert._holding(history) and history[-1].member(lag_alert.LIVE_MEMBER)
    lags = lag_alert._lags(attempt)
    assert lags["billing"] == 0
    assert 0 < lags["audit"] <= lag_alert.MAX_LAG
    assert lags["search"] > lag_alert.MAX_LAG and lags["mailer"] > lag_alert.MAX_LAG
    # search is over the threshold in total only; mailer only through its uncommitted partition.
    ledger = attempt.topic("ledger")
    ends = kafka_io.end_offsets(bootstrap, ledger)
    mailer = kafka_io.committed_offsets(bootstrap, attempt.group("mailer"))
    assert (
        len(mailer) == 2 and sum(ends[p] - o for (_, p), o in mailer.items()) <= lag_alert.MAX_LAG
    )
    searches = kafka_io.end_offsets(bootstrap, attempt.topic("searches"))
    search = kafka_io.committed_offsets(bootstrap, attempt.group("search"))
    assert all(searches[p] - o <= lag_alert.MAX_LAG for (_, p), o in search.items())


def test_a_consumer_in_the_group_that_commits_on_close_is_caught(bootstrap, namespace):
    def lag_alerts(bootstrap, groups, max_lag):
        from kafka import KafkaAdminClient, KafkaConsumer

        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        try:
            committed = admin.list_group_offsets({groups[0]: None})[groups[0]]
        finally:
            admin.close()
        # The caught-up group, which has no member: "its positions are its lag".
        consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=groups[0])
        try:
            consumer.assign(list(committed))
            consumer.seek_to_beginning(*committed)
            for tp in committed:
                consumer.position(tp)
        finally:
            consumer.close()  # enable_auto_commit is on: the positions, 0, are committed
        return {}

    result = run_check(bootstrap, namespace, "lag-alert", lag_alerts)
    assert result.summary == "your function changed a group's committed offsets", str(result)
