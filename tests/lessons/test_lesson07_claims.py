"""What lesson 07 tells learners about delivery semantics, shown happening on the real broker with
consumer processes that are really killed."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from functools import partial

import pytest
from kafka import KafkaAdminClient

from autograder.demos import lesson07 as demos
from autograder.grading import kafka_io
from autograder.grading.crash_runner import run_forked

LESSON = "07"  # for the `module_namespace` fixture (tests/conftest.py)


@pytest.fixture(scope="module")
def readings(bootstrap, module_namespace):
    name = module_namespace.topic("readings")
    kafka_io.create_topic(bootstrap, name, 3)
    demos.fill(bootstrap, name, 12)
    return name


@pytest.fixture(scope="module")
def audits(bootstrap, readings, module_namespace, tmp_path_factory):
    """The lesson's own demonstration: each strategy crashes after storing 2 records, restarts."""
    return demos.crash_and_restart(
        bootstrap,
        readings,
        module_namespace.group("crash"),
        crash_after=2,
        sink_dir=str(tmp_path_factory.mktemp("sinks")),
    )


def _members(bootstrap: str, group: str) -> list:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        return list(admin.describe_groups([group])[group].get("members") or [])
    finally:
        admin.close()


def test_committing_before_processing_loses_records_after_a_crash(audits):
    result = audits["commit before processing"]
    assert result["lost"] > 0 and result["duplicated"] == 0, result


def test_committing_after_processing_repeats_records_after_a_crash(audits):
    result = audits["commit after processing"]
    assert result["duplicated"] > 0 and result["lost"] == 0, result


def test_a_unique_key_turns_redelivery_into_exactly_one_row_per_record(audits):
    result = audits["commit after + unique key"]
    assert result == {"records": 12, "rows in sink": 12, "lost": 0, "duplicated": 0}


def test_the_crash_in_the_demo_is_a_real_sigkill(bootstrap, readings, module_namespace, tmp_path):
    run = run_forked(
        partial(
            demos.consume_into_sink,
            bootstrap,
            readings,
            module_namespace.group("kill"),
            str(tmp_path / "sink.db"),
            "after",
            False,
            2,
        ),
        time_limit_s=30,
    )
    assert run.crashed and run.exitcode == -9
    with closing(sqlite3.connect(tmp_path / "sink.db")) as sink:  # 2 stored, then killed
        assert sink.execute("SELECT count(*) FROM processed").fetchone() == (2,)


def test_a_crashed_assigned_consumer_leaves_no_member_for_the_group_to_wait_for(
    bootstrap, readings, module_namespace, tmp_path
):
    group = module_namespace.group("assigned")
    run = run_forked(
        partial(
            demos.consume_into_sink,
            bootstrap,
            readings,
            group,
            str(tmp_path / "sink.db"),
            "before",
            False,
            2,
        ),
        time_limit_s=30,
    )
    assert run.crashed
    assert kafka_io.committed_offsets(bootstrap, group), "its commit counted for the group"
    assert _members(bootstrap, group) == []


def test_insert_or_ignore_keeps_one_row_per_key_and_a_plain_insert_raises():
    sink = sqlite3.connect(":memory:")
    sink.execute(
        "CREATE TABLE processed (part INTEGER, offset INTEGER, value TEXT, UNIQUE (part, offset))"
    )
    for _ in range(2):
        sink.execute("INSERT OR IGNORE INTO processed VALUES (0, 7, 'reading 7')")
    assert sink.execute("SELECT count(*) FROM processed").fetchone() == (1,)
    with pytest.raises(sqlite3.IntegrityError):
        sink.execute("INSERT INTO processed VALUES (0, 7, 'reading 7')")
    sink.close()


def test_the_course_broker_hands_out_partitions_to_an_empty_groups_first_member_at_once(
    bootstrap,
):
    # A stock broker waits group.initial.rebalance.delay.ms = 3000 (KIP-134) here.
    assert demos.broker_settings(bootstrap, "group.initial.rebalance.delay.ms") == {
        "group.initial.rebalance.delay.ms": "0"
    }


def test_offsets_stored_in_the_sinks_own_transaction_survive_a_crash_exactly(
    bootstrap, readings, module_namespace, tmp_path
):
    audits = demos.offsets_in_the_sink(
        bootstrap, readings, module_namespace.group("in-sink"), sink_dir=str(tmp_path)
    )
    assert audits == {
        "offsets in the sink": {"records": 12, "rows in sink": 12, "lost": 0, "duplicated": 0}
    }
    with closing(sqlite3.connect(tmp_path / f"{module_namespace.group('in-sink')}.db")) as sink:
        assert sink.execute("SELECT sum(next) FROM next_offsets").fetchone() == (12,)


def test_a_closed_member_hands_over_at_once_a_crashed_one_after_the_session_timeout(
    bootstrap, readings, module_namespace
):
    closed = demos.takeover_seconds(bootstrap, readings, module_namespace.group("close"), "close")
    crashed = demos.takeover_seconds(
        bootstrap, readings, module_namespace.group("crash-member"), "crash"
    )
    # Session timeout 6 s, heartbeats every second: the coordinator gives up 5-6 s after the
    # kill, plus its own expiry check.
    assert closed < 2.5, closed
    assert 4.0 <= crashed <= 12.0, crashed
    assert crashed > closed + 3, (closed, crashed)
    # The dead member is gone and the successor closed: no stray member is left behind.
    assert _members(bootstrap, module_namespace.group("crash-member")) == []


def test_the_broker_refuses_a_session_timeout_below_its_minimum(
    bootstrap, readings, module_namespace
):
    # Kafka's default minimum is 6 s; the course's broker lowers it to 1 s (lesson 09).
    assert demos.broker_settings(bootstrap, "group.min.session.timeout.ms") == {
        "group.min.session.timeout.ms": "1000"
    }
    assert (
        demos.join_with_session_timeout(bootstrap, readings, module_namespace.group("short"), 500)
        == "InvalidSessionTimeoutError"
    )
    assert (
        demos.join_with_session_timeout(bootstrap, readings, module_namespace.group("six"), 6000)
        == "joined"
    )
