"""What lesson 05 tells learners about consumers, shown happening on the real broker."""

from __future__ import annotations

import json
import logging
import time

import pytest
from kafka import KafkaConsumer, KafkaProducer

from autograder.demos import lesson05 as demos
from autograder.grading import kafka_io
from tests.learner_code import for_lesson

LESSON = "05"  # for the `namespace` fixture (tests/conftest.py)
define = for_lesson(LESSON).define

FAST = demos.FAST_HEARTBEAT


@pytest.fixture
def topic(bootstrap, namespace):
    def make(name, partitions=3, orders=0):
        full = namespace.topic(name)
        kafka_io.create_topic(bootstrap, full, partitions)
        if orders:
            assert demos.fill_orders(bootstrap, full, orders) == orders
        return full

    return make


def _read_all_as(bootstrap, topic, group, commit=False, **settings):
    """The notebook's poll loop: read to the end (deadline 10 s), commit if asked, close."""
    caught_up = define("", "caught_up")
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        **FAST,
        **settings,
    )
    records = []
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not caught_up(consumer):
            for batch in consumer.poll(timeout_ms=500).values():
                records += batch
        if commit:
            consumer.commit()
    finally:
        consumer.close()
    return records


def _committed(bootstrap, topic, group):
    return {
        p: kafka_io.committed_offsets(bootstrap, group).get((topic, p))
        for p in kafka_io.end_offsets(bootstrap, topic)
    }


def test_the_json_deserializer_gives_back_dicts_and_lets_a_tombstone_through(bootstrap, topic):
    name = topic("tombstone", partitions=1)
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    producer.send(name, key=b"alice", value=json.dumps({"amount": 42}).encode())
    producer.send(name, key=b"alice", value=None)
    producer.flush()
    producer.close()
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        key_deserializer=define("", "DefaultSerializer")(),
        value_deserializer=define("", "JsonDeserializer")(),
    )
    got = []
    try:
        consumer.subscribe([name])
        deadline = time.monotonic() + 10
        while len(got) < 2 and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                got += [(r.key, r.value) for r in batch]
    finally:
        consumer.close()
    assert got == [("alice", {"amount": 42}), ("alice", None)]


def test_a_first_poll_can_come_back_empty_while_records_wait(bootstrap, topic, namespace):
    name = topic("empty-first", orders=10)
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=namespace.group("empty"),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    try:
        consumer.subscribe([name])
        assert consumer.poll(timeout_ms=0) == {}
    finally:
        consumer.close()


def test_the_poll_loop_reads_everything_and_commit_puts_the_group_at_the_end(
    bootstrap, topic, namespace
):
    name = topic("loop", orders=30)
    group = namespace.group("loop")
    records = _read_all_as(bootstrap, name, group, enable_auto_commit=False, commit=True)
    assert len(records) == 30
    assert _committed(bootstrap, name, group) == kafka_io.end_offsets(bootstrap, name)
    assert demos.group_member_count(bootstrap, group) == 0


def test_reading_removes_nothing_a_second_group_reads_it_all_again(bootstrap, topic, namespace):
    name = topic("twice", orders=30)
    assert len(_read_all_as(bootstrap, name, namespace.group("one"))) == 30
    assert len(_read_all_as(bootstrap, name, namespace.group("two"))) == 30


def test_with_auto_commit_off_and_no_commit_the_group_stores_nothing(bootstrap, topic, namespace):
    name = topic("no-commit", orders=30)
    group = namespace.group("no-commit")
    assert len(_read_all_as(bootstrap, name, group, enable_auto_commit=False)) == 30
    assert kafka_io.committed_offsets(bootstrap, group) == {}


def test_with_auto_commit_on_close_commits_what_was_read(bootstrap, topic, namespace):
    name = topic("close-commits", orders=30)
    group = namespace.group("close-commits")
    # The next automatic commit a minute away: whatever is committed, close() committed it.
    assert len(_read_all_as(bootstrap, name, group, auto_commit_interval_ms=60000)) == 30
    assert _committed(bootstrap, name, group) == kafka_io.end_offsets(bootstrap, name)


