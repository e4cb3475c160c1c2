"""Who owned which partition when: from the members' own callbacks and from the broker.

The members' journals (members.py) say when each was assigned and revoked which partitions; the
broker's view comes from ``describe_groups`` polled a few times a second by ``BrokerWatch``. From
the journals, ``intervals`` builds the ownership timeline and ``step_report`` measures one step
of a scenario: which partitions moved, which stopped, and for how long nobody consumed them.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from kafka import KafkaAdminClient

from autograder.demos.lesson09.members import Group

Partition = tuple[str, int]


@dataclass(frozen=True)
class Snapshot:
    """One ``describe_groups`` answer: the group's state and each member's assignment."""

    t: float
    state: str
    assignor: str
    members: dict[str, list[Partition]]  # client id -> partitions
    instance_ids: dict[str, str | None]  # client id -> group_instance_id
    member_ids: dict[str, str]  # client id -> member id


def describe(admin: KafkaAdminClient, group_id: str) -> Snapshot:
    """The broker's view of a classic group right now."""
    info = admin.describe_groups([group_id])[group_id]
    members: dict[str, list[Partition]] = {}
    instances: dict[str, str | None] = {}
    ids: dict[str, str] = {}
    for m in info.get("members") or []:
        assignment = m.get("member_assignment") or {}
        parts = [
            (a["topic"], p)
            for a in assignment.get("assigned_partitions") or []
            for p in a["partitions"]
        ]
        members[m["client_id"]] = sorted(parts)
        instances[m["client_id"]] = m.get("group_instance_id")
        ids[m["client_id"]] = m["member_id"]
    return Snapshot(
        time.time(), info["group_state"], info.get("protocol_data") or "", members, instances, ids
    )


class BrokerWatch:
    """A thread that asks the broker about the group every ``every_s`` and keeps the answers."""

    def __init__(self, bootstrap: str, group_id: str, every_s: float = 0.15) -> None:
        self.group_id, self.every_s = group_id, every_s
        self.snapshots: list[Snapshot] = []
        self._admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="broker-watch", daemon=True)

    def __enter__(self) -> BrokerWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(10)
        self._admin.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.snapshots.append(describe(self._admin, self.group_id))
            except Exception:  # noqa: BLE001 (a missed sample is no reason to stop watching)
                pass
            self._stop.wait(self.every_s)

    def latest(self) -> Snapshot | None:
        return self.snapshots[-1] if self.snapshots else None

    def states_between(self, t0: float, t1: float) -> list[str]:
        """The distinct states seen in [t0, t1], in order."""
        seen: list[str] = []
        for s in self.snapshots:
            if t0 <= s.t <= t1 and (not seen or seen[-1] != s.state):
                seen.append(s.state)
        return seen


@dataclass(frozen=True)
class Interval:
    member: str
    partition: Partition
    start: float
    end: float


def intervals(group: Group, until: float | None = None) -> list[Interval]:
    """Ownership intervals from every member's callbacks; a crashed member's end at its kill."""
    until = until or time.time()
    found: list[Interval] = []
    for member in group.everyone():
        since: dict[Partition, float] = {}
        stop_at = member.ended_at if member.how_ended == "crashed" else None
        for e in member.events():
            if stop_at and e["t"] > stop_at:
                break
            parts = [tuple(p) for p in e.get("partitions", [])]
            if e["event"] == "assigned":
                for p in parts:
                    since.setdefault(p, e["t"])
            elif e["event"] in ("revoked", "lost"):
                for p in parts:
                    if p in since:
                        found.append(Interval(member.name, p, since.pop(p), e["t"]))
        end = stop_at or member.ended_at or until
        found += [Interval(member.name, p, t, end) for p, t in since.items()]
    return sorted(found, key=lambda i: (i.start, i.member))


def owner_at(spans: list[Interval], partition: Partition, t: float) -> str | None:
    for span in spans:
        if span.partition == partition and span.start <= t < span.end:
            return span.member
    return None


def gaps(
    spans: list[Interval], partition: Partition, t0: float, t1: float
) -> list[tuple[float, float]]:
    """The stretches of [t0, t1] when nobody owned ``partition``."""
    mine = sorted(
        (s.start, s.end) for s in spans if s.partition == partition and s.end > t0 and s.start < t1
    )
    holes, cursor = [], t0
    for start, end in mine:
        if start > cursor:
            holes.append((cursor, start))
        cursor = max(cursor, end)
    if cursor < t1:
        holes.append((cursor, t1))
    return holes


@dataclass
class StepReport:
    """What one step of a scenario did to the assignment."""

    step: str
    assignment: dict[str, list[int]] = field(default_factory=dict)
    moved: int = 0
    paused: int = 0
    pause_ms: int = 0
    settled: bool = True
    broker: dict[str, list[int]] | None = None  # what describe_groups said once settled
    lost: int = 0  # members told on_partitions_lost meanwhile (removed: a busy machine's doing)


def step_report(
    group: Group, partitions: set[Partition], step: str, t0: float, t1: float
) -> StepReport:
    """Compare the owners at ``t0`` (the action) and ``t1`` (settled): partitions moved, how many
    went unowned at some point, and the longest such gap (the stop-the-world time)."""
    spans = intervals(group, until=t1)
    before = {p: owner_at(spans, p, t0 - 0.001) for p in partitions}
    after = {p: owner_at(spans, p, t1 - 0.001) for p in partitions}
    holes = {p: gaps(spans, p, t0, t1 - 0.001) for p in partitions}
    longest = max((end - start for h in holes.values() for start, end in h), default=0.0)
    assignment: dict[str, list[int]] = {}
    for p, owner in sorted(after.items()):
        assignment.setdefault(owner or "-", []).append(p[1])
    return StepReport(
        step=step,
        assignment=dict(sorted(assignment.items())),
        moved=sum(1 for p in partitions if before[p] is not None and before[p] != after[p]),
        paused=sum(1 for h in holes.values() if h),
        pause_ms=round(longest * 1000),
        lost=sum(1 for e in group.events() if e["event"] == "lost" and t0 <= e["t"] <= t1),
    )
