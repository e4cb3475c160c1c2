"""Benchmark: how long partitions go unread while a consumer group rebalances, per protocol.

    .venv/bin/python bench/rebalance_pause.py [--runs 5] [--quick]

Setup, the same for every arm: one broker, a topic of 12 partitions, and a producer thread that
writes one record to every partition every 20 ms (600 records/s, a steady stream). A group of
3 members, threads of this process, consumes it; each member notes the moment it received
records of a partition (time.monotonic(), one note per partition per poll). Once the group has
settled (every partition owned by exactly one member and consumed since), an event happens:

- **join**: a 4th member subscribes and starts polling;
- **leave**: one of the 3 original members calls close(), which leaves the group at once;
- **restart** (static membership only): a member with a `group.instance.id` closes and a new
  consumer with the same instance id starts at once, within the session timeout.

**The pause** of one event is measured from the members' own notes, for each partition: the
longest gap between two consecutive receptions of that partition (by whichever member), from
the last reception before the event until the group has settled again. The event's pause is the
longest of those 12 gaps: the worst wait any partition's records suffered. That is the figure
in the JSON line, because it is positive and comparable for every protocol: an eager rebalance
stops every partition, a cooperative or KIP-848 one only those that move, a static restart only
the restarted member's. The table also shows the **stop-the-world** time: the longest span during
which no member received anything at all (same window). For eager rebalancing the two figures
are close; for the others the stop-the-world time stays near the stream's own interval, which is
the point of them. The stream's own interval (20 ms) and poll cycle are the floor of both figures.

Arms (kafka-python 3.0.12 for the classic protocol, confluent-kafka for KIP-848):

- `eager`: classic protocol, `partition.assignment.strategy` / `partition_assignment_strategy`
  range (kafka-python's default): every member revokes everything, then all rejoin.
- `cooperative`: classic protocol, cooperative-sticky: only the partitions that move are revoked,
  in a second rebalance round.
- `static_restart`: classic protocol, range, every member with a `group.instance.id`
  (`group_instance_id`); the restart is answered from the coordinator's cache, no rebalance.
- `consumer_protocol`: KIP-848, `group.protocol=consumer` (confluent-kafka 2.16.1): the broker
  computes the assignment and each member moves partitions on its own heartbeats.

Classic members heartbeat every 500 ms (`heartbeat.interval.ms` / `heartbeat_interval_ms`; Kafka's
default is 3 s) with `session.timeout.ms` / `session_timeout_ms` 6 s; the consumer-protocol group
gets the same 500 ms heartbeat through its group config `consumer.heartbeat.interval.ms` (the
broker's default, `group.consumer.heartbeat.interval.ms`, is 5 s), so that the arms differ by
protocol, not by how often members ask. Each run uses a fresh group; a run that does not settle
within 30 s is reported and left out of the medians. Figures are medians over the runs, in ms.
A broker is started for the benchmark unless KAFKA_BOOTSTRAP_SERVERS is set. Prints a table; the
last line is JSON: {"rebalance_pause_ms": {arm: median ms over its events}, "runs": N,
"by_event_ms": {arm: {event: median ms}}}.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from confluent_kafka import Consumer as ConfluentConsumer  # noqa: E402
from confluent_kafka import Producer as ConfluentProducer  # noqa: E402
from kafka import KafkaAdminClient, KafkaConsumer  # noqa: E402
from kafka.admin import ConfigResource, ConfigResourceType  # noqa: E402
from kafka.coordinator.assignors.cooperative_sticky import CooperativeStickyAssignor  # noqa: E402
from kafka.coordinator.assignors.range import RangePartitionAssignor  # noqa: E402

from autograder.broker.fixture import test_broker  # noqa: E402
from autograder.grading import kafka_io  # noqa: E402
from autograder.grading.namespace import Namespace, new_run_id  # noqa: E402
from autograder.grading.quiet import silence_kafka_logs  # noqa: E402

PARTITIONS = 12
MEMBERS = 3
STREAM_INTERVAL_S = 0.020
HEARTBEAT_MS = 500
SESSION_TIMEOUT_MS = 6000
SETTLE_DEADLINE_S = 30.0
ARMS = ("eager", "cooperative", "static_restart", "consumer_protocol")
EVENTS = {
    "eager": ("join", "leave"),
    "cooperative": ("join", "leave"),
    "static_restart": ("restart",),
    "consumer_protocol": ("join", "leave"),
}


class Notes:
    """When each partition's records were received, by any member (thread-safe appends)."""

    def __init__(self) -> None:
        self.times: dict[int, list[float]] = {p: [] for p in range(PARTITIONS)}
        self._lock = threading.Lock()

    def received(self, partition: int, moment: float) -> None:
        with self._lock:
            self.times[partition].append(moment)

    def since(self, moment: float) -> dict[int, list[float]]:
        """Each partition's receptions from its last one before ``moment`` on."""
        with self._lock:
            found = {}
            for partition, times in self.times.items():
                earlier = [t for t in times if t <= moment]
                found[partition] = earlier[-1:] + [t for t in times if t > moment]
            return found


