"""What lesson 09 tells learners about rebalancing, shown happening on the real broker with group
members in real processes that join, close, get SIGKILLed and are removed for polling too slowly.

Each demo runs once per module (a fixture) and several tests read its result.
"""

from __future__ import annotations

import pytest
from kafka import ConsumerRebalanceListener, KafkaAdminClient, KafkaConsumer
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from autograder.demos import lesson09 as demos
from autograder.demos.lesson09 import assignors as assignor_demos
from autograder.demos.lesson09 import kip848, members
from autograder.grading import kafka_io
from autograder.grading.quiet import grader_busy

LESSON = "09"  # for the `module_namespace` fixture (tests/conftest.py)
SESSION_S = 2.0  # the session timeout most demos use
HEARTBEAT_S = 0.4


def _topic(bootstrap, namespace, name, partitions):
    full = namespace.topic(name)
    kafka_io.create_topic(bootstrap, full, partitions)
    return full


@pytest.fixture(scope="module")
def shared(bootstrap, module_namespace):
    return _topic(bootstrap, module_namespace, "shared", 6)


# -- 1. the triggers -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def triggers(bootstrap, module_namespace):
    topic = _topic(bootstrap, module_namespace, "jobs", 4)
    return demos.join_close_crash(bootstrap, topic, module_namespace.group("triggers"))


def test_a_join_hands_the_newcomer_partitions_and_the_broker_lists_it(triggers):
    joined = triggers["b joins"]
    assert joined["assignment after"] == {"a": [0, 1], "b": [2, 3]}, joined
    assert joined["broker lists"] == ["a", "b"], joined


def test_every_join_leave_and_crash_is_a_new_generation(triggers):
    generations = [row["a's generation"] for row in triggers.values()]
    assert None not in generations, triggers
    # Each event is at least one rebalance (a busy machine may add one of its own).
    assert all(b > a for a, b in zip(generations, generations[1:], strict=False)), triggers
    assert triggers["b closes"]["broker lists"] == triggers["b crashes"]["broker lists"] == ["a"]


def test_a_clean_close_is_seen_at_once_and_a_crash_only_after_the_session_timeout(triggers):
    closed, crashed = triggers["b closes"], triggers["b crashes"]
    assert closed["assignment after"] == crashed["assignment after"] == {"a": [0, 1, 2, 3]}
    # Nothing moves before the coordinator has missed heartbeats for the session timeout.
    assert crashed["seconds until settled"] >= SESSION_S - HEARTBEAT_S - 0.1, crashed
    assert closed["seconds until settled"] < crashed["seconds until settled"]


def test_a_member_slower_than_max_poll_interval_is_removed_and_its_records_handled_again(
    bootstrap, module_namespace
):
    topic = _topic(bootstrap, module_namespace, "slow", 2)
    found = demos.slow_handler(bootstrap, topic, module_namespace.group("slow"))
    assert found["b's commit"] == "CommitFailedError", found
    assert found["handled by b"] > 0
    assert found["handled twice"] == found["handled by b"], found
    # Removed about max_poll_interval_ms (2 s) after its last poll, heartbeats or not.
    left = found["s from b's last poll to leaving the group"]
    assert left is not None and 1.5 <= left < 4.5, found


def test_new_partitions_are_assigned_after_a_metadata_refresh(bootstrap, module_namespace):
    topic = _topic(bootstrap, module_namespace, "grows", 2)
    found = demos.partitions_added(bootstrap, topic, module_namespace.group("grows"))
    assert found["seconds until assigned"] is not None, found
    assert sorted(p for ps in found["assignment"].values() for p in ps) == [0, 1, 2, 3]


def test_a_pattern_subscription_picks_up_a_new_matching_topic(bootstrap, module_namespace):
    prefix = module_namespace.topic("regional")
    found = demos.pattern_picks_up(bootstrap, prefix, module_namespace.group("pattern"))
    assert found["owned"] == [f"{prefix}-a[0]", f"{prefix}-b[0]"], found


# -- 2. the timeline and the playground ----------------------------------------------------------


def test_the_callbacks_and_the_broker_agree_after_every_step(bootstrap, shared, module_namespace):
    figure, steps = demos.timeline(bootstrap, shared, module_namespace.group("timeline"))
    assert [s.step for s in steps] == ["a, b, c join", "d joins", "c closes", "b crashes"]
    for step in steps:
        assert step.settled and step.broker == step.assignment, step
    assert steps[1].paused == steps[2].paused == 6, steps  # range is eager: everything stops
    assert figure.axes and [t.get_text() for t in figure.axes[0].get_yticklabels()] == list("abcd")


