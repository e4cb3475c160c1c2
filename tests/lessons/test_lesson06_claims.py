"""What lesson 06 tells learners about offsets, commits and seeking, shown happening on the
broker."""

from __future__ import annotations

import signal
import threading
import time

import pytest
from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition
from kafka.errors import KafkaError

from autograder.demos import lesson06 as demos
from autograder.grading import kafka_io

LESSON = "06"  # for the `namespace` fixture (tests/conftest.py)
MINUTE = 60_000


@pytest.fixture
def topic(bootstrap, namespace):
    """make(name, records=0, ...): a fresh one-partition topic, filled with ``records`` records."""

    def make(name, records=0, start_ms=None, configs=None):
        full = namespace.topic(name)
        kafka_io.create_topic(bootstrap, full, 1, configs)
        if records:
            demos.fill(bootstrap, full, records, start_ms=start_ms)
        return full

    return make


@pytest.fixture
def group(namespace):
    return namespace.group


def _consumer(bootstrap, group_id=None, **settings):
    return KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group_id,
        enable_auto_commit=settings.pop("enable_auto_commit", False),
        request_timeout_ms=5000,
        **settings,
    )


# -- section 1: the committed offset ---------------------------------------------------------


def test_commit_without_offsets_stores_the_next_offset_to_read(bootstrap, topic, group):
    name = topic("bookmark", records=30)
    with _consumer(bootstrap, group("bookmark"), auto_offset_reset="earliest") as consumer:
        tp = TopicPartition(name, 0)
        consumer.assign([tp])
        read = consumer.poll(timeout_ms=5000, max_records=5)[tp]
        consumer.commit()
    assert [r.offset for r in read] == [0, 1, 2, 3, 4]
    assert demos.committed(bootstrap, group("bookmark")) == {0: 5}


def test_the_consumer_defaults_the_lesson_states():
    defaults = KafkaConsumer.DEFAULT_CONFIG
    assert defaults["enable_auto_commit"] is True
    assert defaults["auto_commit_interval_ms"] == 5000
    assert defaults["auto_offset_reset"] == "latest"


def test_a_partition_never_sought_starts_at_the_commit_else_at_auto_offset_reset(
    bootstrap, topic, group
):
    name = topic("start", records=12)
    tp = TopicPartition(name, 0)

    def start(group_id, **settings):
        with _consumer(bootstrap, group_id, **settings) as consumer:
            consumer.assign([tp])
            return consumer.position(tp)

    with _consumer(bootstrap, group("start-committed")) as consumer:
        consumer.assign([tp])
        consumer.commit({tp: OffsetAndMetadata(5, "", -1)})
    assert start(group("start-committed"), auto_offset_reset="earliest") == 5
    assert start(group("start-none")) == 12  # 'latest', the default
    assert start(group("start-none"), auto_offset_reset="earliest") == 0


# -- section 2: auto-commit and a crash ------------------------------------------------------


def test_auto_commit_runs_ahead_of_work_handed_to_a_thread_so_a_crash_loses_records(
    bootstrap, topic, group
):
    report = demos.crash_auto_commit(bootstrap, topic("thread", 0), group("thread"), hand_off=True)
    assert report.exitcode == -signal.SIGKILL
    assert report.committed == 30, "every polled record was committed"
    assert len(report.processed) < 20
    assert report.lost == list(range(len(report.processed), 30))


def test_auto_commit_inside_the_poll_loop_repeats_records_after_a_crash_but_loses_none(
    bootstrap, topic, group
):
    report = demos.crash_auto_commit(bootstrap, topic("loop", 0), group("loop"), hand_off=False)
    assert report.exitcode == -signal.SIGKILL
    assert report.committed is not None and report.committed % 5 == 0  # a batch boundary
    assert 0 < report.committed <= len(report.processed)
    assert report.lost == [] and report.repeated


def test_a_killed_consumer_leaves_no_member_in_its_group(bootstrap, topic, namespace):
    demos.crash_auto_commit(bootstrap, topic("stray", 0), namespace.group("stray"), hand_off=True)
    assert demos.group_states(bootstrap, namespace.group("stray")) == {
        namespace.group("stray"): "Empty"
    }


