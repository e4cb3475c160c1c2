"""Kafka 4's consumer group protocol (KIP-848, ``group.protocol=consumer``) with confluent-kafka:
the broker computes the assignment and each member moves on its own, with no group-wide barrier.

kafka-python speaks only the classic protocol, so these members are librdkafka consumers, in
forked children like the classic ones, writing the same journal (members.py).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from functools import partial

from confluent_kafka import Consumer, KafkaException
from confluent_kafka.admin import AdminClient
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType

from autograder.demos.lesson09.members import (
    MAX_LIFETIME_S,
    Group,
    MemberSpec,
    _Journal,
    topic_partitions,
)
from autograder.demos.lesson09.scenario import run_step
from autograder.demos.lesson09.timeline import StepReport
from autograder.grading.crash_runner import run_forked
from autograder.grading.quiet import grader_busy, silence_kafka_logs


def consumer_config(bootstrap: str, group_id: str, name: str, assignor: str = "uniform") -> dict:
    """A librdkafka consumer on the consumer protocol. No session.timeout.ms, heartbeat or
    partition.assignment.strategy here: under this protocol the broker owns them."""
    return {
        "bootstrap.servers": bootstrap,
        "group.id": group_id,
        "client.id": name,
        "group.protocol": "consumer",
        "group.remote.assignor": assignor,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
    }


def _names(partitions) -> list[list]:
    return sorted([tp.topic, tp.partition] for tp in partitions)


def run_confluent_member(spec: MemberSpec, bootstrap, group_id, name, log_path, stop) -> None:
    """A consumer-protocol member's life: subscribe, poll, record callbacks, close on ``stop``."""
    silence_kafka_logs()
    journal = _Journal(log_path, name)
    parent = os.getppid()
    consumer = Consumer(consumer_config(bootstrap, group_id, name, spec.assignor))
    try:
        consumer.subscribe(
            list(spec.topics),
            on_assign=lambda c, ps: journal.write("assigned", partitions=_names(ps)),
            on_revoke=lambda c, ps: journal.write("revoked", partitions=_names(ps)),
            on_lost=lambda c, ps: journal.write("lost", partitions=_names(ps)),
        )
        journal.write("started", pid=os.getpid())
        end = time.monotonic() + MAX_LIFETIME_S
        while not stop.is_set() and time.monotonic() < end and os.getppid() == parent:
            consumer.poll(0.1)
    finally:
        try:
            consumer.close()
        finally:
            journal.write("closed")


def set_group_timeouts(
    bootstrap: str, group_id: str, session_ms: int = 2000, heartbeat_ms: int = 500
) -> dict:
    """Per-group overrides of the broker's consumer-protocol timeouts (incremental alter configs
    on the GROUP resource, allowed before the group exists); the values the broker then holds."""
    with grader_busy():
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        resource = ConfigResource(
            ConfigResourceType.GROUP,
            group_id,
            configs={
                "consumer.session.timeout.ms": str(session_ms),
                "consumer.heartbeat.interval.ms": str(heartbeat_ms),
            },
        )
        admin.alter_configs([resource], incremental=True)
        held = admin.describe_configs([ConfigResource(ConfigResourceType.GROUP, group_id)])
        return {k: v["value"] for k, v in held["group"][group_id].items()}
    finally:
        admin.close()


def broker_view(bootstrap: str, group_id: str) -> dict:
    """What the broker says about the group (through librdkafka's describe_consumer_groups),
    asked from a forked child: librdkafka writes its own log lines to the process's stderr."""
    answer = run_forked(partial(_describe, bootstrap, group_id), time_limit_s=30)
    if answer.error or answer.timed_out:
        raise RuntimeError(f"describe_consumer_groups failed: {answer.error or 'timed out'}")
    return answer.returned


def _describe(bootstrap: str, group_id: str) -> dict:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    found = admin.describe_consumer_groups([group_id], request_timeout=10)[group_id].result(10)
    return {
        "type": str(found.type).split(".")[-1],
        "state": str(found.state).split(".")[-1],
        "assignor": found.partition_assignor,
        "members": {
            m.client_id: sorted(tp.partition for tp in m.assignment.topic_partitions)
            for m in sorted(found.members, key=lambda m: m.client_id)
        },
    }


def scenario(
    bootstrap: str, topic: str, group_id: str, assignor: str = "uniform", partitions: int = 6
) -> tuple[list[StepReport], dict]:
    """Item 3's scenario under the consumer protocol: a, b, c join, d joins, b crashes. The
    group's session timeout is set to 2 s first. Returns the step reports and the broker's view
    at the end."""
    set_group_timeouts(bootstrap, group_id)
    parts = topic_partitions(topic, partitions)
    spec = MemberSpec(topics=(topic,), assignor=assignor)
    with Group(bootstrap, group_id, spec, runner=run_confluent_member) as group:

        def start_three() -> None:
            for name in ("a", "b", "c"):
                group.add(name)

        steps: list[tuple[str, Callable[[], object], int]] = [
            ("a, b, c join", start_three, 3),
            ("d joins", partial(group.add, "d"), 4),
            ("b crashes", partial(group.crash, "b"), 3),
        ]
        reports = [run_step(group, parts, label, action, n) for label, action, n in steps]
        return reports, broker_view(bootstrap, group_id)


def refusals(bootstrap: str, group_id: str) -> dict[str, str]:
    """What librdkafka says to the classic group settings under ``group.protocol=consumer``, and
    what kafka-python says to an eager and a cooperative assignor listed together."""
    from kafka import KafkaConsumer
    from kafka.coordinator.assignors.cooperative_sticky import CooperativeStickyAssignor
    from kafka.coordinator.assignors.range import RangePartitionAssignor
    from kafka.errors import KafkaConfigurationError

    found = {}
    for setting, value in (
        ("session.timeout.ms", 2000),
        ("partition.assignment.strategy", "range"),
    ):
        try:
            Consumer({**consumer_config(bootstrap, group_id, "refused"), setting: value}).close()
            found[f"confluent-kafka, {setting}"] = "accepted"
        except KafkaException as error:
            found[f"confluent-kafka, {setting}"] = (
                error.args[0].str().removeprefix("Failed to create consumer: ")
            )
    try:
        KafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=group_id,
            partition_assignment_strategy=[RangePartitionAssignor, CooperativeStickyAssignor],
        ).close()
        found["kafka-python, [range, cooperative-sticky]"] = "accepted"
    except KafkaConfigurationError as error:
        found["kafka-python, [range, cooperative-sticky]"] = str(error).removeprefix(
            "KafkaConfigurationError: "
        )
    return found
