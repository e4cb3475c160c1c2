"""What lesson 08 tells learners about lag, shown happening on the real broker."""

from __future__ import annotations

import time

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from autograder.cli.group_admin import GroupActive, GroupAdmin, ResetTarget, UnknownGroup
from autograder.demos import lesson08 as demos
from autograder.grading import kafka_io

LESSON = "08"  # for the `namespace` fixture (tests/conftest.py)


DEFAULT_PARTITIONS = 2  # for the `topic` fixture (tests/conftest.py)


def _rows(bootstrap, group):
    with GroupAdmin(bootstrap) as groups:
        view = groups.describe(group)
    return {(row.partition): (row.committed, row.end, row.lag) for row in view.partitions}


def test_lag_is_the_end_offset_minus_the_committed_offset(bootstrap, topic, namespace):
    readings, group = topic("readings"), namespace.group("reporting")
    assert demos.fill(bootstrap, readings, {0: 10, 1: 6}) == {0: 10, 1: 6}
    assert demos.read_and_commit(bootstrap, readings, group, {0: 7}) == {0: 7}
    assert _rows(bootstrap, group) == {0: (7, 10, 3), 1: (None, 6, None)}
    # The grader's own, independent reading of the broker agrees.
    assert kafka_io.committed_offsets(bootstrap, group) == {(readings, 0): 7}


def test_a_group_that_read_everything_has_lag_zero_not_minus_one(bootstrap, topic, namespace):
    readings, group = topic("all-read"), namespace.group("done")
    demos.fill(bootstrap, readings, {0: 5, 1: 3})
    assert demos.read_and_commit(bootstrap, readings, group, {0: 5, 1: 3}) == {0: 5, 1: 3}
    assert _rows(bootstrap, group) == {0: (5, 5, 0), 1: (3, 3, 0)}


def test_list_group_offsets_returns_only_the_partitions_the_group_committed(
    bootstrap, topic, namespace
):
    readings, group = topic("partial"), namespace.group("partial")
    demos.fill(bootstrap, readings, {0: 4, 1: 4})
    demos.read_and_commit(bootstrap, readings, group, {0: 2})
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        committed = admin.list_group_offsets(group)[group]
    finally:
        admin.close()
    assert {tp.partition: meta.offset for tp, meta in committed.items()} == {0: 2}


def test_reading_without_committing_leaves_the_lag_unchanged(bootstrap, topic, namespace):
    readings, group = topic("uncommitted"), namespace.group("reader")
    demos.fill(bootstrap, readings, {0: 10, 1: 6})
    demos.read_and_commit(bootstrap, readings, group, {0: 7})
    seen = demos.read_without_commit(bootstrap, readings, group, partition=1)
    metric = "records-lag-max (the consumer's metric)"
    assert seen == {"records read": 6, "position": 6, "committed": None, metric: 0.0}
    ahead = demos.read_without_commit(bootstrap, readings, group, partition=0)
    assert ahead == {"records read": 3, "position": 10, "committed": 7, metric: 0.0}
    assert _rows(bootstrap, group) == {0: (7, 10, 3), 1: (None, 6, None)}


def test_an_uncommitted_group_starts_at_the_end_under_kafka_pythons_default(
    bootstrap, topic, namespace
):
    readings, group = topic("fresh"), namespace.group("fresh")
    demos.fill(bootstrap, readings, {0: 2, 1: 6})
    assert KafkaConsumer.DEFAULT_CONFIG["auto_offset_reset"] == "latest"
    found = demos.starting_positions(bootstrap, readings, group, partition=1)
    assert found == {"default (latest)": 6, "earliest": 0}
    assert kafka_io.committed_offsets(bootstrap, group) == {}  # asking committed nothing


def test_closing_an_auto_commit_consumer_commits_its_positions(bootstrap, topic, namespace):
    readings, group = topic("auto-commit"), namespace.group("auto")
    demos.fill(bootstrap, readings, {0: 5, 1: 3})
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group)  # defaults
    partitions = [TopicPartition(readings, 0), TopicPartition(readings, 1)]
    consumer.assign(partitions)
    assert [consumer.position(tp) for tp in partitions] == [5, 3]
    consumer.close()
    assert kafka_io.committed_offsets(bootstrap, group) == {(readings, 0): 5, (readings, 1): 3}


def test_looking_at_lag_never_joins_or_moves_the_group(bootstrap, topic, namespace):
    readings, group = topic("look"), namespace.group("look")
    demos.fill(bootstrap, readings, {0: 3, 1: 3})
    demos.read_and_commit(bootstrap, readings, group, {0: 1, 1: 2})
    with GroupAdmin(bootstrap) as groups:
        views = [groups.describe(group) for _ in range(3)]
    assert all(view.members == () and view.state == "Empty" for view in views)
    assert kafka_io.committed_offsets(bootstrap, group) == {(readings, 0): 1, (readings, 1): 2}


def test_a_slow_consumer_falls_behind_and_a_second_one_in_its_group_catches_up(
    bootstrap, topic, namespace
):
    result = demos.lag_race(bootstrap, topic("clicks"), namespace.group("dashboard"))
    assert result.caught_up_at is not None, result.outcome  # the condition, not a time
    assert result.final <= 70 * 0.25
    assert result.second_started_at is not None and result.both_members_at is not None
    alone = result.lag_at(result.second_started_at)
    assert alone >= result.lag_at(1.0) + 30, "alone, the slow consumer should fall behind"
    assert result.final <= alone / 2, "two consumers should bring the lag down"
    after = [s for s in result.samples if s.t >= result.both_members_at]
    assert any(s.spread == (1, 1) for s in after), "each consumer reads one partition"
    assert result.members_after == 0 and result.threads_alive_after == 0