def test_auto_commit_happens_inside_poll_not_on_a_timer(bootstrap, topic, group):
    name = topic("no-timer", records=20)
    with KafkaConsumer(
        name,
        bootstrap_servers=bootstrap,
        group_id=group("no-timer"),
        enable_auto_commit=True,
        auto_commit_interval_ms=100,
        auto_offset_reset="earliest",
        max_poll_records=5,
    ) as consumer:
        deadline = time.monotonic() + 10  # a subscribed member, heartbeat thread and all
        while not consumer.poll(timeout_ms=200) and time.monotonic() < deadline:
            pass
        time.sleep(1.0)  # ten intervals without a poll()
        before_poll = demos.committed(bootstrap, group("no-timer"))
        consumer.poll(timeout_ms=0)
        time.sleep(0.5)
        after_poll = demos.committed(bootstrap, group("no-timer"))
    assert before_poll == {}
    assert after_poll == {0: 5}


def _until(condition, seconds=10.0):
    stop_at = time.monotonic() + seconds
    while not condition() and time.monotonic() < stop_at:
        time.sleep(0.1)
    return condition()


@pytest.mark.parametrize("call", ["assign", "unsubscribe"])
def test_assign_and_unsubscribe_commit_the_positions_whatever_the_interval(
    bootstrap, topic, group, call
):
    name = topic(f"commit-on-{call}", records=10)
    tp = TopicPartition(name, 0)
    with _consumer(
        bootstrap,
        group(call),
        enable_auto_commit=True,
        auto_commit_interval_ms=600_000,
        auto_offset_reset="earliest",
    ) as consumer:
        consumer.assign([tp])
        assert len(consumer.poll(timeout_ms=5000, max_records=5)[tp]) == 5
        assert demos.committed(bootstrap, group(call)) == {}
        if call == "assign":
            consumer.assign([TopicPartition(name, 0)])
        else:
            consumer.unsubscribe()
        assert _until(lambda: demos.committed(bootstrap, group(call)) == {0: 5})


def test_a_member_commits_its_positions_before_a_rebalance_whatever_the_interval(
    bootstrap, topic, group
):
    name = topic("pre-rebalance", records=10)
    settings = {
        "group_id": group("pre-rebalance"),
        "enable_auto_commit": True,
        "auto_commit_interval_ms": 600_000,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": 6000,
        "heartbeat_interval_ms": 500,
    }
    first = _consumer(bootstrap, max_poll_records=5, **settings)
    second = _consumer(bootstrap, **settings)
    try:
        first.subscribe([name])
        deadline = time.monotonic() + 15
        while not first.poll(timeout_ms=200) and time.monotonic() < deadline:
            pass
        assert demos.committed(bootstrap, group("pre-rebalance")) == {}
        first.pause(*first.assignment())  # its position stays at 5 while it keeps polling
        second.subscribe([name])  # its join makes the group rebalance
        while (
            demos.committed(bootstrap, group("pre-rebalance")) != {0: 5}
            and time.monotonic() < deadline
        ):
            first.poll(timeout_ms=100)  # rejoins, and commits 5 before it does
            second.poll(timeout_ms=100)
        assert demos.committed(bootstrap, group("pre-rebalance")) == {0: 5}
    finally:
        first.close(autocommit=False)
        second.close(autocommit=False)


def test_close_commits_auto_commit_positions_unless_a_with_block_ends_by_an_exception(
    bootstrap, topic, group
):
    name = topic("close", records=10)
    assert demos.with_block_commit(bootstrap, name, group("clean"), fails=False) == 5
    assert demos.with_block_commit(bootstrap, name, group("raised"), fails=True) is None


# -- section 3: manual commits ---------------------------------------------------------------


def test_an_async_commit_reaches_the_broker_at_once_and_calls_back_in_the_next_poll(
    bootstrap, topic, group
):
    seen = demos.async_commit_callback_timing(bootstrap, topic("async", records=10), group("async"))
    assert seen == {
        "commit_async returned": "Future",
        "future done": True,
        "broker has": 3,
        "callback calls before the next poll": 0,
        "callback calls after the next poll": 1,
        "callback saw": {0: 3},
    }