def test_the_playground_script_runs_headless_and_ends_with_every_member_closed(
    bootstrap, module_namespace
):
    figure, steps = demos.play_script(
        bootstrap, module_namespace.topic("play"), module_namespace.group("play")
    )
    assert [s.step for s in steps] == [
        "a joins",
        "b joins",
        "c joins",
        "6 partitions",
        "c crashes",
        "b closes",
    ]
    # cooperative-sticky (the playground's default): a join stops only what changes hands
    assert all(s.paused == s.moved for s in steps[1:3] if s.settled), steps
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        group = admin.describe_groups([module_namespace.group("play")])
        assert not group[module_namespace.group("play")]["members"]
    finally:
        admin.close()


# -- 3. the four assignors -----------------------------------------------------------------------


def _disturbed(reports) -> bool:
    """A run the machine upset: a step that never settled, or a member thrown out on the way."""
    return any(not r.settled or r.lost for r in reports)


@pytest.fixture(scope="module")
def assignments(bootstrap, shared, module_namespace):
    """The lesson's scenario for each assignor; run once more if a busy machine upset it."""
    found = {}
    for name in assignor_demos.ORDER:
        for attempt in range(2):
            group = module_namespace.group(f"assignors-{name}-{attempt}")
            found[name] = assignor_demos.scenario(bootstrap, shared, group, name)[0]
            if not _disturbed(found[name]):
                break
    return found


@pytest.mark.parametrize("assignor", ["range", "roundrobin", "sticky"])
def test_an_eager_assignor_stops_every_partition_when_a_member_joins(assignments, assignor):
    joined = assignments[assignor][1]
    assert joined.settled and joined.paused == 6, joined
    assert joined.moved < 6


def _undisturbed_join(first_try, run_again):
    """The 'd joins' step, run again once if a member was thrown out meanwhile (a session that
    expired because the machine was busy turns any rebalance into a full one)."""
    joined = first_try[1]
    if joined.lost or not joined.moved:  # moved nothing: nobody owned anything when d came
        joined = run_again()[1]
    return joined


def test_cooperative_sticky_stops_only_the_partitions_it_moves(
    bootstrap, shared, module_namespace, assignments
):
    joined = _undisturbed_join(
        assignments["cooperative-sticky"],
        lambda: assignor_demos.scenario(
            bootstrap, shared, module_namespace.group("coop-again"), "cooperative-sticky"
        )[0],
    )
    assert joined.settled and 1 <= joined.paused == joined.moved < 6, joined


def test_sticky_assignors_move_no_more_than_round_robin(assignments):
    moved = {name: sum(r.moved for r in reports) for name, reports in assignments.items()}
    assert moved["sticky"] <= moved["roundrobin"], moved
    assert moved["cooperative-sticky"] <= moved["roundrobin"], moved


@pytest.mark.parametrize("assignor", ["range", "roundrobin", "sticky", "cooperative-sticky"])
def test_after_a_crash_the_dead_members_partitions_wait_for_the_session_timeout(
    assignments, assignor
):
    crashed = assignments[assignor][2]
    assert crashed.settled and "b" not in crashed.assignment, crashed
    assert crashed.pause_ms >= (SESSION_S - HEARTBEAT_S - 0.1) * 1000, crashed


def test_range_gives_each_member_the_same_partition_of_co_partitioned_topics(
    bootstrap, module_namespace
):
    pair = (
        _topic(bootstrap, module_namespace, "orders", 3),
        _topic(bootstrap, module_namespace, "payments", 3),
    )
    by_range = demos.co_partitioned(bootstrap, pair, module_namespace.group("join-range"), "range")
    assert sorted(by_range) == ["a", "b"], by_range
    assert all(ps[pair[0]] == ps[pair[1]] for ps in by_range.values()), by_range
    by_turns = demos.co_partitioned(
        bootstrap, pair, module_namespace.group("join-roundrobin"), "roundrobin"
    )
    assert any(ps[pair[0]] != ps[pair[1]] for ps in by_turns.values()), by_turns


