"""Which timeout catches which failure, measured: a crash (session.timeout.ms, judged on
heartbeats) against a handler too slow between polls (max.poll.interval.ms)."""

from __future__ import annotations

import time
from collections import Counter

from autograder.demos.lesson09.members import Group, MemberSpec, covers, topic_partitions
from autograder.grading import kafka_io


def crash_noticed_after(
    bootstrap: str, topic: str, group_id: str, session_timeout_ms: int, heartbeat_interval_ms: int
) -> float | None:
    """Seconds from SIGKILL of member b to member a owning b's partitions."""
    parts = topic_partitions(topic, 2)
    spec = MemberSpec(
        topics=(topic,),
        session_timeout_ms=session_timeout_ms,
        heartbeat_interval_ms=heartbeat_interval_ms,
    )
    with Group(bootstrap, group_id, spec) as group:
        group.add("a")
        group.wait_until(lambda: covers(group.owned_now(), parts, 1), 20)
        group.add("b")
        if not group.wait_until(lambda: covers(group.owned_now(), parts, 2), 20):
            print(f"  ! b never got a partition: {group.owned_now()}")
            return None
        time.sleep(0.5)  # a few heartbeats in the steady state
        group.crash("b")
        t0 = time.monotonic()
        deadline = 3 * session_timeout_ms / 1000 + 5
        if not group.wait_until(lambda: covers(group.owned_now(), parts, 1), deadline):
            print(f"  ! a did not get b's partition within {deadline} s")
            return None
        return round(time.monotonic() - t0, 2)


def crash_table(bootstrap: str, topic: str, prefix: str) -> dict[str, dict]:
    """``crash_noticed_after`` for two session timeouts, heartbeat 400 ms."""
    rows = {}
    for n, session in enumerate((1000, 3000)):
        seconds = crash_noticed_after(bootstrap, topic, f"{prefix}-{n}", session, 400)
        rows[f"session_timeout_ms={session}"] = {"s from SIGKILL to reassignment": seconds}
    return rows


SLOW_CASES = {
    # label: (max_poll_records, max_poll_interval_ms)
    "max_poll_records=12, max_poll_interval_ms=1500": (12, 1500),
    "max_poll_records=2,  max_poll_interval_ms=1500": (2, 1500),
    "max_poll_records=12, max_poll_interval_ms=8000": (12, 8000),
}


def slow_member(
    bootstrap: str,
    topic: str,
    group_id: str,
    max_poll_records: int,
    max_poll_interval_ms: int,
    handle_s: float = 0.2,
) -> dict:
    """One member handles the topic's 12 records at ``handle_s`` each, committing after every
    batch. Was it removed from the group, did a commit fail, how many records came twice, and
    how often did it have to join again after its first assignment?"""
    parts = topic_partitions(topic, 1)
    spec = MemberSpec(
        topics=(topic,),
        handle_s=handle_s,
        commit="batch",
        max_poll_records=max_poll_records,
        max_poll_interval_ms=max_poll_interval_ms,
    )
    with Group(bootstrap, group_id, spec) as group:
        group.add("a")
        group.wait_until(lambda: covers(group.owned_now(), parts, 1), 20)
        committed = lambda: kafka_io.committed_offsets(bootstrap, group_id).get((topic, 0), 0)  # noqa: E731
        refused = lambda: sum(1 for e in group.events() if e["event"] == "commit_failed")  # noqa: E731
        # Done when all 12 are committed, or once the group has refused two commits: a member
        # kicked out on every batch would go round that loop for ever.
        if not group.wait_until(lambda: committed() == 12 or refused() >= 2, 30):
            print(f"  ! {group_id}: neither all committed nor two refusals within 30 s")
        group.close_all()
        events = group.events()
        handled = Counter((p, o) for _, p, o, _ in group.processed())
        # Rejoins after the member first got its partition: each is a rebalance of its own.
        first = min(e["t"] for e in events if e["event"] == "assigned" and e["partitions"])
        later = {
            e["generation"]
            for e in events
            if e["event"] == "generation" and e["t"] > first and e["generation"] >= 0
        }
        return {
            "removed from the group": any(e["event"] == "lost" for e in events),
            "commits refused": sum(1 for e in events if e["event"] == "commit_failed"),
            "handled twice": sum(1 for n in handled.values() if n > 1),
            "committed": committed(),
            "rejoins": max(len(later) - 1, 0),
        }


def slow_table(bootstrap: str, topic: str, prefix: str) -> dict[str, dict]:
    """``slow_member`` under each of SLOW_CASES (each with its own group, same 12 records)."""
    return {
        label: slow_member(bootstrap, topic, f"{prefix}-{n}", records, interval)
        for n, (label, (records, interval)) in enumerate(SLOW_CASES.items())
    }