def test_commit_callbacks_run_inside_the_next_commit_too_on_the_callers_thread(
    bootstrap, topic, group
):
    name = topic("callback-thread", records=10)
    tp = TopicPartition(name, 0)
    calls = []
    with _consumer(bootstrap, group("callback-thread")) as consumer:
        consumer.assign([tp])
        consumer.commit_async(
            {tp: OffsetAndMetadata(4, "", -1)},
            callback=lambda offsets, response: calls.append(threading.current_thread()),
        )
        time.sleep(0.5)
        assert calls == []
        consumer.commit({tp: OffsetAndMetadata(5, "", -1)})
    assert calls == [threading.main_thread()]


def test_a_failed_async_commit_raises_nothing_and_reaches_only_the_callback(bootstrap, group):
    missing = TopicPartition("kc-no-such-topic-for-commits", 0)
    outcomes = []
    with _consumer(bootstrap, group("async-fails")) as consumer:
        started = time.monotonic()
        consumer.commit_async(
            {missing: OffsetAndMetadata(1, "", -1)},
            callback=lambda offsets, response: outcomes.append(response),
        )
        returned_after = time.monotonic() - started
        deadline = time.monotonic() + 5
        while not outcomes and time.monotonic() < deadline:
            consumer.poll(timeout_ms=100)
    assert returned_after < 0.5
    assert [type(o).__name__ for o in outcomes] == ["UnknownTopicOrPartitionError"]


def test_a_sync_commit_that_cannot_be_made_raises(bootstrap, group):
    missing = TopicPartition("kc-no-such-topic-for-commits", 0)
    with _consumer(bootstrap, group("sync-fails")) as consumer, pytest.raises(KafkaError):
        consumer.commit({missing: OffsetAndMetadata(1, "", -1)}, timeout_ms=1000)


def test_a_commit_stores_its_metadata_text_with_the_offset(bootstrap, topic, group):
    name = topic("metadata", records=5)
    tp = TopicPartition(name, 0)
    with _consumer(bootstrap, group("metadata")) as consumer:
        consumer.assign([tp])
        consumer.commit({tp: OffsetAndMetadata(3, "batch 7 done", -1)})
        stored = consumer.committed(tp, metadata=True)
    assert (stored.offset, stored.metadata) == (3, "batch 7 done")


def test_offset_and_metadata_carries_offset_metadata_and_leader_epoch():
    assert OffsetAndMetadata._fields == ("offset", "metadata", "leader_epoch")
    assert OffsetAndMetadata(42, "", -1) == (42, "", -1)


def test_pending_callbacks_run_at_the_next_commit_async_and_never_at_close(bootstrap, topic, group):
    seen = demos.pending_callbacks(bootstrap, topic("pending", records=5), group("pending"))
    assert seen == {
        "once the first commit is answered": [],
        "after the second commit_async()": ["first"],
        "after close()": ["first"],
    }


def test_a_record_carries_its_leader_epoch_and_a_commit_stores_it(bootstrap, topic, group):
    name = topic("epoch", records=5)
    tp = TopicPartition(name, 0)
    with _consumer(bootstrap, group("epoch"), auto_offset_reset="earliest") as consumer:
        consumer.assign([tp])
        record = consumer.poll(timeout_ms=5000, max_records=5)[tp][-1]
        consumer.commit({tp: OffsetAndMetadata(record.offset + 1, "", record.leader_epoch)})
        stored = consumer.committed(tp, metadata=True)
    assert record.leader_epoch == 0  # a fresh single-broker topic: its first leader
    assert (stored.offset, stored.leader_epoch) == (5, 0)


def test_an_assigned_consumers_commit_is_refused_while_the_group_has_a_member(
    bootstrap, topic, group
):
    outcomes = demos.assigned_commits_while_a_member_is_in(
        bootstrap, topic("outsider", records=5), group("outsider")
    )
    assert outcomes == {
        "group empty": "stored (1)",
        "a subscribed member in the group": "refused: UnknownMemberIdError",
        "member closed, group empty again": "stored (3)",
    }


def test_committing_positions_after_a_failure_skips_the_records_left_unprocessed(
    bootstrap, topic, group
):
    seen = demos.process_until_failure(
        bootstrap,
        topic("fail-pos", records=30),
        group("fail-pos"),
        fail_at=7,
        commit_processed=False,
    )
    assert seen["processed"] == "offsets 0-6"
    assert seen["committed"] == 10 and seen["first record after restart"] == 10