def test_a_group_keeps_at_most_one_consumer_per_partition_busy(bootstrap, topic, namespace):
    clicks, group = topic("crowded"), namespace.group("crowd")
    assigned = demos.crowd(bootstrap, clicks, group, 3)
    assert sorted(len(partitions) for partitions in assigned.values()) == [0, 1, 1]
    assert sorted(p for partitions in assigned.values() for p in partitions) == [0, 1]
    with GroupAdmin(bootstrap) as groups:
        assert groups.describe(group).members == ()  # all three closed and left


def test_partitions_can_be_added_but_never_removed(bootstrap, topic, namespace):
    readings, group = topic("grow"), namespace.group("grow")
    demos.fill(bootstrap, readings, {0: 3, 1: 3})
    demos.read_and_commit(bootstrap, readings, group, {0: 3, 1: 3})
    assert demos.grow_partitions(bootstrap, readings, 4) == 4
    assert demos.try_shrink(bootstrap, readings, 2) == "InvalidPartitionsError"
    assert _rows(bootstrap, group) == {
        0: (3, 3, 0),
        1: (3, 3, 0),
        2: (None, 0, None),
        3: (None, 0, None),
    }


def test_adding_partitions_sends_some_keys_to_another_partition(bootstrap, topic):
    keyed = topic("keyed")
    keys = [b"customer-%d" % n for n in range(12)]

    def partitions_of_keys():
        producer = KafkaProducer(bootstrap_servers=bootstrap)
        try:
            return [producer.send(keyed, key=k, value=b"x").get(timeout=10).partition for k in keys]
        finally:
            producer.close()

    before = partitions_of_keys()
    demos.grow_partitions(bootstrap, keyed, 4)
    after = partitions_of_keys()
    assert any(b != a for b, a in zip(before, after, strict=True))
    assert set(after) - {0, 1}, "some keys now land in the new partitions"


def test_max_poll_records_caps_how_many_records_one_poll_returns(bootstrap, topic):
    readings = topic("batches")
    demos.fill(bootstrap, readings, {0: 10, 1: 6})
    sizes = demos.poll_sizes(bootstrap, readings, max_poll_records=4)
    assert sum(sizes) == 16 and max(sizes) <= 4
    assert KafkaConsumer.DEFAULT_CONFIG["max_poll_records"] == 500


def test_a_member_that_polls_too_rarely_is_dropped_from_its_group(bootstrap, topic, namespace):
    clicks, group = topic("too-slow"), namespace.group("too-slow")
    consumer = KafkaConsumer(
        clicks,
        bootstrap_servers=bootstrap,
        group_id=group,
        max_poll_interval_ms=1500,
        session_timeout_ms=6000,
        heartbeat_interval_ms=300,
        enable_auto_commit=False,
    )
    try:
        stop_at = time.monotonic() + 15
        while not consumer.assignment() and time.monotonic() < stop_at:
            consumer.poll(timeout_ms=100)
        with GroupAdmin(bootstrap) as groups:
            assert len(groups.describe(group).members) == 1
            time.sleep(3)  # no poll() for twice max_poll_interval_ms; heartbeats go on
            assert groups.describe(group).members == ()
    finally:
        consumer.close(autocommit=False)


def test_the_broker_refuses_to_move_offsets_of_a_group_with_live_members(
    bootstrap, topic, namespace
):
    readings, group = topic("busy"), namespace.group("busy")
    demos.fill(bootstrap, readings, {0: 4, 1: 4})
    demos.read_and_commit(bootstrap, readings, group, {0: 1, 1: 1})
    with demos.member_of(bootstrap, readings, group):
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        try:
            answers = admin.alter_group_offsets(
                group, {TopicPartition(readings, 0): OffsetAndMetadata(4, "", -1)}
            )
        finally:
            admin.close()
        assert {e.__name__ for e in answers.values()} == {"UnknownMemberIdError"}
        with GroupAdmin(bootstrap) as groups, pytest.raises(GroupActive, match="stop its"):
            groups.reset(group, ResetTarget("latest"))
    # Once the member has closed, the same reset goes through.
    with GroupAdmin(bootstrap) as groups:
        groups.reset(group, ResetTarget("latest"))
    assert kafka_io.committed_offsets(bootstrap, group) == {(readings, 0): 4, (readings, 1): 4}


def test_a_group_is_unknown_until_a_consumer_joins_or_commits(bootstrap, namespace):
    with GroupAdmin(bootstrap) as groups, pytest.raises(UnknownGroup):
        groups.describe(namespace.group("nobody"))


def test_a_transactions_marker_takes_an_offset_so_lag_counts_offsets_not_records(
    bootstrap, namespace
):
    name = namespace.topic("transactional")
    kafka_io.create_topic(bootstrap, name, 1)
    assert demos.offsets_for_transactional_records(bootstrap, name) == {
        "records written": 3,
        "records read": 3,
        "end offset": 4,
    }


@pytest.mark.parametrize(("reset", "read"), [("latest", 5), ("earliest", 10)])
def test_records_in_a_new_partition_before_the_group_notices_it_are_skipped_under_latest(
    bootstrap, topic, namespace, reset, read
):
    result = demos.skipped_in_new_partitions(
        bootstrap, topic(f"growing-{reset}"), namespace.group(f"growing-{reset}"), reset
    )
    assert result == {
        "auto_offset_reset": reset,
        "written to partition 2 before the member noticed it": 5,
        "written after": 5,
        "read from partition 2": read,
    }