def test_auto_commit_also_commits_from_inside_poll_while_open(bootstrap, topic, namespace):
    name = topic("background", orders=30)
    group = namespace.group("background")
    caught_up = define("", "caught_up")
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        auto_commit_interval_ms=300,
        **FAST,
    )
    try:
        consumer.subscribe([name])
        consumer.topics()  # metadata before the join: no second join for a commit to trip over
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not caught_up(consumer):
            consumer.poll(timeout_ms=200)
        while time.monotonic() < deadline and _committed(
            bootstrap, name, group
        ) != kafka_io.end_offsets(bootstrap, name):
            consumer.poll(timeout_ms=200)
        committed_while_open = _committed(bootstrap, name, group)
    finally:
        consumer.close(autocommit=False)
    assert committed_while_open == kafka_io.end_offsets(bootstrap, name)


def test_a_new_group_with_earliest_reads_what_was_there_and_what_comes(bootstrap, topic, namespace):
    name = topic("earliest", orders=30)
    assert demos.first_read_of_a_new_group(bootstrap, name, namespace.group("e"), "earliest") == {
        "auto_offset_reset": "earliest",
        "records already there": 30,
        "records sent after joining": 5,
    }


def test_a_new_group_with_latest_reads_only_what_arrives_after_it_joined(
    bootstrap, topic, namespace
):
    name = topic("latest", orders=30)
    assert demos.first_read_of_a_new_group(bootstrap, name, namespace.group("l"), "latest") == {
        "auto_offset_reset": "latest",
        "records already there": 0,
        "records sent after joining": 5,
    }


def test_latest_is_kafka_pythons_default_reset():
    assert KafkaConsumer.DEFAULT_CONFIG["auto_offset_reset"] == "latest"


def test_a_new_group_with_reset_none_raises_no_offset_for_partition(bootstrap, topic, namespace):
    name = topic("none", orders=30)
    assert demos.first_read_of_a_new_group(bootstrap, name, namespace.group("n"), "none") == {
        "auto_offset_reset": "none",
        "error": "NoOffsetForPartitionError",
    }


def test_a_committed_offset_wins_over_auto_offset_reset(bootstrap, topic, namespace):
    name = topic("restart", partitions=1, orders=30)
    result = demos.restart_after_commit(bootstrap, name, namespace.group("restart"), 10)
    assert result == {
        "first consumer read": 10,
        "second consumer (latest) read": 20,
        "records in the topic": 30,
    }


def test_a_poll_returns_at_most_max_poll_records(bootstrap, topic):
    name = topic("poll-cap", orders=40)
    sizes = demos.poll_sizes(bootstrap, name, 7)
    assert sum(sizes) == 40 and max(sizes) == 7 and len(sizes) >= 6


def test_two_members_share_three_partitions_each_partition_to_exactly_one(
    bootstrap, topic, namespace
):
    rows = demos.share_partitions(bootstrap, topic("pair"), namespace.group("pair"), members=2)
    held = [row["partitions"] for row in rows]
    assert sorted(p for partitions in held for p in partitions) == [0, 1, 2]
    assert sorted(len(partitions) for partitions in held) == [1, 2]
    assert all(row["broker says"] == row["partitions"] for row in rows)
    assert sum(row["records read"] for row in rows) == 30


def test_more_members_than_partitions_leaves_the_extra_member_idle(bootstrap, topic, namespace):
    rows = demos.share_partitions(bootstrap, topic("four"), namespace.group("four"), members=4)
    assert sorted(len(row["partitions"]) for row in rows) == [0, 1, 1, 1]
    assert all(row["broker says"] == row["partitions"] for row in rows)
    idle = [row for row in rows if not row["partitions"]]
    assert idle[0]["records read"] == 0
    assert sum(row["records read"] for row in rows) == 30


