"""Stopping a consumer well: a SIGTERM handler raises a flag, the poll loop sees it, close()
leaves the group at once. Without the handler, SIGTERM kills the process like a crash."""

from __future__ import annotations

import time

from autograder.demos.lesson09.members import Group, MemberSpec, covers, topic_partitions
from autograder.grading import kafka_io


def sigterm(bootstrap: str, topic: str, group_id: str, handles_sigterm: bool) -> dict:
    """b gets SIGTERM while it shares the topic with a. How b ended, whether it ran its
    on_partitions_revoked, and seconds until a owned everything."""
    parts = topic_partitions(topic, 2)
    spec = MemberSpec(topics=(topic,), session_timeout_ms=2000, commit="listener")
    with Group(bootstrap, group_id, spec) as group:
        group.add("a")
        group.wait_until(lambda: covers(group.owned_now(), parts, 1), 20)
        b = group.add("b", handles_sigterm=handles_sigterm)
        if not group.wait_until(lambda: covers(group.owned_now(), parts, 2), 20):
            print(f"  ! the group never settled on a and b: {group.owned_now()}")
        group.mark("b gets SIGTERM")
        t0 = time.monotonic()
        b.terminate()
        b._process.join(10)
        b.ended_at = time.time()
        b.how_ended = "closed" if handles_sigterm else "crashed"
        ok = group.wait_until(lambda: covers(group.owned_now(), parts, 1), 15)
        seconds = round(time.monotonic() - t0, 2) if ok else None
        if not ok:
            print("  ! a did not get b's partition within 15 s")
        events = b.events()
        return {
            "b's exit code": b._process.exitcode,
            # The first join calls on_partitions_revoked with nothing; only a real revoke counts.
            "b ran on_partitions_revoked": any(
                e["event"] == "revoked" and e["partitions"] for e in events
            ),
            "b closed": any(e["event"] == "closed" for e in events),
            "s until a owned everything": seconds,
        }


def compare(bootstrap: str, topic: str, prefix: str) -> dict[str, dict]:
    """``sigterm`` with and without a handler."""
    kafka_io.ping(bootstrap)
    return {
        "SIGTERM, handler sets a stop flag": sigterm(bootstrap, topic, f"{prefix}-flag", True),
        "SIGTERM, no handler": sigterm(bootstrap, topic, f"{prefix}-none", False),
    }
