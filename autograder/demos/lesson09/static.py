"""Restarting a member: a static one (group_instance_id) gets its partitions back with no
rebalance; a dynamic one costs the group two."""

from __future__ import annotations

import time

from kafka import KafkaAdminClient

from autograder.demos.lesson09.members import Group, MemberSpec, covers, topic_partitions
from autograder.demos.lesson09.scenario import quiet_for
from autograder.demos.lesson09.timeline import describe, intervals


def _generations(group: Group, name: str) -> list[int]:
    seen = [
        e["generation"]
        for m in group.everyone()
        if m.name == name
        for e in m.events()
        if e["event"] == "generation" and e["generation"] >= 0
    ]
    return sorted(set(seen))


def restart(
    bootstrap: str, topic: str, group_id: str, static: bool, session_timeout_ms: int = 6000
) -> dict:
    """Members a and b share a 4-partition topic; b is closed and, a second later, started
    again. The generations a went through (from the one it had before), whether the broker still
    listed b a second after its close, whether the assignment came back the same, and whether
    a's partitions stood still too."""
    parts = topic_partitions(topic, 4)
    spec = MemberSpec(topics=(topic,), session_timeout_ms=session_timeout_ms)
    ids = {"a": "a-1", "b": "b-1"} if static else {"a": None, "b": None}
    with Group(bootstrap, group_id, spec) as group:
        group.add("a", group_instance_id=ids["a"])
        group.wait_until(lambda: covers(group.owned_now(), parts, 1), 20)
        group.add("b", group_instance_id=ids["b"])
        if not group.wait_until(lambda: covers(group.owned_now(), parts, 2), 20):
            print(f"  ! the group never settled on a and b: {group.owned_now()}")
        group.wait_until(lambda: quiet_for(group, 0.5), 10)
        before = {k: sorted(p for _, p in v) for k, v in group.owned_now().items()}
        generations_before = _generations(group, "a")
        t_close = time.time()
        group.close("b")
        # Asked a second after close() (a third of the session timeout): is b still a member?
        time.sleep(1.0)
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        try:
            still_listed = "b" in describe(admin, group_id).members
        finally:
            admin.close()
        group.add("b", group_instance_id=ids["b"])
        if not group.wait_until(lambda: covers(group.owned_now(), parts, 2), 20):
            print(f"  ! b did not get partitions back within 20 s: {group.owned_now()}")
        time.sleep(0.5)  # a second rebalance, if any, shows up in a's generations
        spans = intervals(group)
        a_paused = any(s.member == "a" and t_close < s.start for s in spans)
        after = {k: sorted(p for _, p in v) for k, v in group.owned_now().items()}
        generations = [g for g in _generations(group, "a") if g >= generations_before[-1]]
        return {
            "a's generations": generations,
            "rebalances": len(generations) - 1,
            "b listed 1 s after close()": still_listed,
            "same assignment after": before == after,
            "a stopped too": a_paused,
        }


def compare(bootstrap: str, topic: str, prefix: str) -> dict[str, dict]:
    """``restart`` for a static and a dynamic pair of members."""
    return {
        "static (group_instance_id)": restart(bootstrap, topic, f"{prefix}-static", True),
        "dynamic": restart(bootstrap, topic, f"{prefix}-dynamic", False),
    }