def longest_gap(times: list[float]) -> float:
    ordered = sorted(times)
    return max((b - a for a, b in zip(ordered, ordered[1:], strict=False)), default=0.0)


class Member:
    """One group member polling in its own thread, noting what it receives."""

    def __init__(self, notes: Notes) -> None:
        self.notes = notes
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> Member:
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            now_partitions = self.poll_partitions()
            moment = time.monotonic()
            for partition in now_partitions:
                self.notes.received(partition, moment)
        self.close_client()

    def close(self) -> None:
        """Stop polling and close the client (from the member's own thread, as it must be)."""
        self._stop.set()
        self._thread.join(timeout=30)

    def poll_partitions(self) -> set[int]:
        raise NotImplementedError

    def assigned(self) -> set[int]:
        raise NotImplementedError

    def close_client(self) -> None:
        raise NotImplementedError


class ClassicMember(Member):
    def __init__(self, notes: Notes, bootstrap: str, topic: str, group: str, arm: str, name: str):
        super().__init__(notes)
        assignor = CooperativeStickyAssignor if arm == "cooperative" else RangePartitionAssignor
        self.consumer = KafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=group,
            client_id=name,
            group_instance_id=name if arm == "static_restart" else None,
            partition_assignment_strategy=[assignor],
            heartbeat_interval_ms=HEARTBEAT_MS,
            session_timeout_ms=SESSION_TIMEOUT_MS,
            auto_offset_reset="latest",
            auto_commit_interval_ms=200,
        )
        self.consumer.subscribe([topic])
        self.consumer.topics()  # lesson 05: partitions known before the first join
        self._assigned: set[int] = set()

    def poll_partitions(self) -> set[int]:
        batches = self.consumer.poll(timeout_ms=50)
        self._assigned = {tp.partition for tp in self.consumer.assignment()}
        return {tp.partition for tp, records in batches.items() if records}

    def assigned(self) -> set[int]:
        return set(self._assigned)

    def generation(self) -> int:
        return self.consumer.group_metadata().generation_id

    def close_client(self) -> None:
        self.consumer.close()


class ConsumerProtocolMember(Member):
    def __init__(self, notes: Notes, bootstrap: str, topic: str, group: str, name: str):
        super().__init__(notes)
        self.consumer = ConfluentConsumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": group,
                "group.protocol": "consumer",
                "client.id": name,
                "auto.offset.reset": "latest",
                "auto.commit.interval.ms": 200,
            }
        )
        self.consumer.subscribe([topic])
        self._assigned: set[int] = set()

    def poll_partitions(self) -> set[int]:
        messages = self.consumer.consume(num_messages=1000, timeout=0.05)
        self._assigned = {tp.partition for tp in self.consumer.assignment()}
        received = {m.partition() for m in messages if m.error() is None}
        return {p for p in received if p is not None}

    def assigned(self) -> set[int]:
        return set(self._assigned)

    def close_client(self) -> None:
        self.consumer.close()