def test_an_open_consumer_stays_a_member_until_it_is_closed(bootstrap, topic, namespace):
    name, group = topic("open", orders=10), namespace.group("open")
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **FAST,
    )
    try:
        consumer.subscribe([name])
        consumer.topics()
        deadline = time.monotonic() + 10
        while not consumer.assignment() and time.monotonic() < deadline:
            consumer.poll(timeout_ms=200)
        time.sleep(1)  # idle, not polling: still a member while its heartbeats go on
        while_open = demos.describe_group(bootstrap, group)
    finally:
        consumer.close()
    assert while_open["state"] == "Stable"
    assert [m["partitions"] for m in while_open["members"]] == [[0, 1, 2]]
    assert demos.describe_group(bootstrap, group) == {"state": "Empty", "members": []}


def test_closed_members_leave_the_group_at_once(bootstrap, topic, namespace):
    group = namespace.group("leave")
    demos.share_partitions(bootstrap, topic("leave"), group, members=3)
    assert demos.describe_group(bootstrap, group) == {"state": "Empty", "members": []}


def test_an_assigned_consumer_reads_only_its_partition_and_joins_no_group(
    bootstrap, topic, namespace
):
    name = topic("assigned", orders=30)
    ends = kafka_io.end_offsets(bootstrap, name)
    result = demos.assigned_read(bootstrap, name, 1, namespace.group("assigned"))
    assert result == {"partitions read": [1], "records": ends[1], "members the broker lists": 0}


def test_a_consumer_without_group_id_warns_unless_auto_commit_is_off(bootstrap, caplog):
    kafka_logger = logging.getLogger("kafka")  # the course keeps it from propagating
    kafka_logger.addHandler(caplog.handler)
    try:
        for settings in ({}, {"enable_auto_commit": False}):
            KafkaConsumer(bootstrap_servers=bootstrap, **settings).close()
    finally:
        kafka_logger.removeHandler(caplog.handler)
    warnings = [r for r in caplog.records if "disabling auto-commit" in r.getMessage()]
    assert len(warnings) == 1


def test_a_committed_offset_past_the_end_falls_back_on_auto_offset_reset(
    bootstrap, topic, namespace
):
    name = topic("past-the-end", partitions=1, orders=30)
    assert demos.reset_past_the_end(bootstrap, name, namespace.group("past")) == {
        "committed offset": 1000,
        "end offset": 30,
        "first offset read (earliest)": 0,
    }


def test_kafka_python_turns_an_unknown_reset_value_into_none_with_only_a_warning(
    bootstrap, topic, namespace
):
    name = topic("by-duration", partitions=1, orders=5)
    result = demos.unknown_reset_value(bootstrap, name, namespace.group("dur"), "by_duration:PT1H")
    assert result == {
        "auto_offset_reset": "by_duration:PT1H",
        "kafka-python logged": ["Unrecognized offset_reset_strategy, using NONE"],
        "first read": "NoOffsetForPartitionError",
    }


def test_a_consumer_that_stops_polling_leaves_its_group_itself(bootstrap, topic, namespace):
    # Session timeout 6 s, heartbeats on: the broker would wait that long for a silent member.
    # Gone within 4 s means the consumer noticed its own overrun and sent LeaveGroup.
    name, group = topic("overrun", orders=3), namespace.group("overrun")
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        max_poll_interval_ms=1000,
        **FAST,
    )
    try:
        consumer.subscribe([name])
        consumer.topics()
        deadline = time.monotonic() + 15
        while not consumer.assignment() and time.monotonic() < deadline:
            consumer.poll(timeout_ms=200)
        assert demos.group_member_count(bootstrap, group) == 1
        stopped = time.monotonic()
        members = 1
        while members and time.monotonic() < stopped + 4:  # no poll() from here on
            time.sleep(0.2)
            members = demos.group_member_count(bootstrap, group)
    finally:
        consumer.close(autocommit=False)
    assert members == 0