def test_kafka_pythons_default_strategy_makes_a_range_group(bootstrap, module_namespace):
    topic = _topic(bootstrap, module_namespace, "default-strategy", 1)
    group = module_namespace.group("default-strategy")
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        session_timeout_ms=2000,
        heartbeat_interval_ms=400,
    )
    try:
        consumer.subscribe([topic])
        consumer.topics()
        for _ in range(50):
            if consumer.assignment():
                break
            consumer.poll(timeout_ms=100)
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        try:
            assert admin.describe_groups([group])[group]["protocol_data"] == "range"
        finally:
            admin.close()
    finally:
        consumer.close()


def test_kafka_python_refuses_an_eager_assignor_beside_the_cooperative_one(bootstrap):
    found = kip848.refusals(bootstrap, "kc-lesson09-refusals")
    assert "Mixing EAGER and COOPERATIVE" in found["kafka-python, [range, cooperative-sticky]"]


# -- 4. the rebalance listener -------------------------------------------------------------------


def test_committing_on_revoke_is_what_stops_records_being_handled_twice(
    bootstrap, module_namespace
):
    topic = _topic(bootstrap, module_namespace, "stream", 2)
    records = demos.fill(bootstrap, topic, partitions=2, per_partition=60)
    found = demos.listener_compare(bootstrap, topic, module_namespace.group("listener"), records)
    without, on_revoke, own_store = found.values()
    assert without["handled twice"] > 0, found
    assert on_revoke == own_store == {"records": 120, "handled": 120, "handled twice": 0}, found