class Stream:
    """One record to every partition every STREAM_INTERVAL_S, until stopped."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.producer = ConfluentProducer({"bootstrap.servers": bootstrap, "linger.ms": 0})
        self.topic = topic
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> Stream:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.producer.flush(10)

    def _loop(self) -> None:
        n = 0
        next_at = time.monotonic()
        while not self._stop.is_set():
            for partition in range(PARTITIONS):
                self.producer.produce(self.topic, value=b"%d" % n, partition=partition)
            self.producer.poll(0)
            n += 1
            next_at += STREAM_INTERVAL_S
            time.sleep(max(0.0, next_at - time.monotonic()))


@dataclass
class EventFigures:
    pause_ms: float
    stop_the_world_ms: float
    generations: int | None  # rebalances the remaining members went through; None if unknown


@dataclass
class ArmFigures:
    events: dict[str, list[EventFigures]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def settled(members: list[Member], notes: Notes, deadline: float) -> float | None:
    """Wait until the members own every partition exactly once and each partition has been
    received since; the moment it was so, or None at the deadline."""
    owned_at = None
    while time.monotonic() < deadline:
        sets = [m.assigned() for m in members]
        disjoint = sum(len(s) for s in sets) == len(set().union(*sets))
        if disjoint and set().union(*sets) == set(range(PARTITIONS)) and all(sets):
            owned_at = owned_at or time.monotonic()
            latest = notes.since(owned_at)
            if all(times and times[-1] > owned_at for times in latest.values()):
                return time.monotonic()
        else:
            owned_at = None
        time.sleep(0.05)
    return None


def measure_event(
    members: list[Member], notes: Notes, act: Callable[[], list[Member]]
) -> EventFigures | None:
    """Run ``act`` (which returns the members after the event), wait for the group to settle,
    and measure the gaps from the event on."""
    before = [m.generation() for m in members if isinstance(m, ClassicMember)]
    started = time.monotonic()
    after = act()
    done = settled(after, notes, started + SETTLE_DEADLINE_S)
    if done is None:
        return None
    window = notes.since(started)
    window = {p: [t for t in times if t <= done] for p, times in window.items()}
    everything = [t for times in window.values() for t in times]
    survivors = [m for m in after if isinstance(m, ClassicMember) and m.generation() > 0]
    generations = None
    if before and survivors:
        generations = survivors[0].generation() - max(before)
    members[:] = after
    return EventFigures(
        pause_ms=1000 * max(longest_gap(times) for times in window.values()),
        stop_the_world_ms=1000 * longest_gap(everything),
        generations=generations,
    )


def set_consumer_group_heartbeat(bootstrap: str, group: str) -> bool:
    """Give a consumer-protocol group the classic arms' 500 ms heartbeat; False if refused."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        resource = ConfigResource(
            ConfigResourceType.GROUP, group, {"consumer.heartbeat.interval.ms": str(HEARTBEAT_MS)}
        )
        admin.alter_configs([resource], incremental=True)
        return True
    except Exception:
        return False
    finally:
        admin.close()


def one_run(bootstrap: str, topic: str, group: str, arm: str, figures: ArmFigures) -> None:
    """One fresh group of 3 members, then each of the arm's events in turn."""
    notes = Notes()
    names = iter(f"member-{n}" for n in range(10))

    def member() -> Member:
        if arm == "consumer_protocol":
            return ConsumerProtocolMember(notes, bootstrap, topic, group, next(names)).start()
        return ClassicMember(notes, bootstrap, topic, group, arm, next(names)).start()

    if arm == "consumer_protocol" and not set_consumer_group_heartbeat(bootstrap, group):
        figures.failures.append("consumer.heartbeat.interval.ms refused: broker default used")
    members: list[Member] = []
    try:
        for _ in range(MEMBERS):
            members.append(member())
        if settled(members, notes, time.monotonic() + SETTLE_DEADLINE_S) is None:
            figures.failures.append(f"{arm}: the first 3 members did not settle")
            return
        time.sleep(0.5)  # a stretch of steady consumption before the event
        for event in EVENTS[arm]:
            if event == "join":
                result = measure_event(members, notes, lambda: members + [member()])
            elif event == "leave":
                leaver = members[0]

                def leave(leaver: Member = leaver) -> list[Member]:
                    leaver.close()
                    return [m for m in members if m is not leaver]

                result = measure_event(members, notes, leave)
            else:
                restarted = members[0]
                assert isinstance(restarted, ClassicMember)
                instance = restarted.consumer.config["group_instance_id"]

                def restart(restarted: Member = restarted, instance: str = instance) -> list:
                    restarted.close()
                    fresh = ClassicMember(notes, bootstrap, topic, group, arm, instance).start()
                    return [fresh] + [m for m in members if m is not restarted]

                result = measure_event(members, notes, restart)
            if result is None:
                figures.failures.append(f"{arm} {event}: did not settle in {SETTLE_DEADLINE_S} s")
                return
            figures.events.setdefault(event, []).append(result)
            time.sleep(0.5)
    finally:
        for m in members:
            m.close()