def test_committing_processed_offsets_resumes_at_the_record_that_failed(bootstrap, topic, group):
    seen = demos.process_until_failure(
        bootstrap,
        topic("fail-done", records=30),
        group("fail-done"),
        fail_at=7,
        commit_processed=True,
    )
    assert seen["committed"] == 7 and seen["first record after restart"] == 7


def test_committing_the_last_offset_read_hands_that_record_out_again(bootstrap, topic, group):
    seen = demos.commit_then_restart(
        bootstrap, topic("last", records=10), group("last"), commit_next=False
    )
    assert seen == {"processed": [0, 1, 2, 3, 4], "committed": 4, "first record after restart": 4}


def test_committing_the_last_offset_plus_one_resumes_after_it(bootstrap, topic, group):
    seen = demos.commit_then_restart(
        bootstrap, topic("next", records=10), group("next"), commit_next=True
    )
    assert seen["committed"] == 5 and seen["first record after restart"] == 5


# -- section 4: seeking ----------------------------------------------------------------------


def test_seeks_move_the_position_to_the_end_the_beginning_and_any_offset(bootstrap, topic):
    name = topic("seeks", records=12)
    assert demos.positions_after_seeks(bootstrap, name) == {
        "seek_to_end": 12,
        "seek_to_beginning": 0,
        "seek(tp, 7)": 7,
    }


def test_seek_to_end_is_looked_up_when_the_position_is_asked_for(bootstrap, topic):
    name = topic("lazy", records=12)
    tp = TopicPartition(name, 0)
    with _consumer(bootstrap) as consumer:
        consumer.assign([tp])
        consumer.seek_to_end(tp)
        demos.fill(bootstrap, name, 3)  # the end moves after the seek
        assert consumer.position(tp) == 15


def test_seeking_leaves_the_committed_offset_alone(bootstrap, topic, group):
    name = topic("seek-commit", records=12)
    tp = TopicPartition(name, 0)
    with _consumer(bootstrap, group("seek-commit")) as consumer:
        consumer.assign([tp])
        consumer.commit({tp: OffsetAndMetadata(5, "", -1)})
        consumer.seek(tp, 0)
        consumer.seek_to_end(tp)
        assert consumer.position(tp) == 12
    assert demos.committed(bootstrap, group("seek-commit")) == {0: 5}


def test_offsets_for_times_gives_the_first_offset_at_or_after_the_moment_or_none(bootstrap, topic):
    name = topic(
        "times", records=12, start_ms=demos.READINGS_START_MS, configs={"retention.ms": "-1"}
    )
    tp = TopicPartition(name, 0)
    with _consumer(bootstrap) as consumer:

        def ask(ms):
            return consumer.offsets_for_times({tp: demos.READINGS_START_MS + ms})[tp]

        exact, between, too_late = ask(5 * MINUTE), ask(5 * MINUTE + 30_000), ask(60 * MINUTE)
    assert (exact.offset, exact.timestamp) == (5, demos.READINGS_START_MS + 5 * MINUTE)
    assert (between.offset, between.timestamp) == (6, demos.READINGS_START_MS + 6 * MINUTE)
    assert too_late is None


def test_explicit_timestamps_are_stored_as_given(bootstrap, topic):
    name = topic(
        "stamps", records=4, start_ms=demos.READINGS_START_MS, configs={"retention.ms": "-1"}
    )
    stamps = [r.timestamp for r in kafka_io.read_all(bootstrap, name)]
    assert stamps == [demos.READINGS_START_MS + n * MINUTE for n in range(4)]


def test_offsets_for_times_gives_the_first_offset_stamped_at_or_after_older_stamps_may_follow(
    bootstrap, topic
):
    name = topic("late-readings", configs={"retention.ms": "-1"})
    assert demos.out_of_order_lookup(bootstrap, name) == {
        "offsets_for_times(09:02)": 1,
        "stamps from there on": ["09:03", "09:01", "09:04", "09:02"],
    }


def test_partitions_for_topic_gives_the_partition_numbers(bootstrap, namespace):
    name = namespace.topic("three")
    kafka_io.create_topic(bootstrap, name, 3)
    with _consumer(bootstrap) as consumer:
        assert consumer.partitions_for_topic(name) == {0, 1, 2}