def test_a_blocking_commit_inside_a_sync_listener_is_refused_by_kafka_python_3(
    bootstrap, module_namespace
):
    topic = _topic(bootstrap, module_namespace, "sync-listener", 1)
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=module_namespace.group("sync-listener"),
        enable_auto_commit=False,
        session_timeout_ms=2000,
        heartbeat_interval_ms=400,
    )
    errors: list[BaseException] = []

    class CommitSync(ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            if revoked:
                try:
                    consumer.commit({tp: OffsetAndMetadata(0, "", -1) for tp in revoked})
                except RuntimeError as error:
                    errors.append(error)

        def on_partitions_assigned(self, assigned):
            pass

    with grader_busy():
        try:
            consumer.subscribe([topic], listener=CommitSync())
            consumer.topics()
            for _ in range(50):
                if consumer.assignment():
                    break
                consumer.poll(timeout_ms=100)
        finally:
            try:
                consumer.close()
            except KafkaError:
                pass
    assert errors and "Cannot block on net.run() from the IO thread" in str(errors[0])


# -- 5. timeouts ---------------------------------------------------------------------------------


def test_the_time_to_notice_a_crash_follows_the_session_timeout(bootstrap, module_namespace):
    topic = _topic(bootstrap, module_namespace, "crash", 2)
    found = demos.crash_table(bootstrap, topic, module_namespace.group("crash"))
    short = found["session_timeout_ms=1000"]["s from SIGKILL to reassignment"]
    long = found["session_timeout_ms=3000"]["s from SIGKILL to reassignment"]
    assert short is not None and long is not None, found
    assert 0.5 <= short < long and long >= 3.0 - HEARTBEAT_S - 0.1, found


def test_a_batch_longer_than_max_poll_interval_is_never_committed_and_the_remedies_work(
    bootstrap, module_namespace
):
    topic = _topic(bootstrap, module_namespace, "backlog", 1)
    demos.fill(bootstrap, topic, partitions=1, per_partition=12)
    big, small, patient = demos.slow_table(
        bootstrap, topic, module_namespace.group("backlog")
    ).values()
    assert big["removed from the group"] and big["commits refused"] >= 1, big
    assert big["committed"] < 12 and big["handled twice"] > 0, big
    for kept in (small, patient):
        assert not kept["removed from the group"] and kept["commits refused"] == 0, kept
        assert kept["committed"] == 12 and kept["handled twice"] == 0, kept
        assert kept["rejoins"] == 0, kept


# -- 6. static membership ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def restarts(bootstrap, module_namespace):
    topic = _topic(bootstrap, module_namespace, "restart", 4)
    return demos.restart_compare(bootstrap, topic, module_namespace.group("restart"))


def test_a_static_member_restarts_without_a_rebalance(restarts):
    static = restarts["static (group_instance_id)"]
    assert static["rebalances"] == 0 and len(static["a's generations"]) == 1, static
    assert static["same assignment after"] and not static["a stopped too"], static


def test_a_static_member_sends_no_leave_group_on_close(restarts):
    assert restarts["static (group_instance_id)"]["b listed 1 s after close()"]
    assert not restarts["dynamic"]["b listed 1 s after close()"]


def test_a_dynamic_member_restart_costs_rebalances(restarts):
    dynamic = restarts["dynamic"]
    # One for the leave and one for the join; a busy broker may fold both into one.
    assert 1 <= dynamic["rebalances"] <= 3, dynamic
    assert dynamic["same assignment after"] and dynamic["a stopped too"], dynamic


# -- 7. the consumer protocol (KIP-848) ----------------------------------------------------------


def test_the_course_broker_lowers_the_session_timeout_floors_and_keeps_the_defaults(bootstrap):
    names = [
        "group.consumer.session.timeout.ms",
        "group.consumer.min.session.timeout.ms",
        "group.min.session.timeout.ms",
        "group.consumer.assignors",
    ]
    (config,) = kafka_io.broker_configs(bootstrap, names).values()
    assert config == {
        "group.consumer.session.timeout.ms": "45000",
        "group.consumer.min.session.timeout.ms": "1000",
        "group.min.session.timeout.ms": "1000",
        "group.consumer.assignors": "uniform,range",
    }


def test_librdkafka_refuses_client_side_timeouts_and_assignors_under_the_consumer_protocol(
    bootstrap,
):
    found = kip848.refusals(bootstrap, "kc-lesson09-refusals")
    assert (
        "not supported for `group.protocol=consumer`"
        in found["confluent-kafka, session.timeout.ms"]
    )
    assert "group.remote.assignor" in found["confluent-kafka, partition.assignment.strategy"]


def test_a_group_session_timeout_is_a_group_config_on_the_broker(bootstrap, module_namespace):
    held = kip848.set_group_timeouts(bootstrap, module_namespace.group("group-config"), 2500)
    assert held["consumer.session.timeout.ms"] == "2500"


@pytest.fixture(scope="module")
def consumer_protocol(bootstrap, shared, module_namespace):
    return kip848.scenario(bootstrap, shared, module_namespace.group("kip848"))


def test_the_consumer_protocol_stops_only_the_partitions_that_move(
    bootstrap, shared, module_namespace, consumer_protocol
):
    steps, _ = consumer_protocol
    crashed = steps[2]
    joined = _undisturbed_join(
        steps,
        lambda: kip848.scenario(bootstrap, shared, module_namespace.group("kip848-again"))[0],
    )
    assert joined.settled and 1 <= joined.paused == joined.moved < 6, joined
    assert crashed.settled and "b" not in crashed.assignment, crashed
    assert crashed.pause_ms >= 1500, crashed  # the group's 2 s session timeout


def test_the_broker_assigns_consumer_protocol_groups_itself(bootstrap, consumer_protocol):
    steps, on_broker = consumer_protocol
    assert on_broker["type"] == "CONSUMER" and on_broker["assignor"] == "uniform", on_broker
    assert on_broker["members"] == steps[2].assignment


def test_kafka_pythons_describe_groups_cannot_describe_a_consumer_protocol_group(
    bootstrap, module_namespace, consumer_protocol
):
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        group = module_namespace.group("kip848")
        found = admin.describe_groups([group])[group]
    finally:
        admin.close()
    assert "not a classic group" in (found["error"] or ""), found


# -- 8. shutting down ----------------------------------------------------------------------------


def test_a_sigterm_handler_turns_a_stop_into_a_clean_close(bootstrap, module_namespace):
    topic = _topic(bootstrap, module_namespace, "shutdown", 2)
    flagged, unhandled = demos.shutdown_compare(
        bootstrap, topic, module_namespace.group("shutdown")
    ).values()
    assert flagged["b's exit code"] == 0 and flagged["b closed"], flagged
    assert flagged["b ran on_partitions_revoked"], flagged
    assert unhandled["b's exit code"] == -15 and not unhandled["b closed"], unhandled
    assert not unhandled["b ran on_partitions_revoked"], unhandled
    assert flagged["s until a owned everything"] < unhandled["s until a owned everything"]
    assert unhandled["s until a owned everything"] >= SESSION_S - HEARTBEAT_S - 0.1


def test_kafka_python_has_no_wakeup():
    assert not hasattr(KafkaConsumer, "wakeup")


def test_the_assignors_named_are_kafka_pythons_own():
    assert {cls.name for cls in members.ASSIGNORS.values()} == set(assignor_demos.ORDER)