def measure(bootstrap: str, runs: int, arms: tuple[str, ...]) -> dict[str, ArmFigures]:
    """Every arm ``runs`` times, the arms alternating so drift on a shared machine hits all."""
    namespace = Namespace(new_run_id(), "bench")
    topics = {arm: namespace.topic(f"rebalance-{arm}") for arm in arms}
    for topic in topics.values():
        kafka_io.create_topic(bootstrap, topic, PARTITIONS)
    figures = {arm: ArmFigures() for arm in arms}
    for run in range(runs):
        for arm in arms:
            with Stream(bootstrap, topics[arm]):
                time.sleep(0.3)
                one_run(bootstrap, topics[arm], namespace.group(f"{arm}-{run}"), arm, figures[arm])
    return figures


def _median(values: list[float]) -> int | None:
    return round(statistics.median(values)) if values else None


def report(figures: dict[str, ArmFigures], runs: int) -> dict:
    """Print the table and return the JSON summary (medians in ms)."""
    print(
        f"Rebalance pause, {MEMBERS} members on {PARTITIONS} partitions, a record per partition "
        f"every {STREAM_INTERVAL_S * 1000:.0f} ms, median of {runs} run(s) ({os.cpu_count()} CPUs)."
    )
    print(
        "pause: the longest any partition went unread; stop-the-world: the longest nobody read "
        "anything; rebalances: generations the group moved on (classic only)."
    )
    print(f"{'arm':<20}{'event':<9}{'pause ms':>10}{'stop-the-world ms':>19}{'rebalances':>12}")
    summary: dict[str, dict[str, int | None]] = {}
    pooled: dict[str, int | None] = {}
    for arm, arm_figures in figures.items():
        summary[arm] = {}
        pooled[arm] = _median(
            [f.pause_ms for event in EVENTS[arm] for f in arm_figures.events.get(event, [])]
        )
        for event in EVENTS[arm]:
            found = arm_figures.events.get(event, [])
            pause = _median([f.pause_ms for f in found])
            stop = _median([f.stop_the_world_ms for f in found])
            counts = [f.generations for f in found if f.generations is not None]
            moved = f"{statistics.median(counts):g}" if counts else "-"
            summary[arm][event] = pause
            print(
                f"{arm:<20}{event:<9}{'-' if pause is None else pause:>10}"
                f"{'-' if stop is None else stop:>19}{moved:>12}"
            )
        for failure in arm_figures.failures:
            print(f"  note: {failure}")
    # The shape: one figure per arm (the median over every event of every run), then
    # the same medians event by event.
    result = {"rebalance_pause_ms": pooled, "runs": runs, "by_event_ms": summary}
    print(json.dumps(result))
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--quick", action="store_true", help="one run of every arm: does it run, not how fast"
    )
    args = parser.parse_args(argv)
    runs = 1 if args.quick else max(1, args.runs)
    silence_kafka_logs()
    with test_broker() as bootstrap:
        figures = measure(bootstrap, runs, ARMS)
        kafka_io.close_all()
    return report(figures, runs)


if __name__ == "__main__":
    main()
