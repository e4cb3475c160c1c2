"""Waiting for a group to settle, and running a list of steps on it with a report per step."""

from __future__ import annotations

import time
from collections.abc import Callable

from autograder.demos.lesson09.chart import Recording
from autograder.demos.lesson09.members import Group, covers
from autograder.demos.lesson09.timeline import (
    BrokerWatch,
    Partition,
    StepReport,
    intervals,
    step_report,
)


def settled(group: Group, partitions: set[Partition], members: int) -> Callable[[], bool]:
    """True once ``members`` running members own every partition, each exactly once."""
    return lambda: covers(group.owned_now(), partitions, members)


_ASSIGNMENT_EVENTS = ("assigned", "revoked", "lost", "generation", "started", "closed")


def quiet_for(group: Group, seconds: float) -> bool:
    """No member has been assigned, revoked or (re)joined for ``seconds``."""
    changes = [e["t"] for e in group.events() if e["event"] in _ASSIGNMENT_EVENTS]
    return not changes or time.time() - max(changes) >= seconds


def broker_agrees(watch: BrokerWatch, group: Group) -> Callable[[], bool]:
    """True once the broker's latest answer is Stable and lists what the members say they own."""

    def check() -> bool:
        latest = watch.latest()
        if latest is None or latest.state != "Stable":
            return False
        owned = {name: sorted(parts) for name, parts in group.owned_now().items()}
        return {k: v for k, v in latest.members.items() if v} == owned

    return check


def run_step(
    group: Group,
    partitions: set[Partition],
    label: str,
    action: Callable[[], object],
    members_after: int,
    deadline_s: float = 12,
    watch: BrokerWatch | None = None,
) -> StepReport:
    """Do ``action``, wait (at most ``deadline_s``) until the group has settled on
    ``members_after`` members, and report what moved and how long partitions stood still."""
    t0 = time.time()
    action()
    ok = group.wait_until(settled(group, partitions, members_after), deadline_s)
    if ok and watch is not None:
        ok = group.wait_until(broker_agrees(watch, group), 3)
    # Settled means quiet too: no member's assignment changed for 0.5 s (a cooperative second
    # round, or a late rejoin on a busy machine, would otherwise land in the next step).
    ok = ok and group.wait_until(
        lambda: quiet_for(group, 0.5) and settled(group, partitions, members_after)(), 3
    )
    report = step_report(group, partitions, label, t0, time.time())
    report.settled = ok
    latest = watch.latest() if watch is not None else None
    if latest is not None:
        report.broker = {m: [p for _, p in ps] for m, ps in sorted(latest.members.items()) if ps}
    if not ok:
        print(f"  ! {label}: the group had not settled after {deadline_s} s: {group.owned_now()}")
    return report


def recording(group: Group, partitions: set[Partition], t0: float) -> Recording:
    """The group's ownership intervals and actions so far, ready for chart.draw."""
    now = time.time()
    return Recording(intervals(group, until=now), list(group.marks), partitions, t0, now)
