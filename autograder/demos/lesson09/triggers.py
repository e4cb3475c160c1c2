"""The five things that make a group rebalance, each made to happen with real members.

Every function starts its own members, waits for a condition with a deadline (and says so when
the deadline passed), closes or kills every member before it returns, and returns a small dict.
"""

from __future__ import annotations

import time
from collections import Counter
from functools import partial

from kafka import KafkaAdminClient
from kafka.admin import NewPartitions, NewTopic

from autograder.demos.lesson09.members import Group, MemberSpec, covers, topic_partitions
from autograder.demos.lesson09.scenario import broker_agrees
from autograder.demos.lesson09.timeline import BrokerWatch
from autograder.grading import kafka_io

SESSION_MS = 2000
SPEC = MemberSpec(session_timeout_ms=SESSION_MS, heartbeat_interval_ms=400)


def _seconds_until(group: Group, condition, deadline_s: float, what: str) -> float | None:
    t0 = time.monotonic()
    if group.wait_until(condition, deadline_s):
        return round(time.monotonic() - t0, 2)
    print(f"  ! {what}: not seen within {deadline_s} s; members own {group.owned_now()}")
    return None


def _short(owned: dict[str, set]) -> dict[str, list[int]]:
    return {name: sorted(p for _, p in parts) for name, parts in sorted(owned.items())}


def _generation(group: Group, name: str) -> int | None:
    found = [
        e["generation"]
        for e in group.members[name].events()
        if e["event"] == "generation" and e["generation"] >= 0
    ]
    return found[-1] if found else None


def _generation_moved(group: Group, before: int | None) -> bool:
    return _generation(group, "a") != before


def join_close_crash(bootstrap: str, topic: str, group_id: str) -> dict[str, dict]:
    """Triggers 1-3 on a 4-partition topic: b joins a's group, b closes; b joins again and
    crashes. For each: seconds until the group settled, the assignment after (by the members'
    callbacks), the members the broker lists then, and the generation a was handed."""
    parts = topic_partitions(topic, 4)
    found: dict[str, dict] = {}
    spec = MemberSpec(topics=(topic,), session_timeout_ms=SESSION_MS, heartbeat_interval_ms=400)
    with Group(bootstrap, group_id, spec) as group, BrokerWatch(bootstrap, group_id) as watch:
        group.add("a")
        _seconds_until(group, lambda: covers(group.owned_now(), parts, 1), 20, "a's first join")
        group.wait_until(lambda: _generation(group, "a") is not None, 5)
        found["a alone"] = {
            "seconds until settled": None,
            "assignment after": _short(group.owned_now()),
            "broker lists": ["a"],
            "a's generation": _generation(group, "a"),
        }
        for trigger, action, members in (
            ("b joins", lambda: group.add("b"), 2),
            ("b closes", lambda: group.close("b"), 1),
            ("b joins again", lambda: group.add("b"), 2),
            ("b crashes", lambda: group.crash("b"), 1),
        ):
            before = _generation(group, "a")
            action()
            seconds = _seconds_until(
                group, lambda n=members: covers(group.owned_now(), parts, n), 20, trigger
            )
            group.wait_until(broker_agrees(watch, group), 5)
            # a writes its new generation down after the poll that rejoined: give it a moment.
            group.wait_until(partial(_generation_moved, group, before), 3)
            latest = watch.latest()
            found[trigger] = {
                "seconds until settled": seconds,
                "assignment after": _short(group.owned_now()),
                "broker lists": sorted(latest.members) if latest else None,
                "a's generation": _generation(group, "a"),
            }
    return found


def slow_handler(
    bootstrap: str,
    topic: str,
    group_id: str,
    handle_s: float = 0.8,
    max_poll_interval_ms: int = 2000,
) -> dict:
    """Trigger 4: member b spends ``handle_s`` per record on batches of 5, longer than
    ``max_poll_interval_ms`` between two polls. It is removed while its heartbeats still flow; its
    commit after the batch fails; a reads b's partition again from the last committed offset."""
    parts = topic_partitions(topic, 2)
    spec = MemberSpec(
        topics=(topic,), session_timeout_ms=SESSION_MS, commit="batch", max_poll_records=5
    )
    with Group(bootstrap, group_id, spec) as group, BrokerWatch(bootstrap, group_id) as watch:
        group.add("a")
        group.wait_until(lambda: covers(group.owned_now(), parts, 1), 20)
        group.add("b", handle_s=handle_s, max_poll_interval_ms=max_poll_interval_ms)
        if not group.wait_until(lambda: covers(group.owned_now(), parts, 2), 20):
            print(f"  ! the group never settled on two members: {group.owned_now()}")
        kafka_io.append_to_partitions(
            bootstrap, topic, [(p, None, b"job %d" % n) for p in (0, 1) for n in range(10)]
        )
        b = group.members["b"]
        failed = lambda: any(e["event"] == "commit_failed" for e in b.events())  # noqa: E731
        everything = lambda: len({(p, o) for _, p, o, _ in group.processed()}) >= 20  # noqa: E731
        if not group.wait_until(lambda: failed() and everything(), 30):
            print("  ! deadline passed before b's commit failed and every record was handled")
        failed_at = next((e["t"] for e in b.events() if e["event"] == "commit_failed"), None)
        polls = [e["t"] for e in b.events() if e["event"] == "polled"]
        last_poll = max((t for t in polls if failed_at is None or t < failed_at), default=None)
        removed = next(
            (
                s.t
                for s in watch.snapshots
                if last_poll and s.t > last_poll and "b" not in s.members
            ),
            None,
        )
        handled = Counter((p, o) for _, p, o, _ in group.processed())
        # What b handled in the batch whose commit failed: after its last commit that went
        # through (a first, smaller batch may have), up to the failure. Once removed, b may join
        # again and get a partition back: what it handles then is not a duplicate either.
        committed_at = max(
            (
                e["t"]
                for e in b.events()
                if e["event"] == "committed" and (failed_at is None or e["t"] < failed_at)
            ),
            default=0.0,
        )
        by_b = {
            (e["partition"], e["offset"])
            for e in b.events()
            if e["event"] == "processed"
            and e["t"] > committed_at
            and (failed_at is None or e["t"] <= failed_at)
        }
        failure = next((e for e in b.events() if e["event"] == "commit_failed"), None)
        return {
            "records": 20,
            "handled by b": len(by_b),
            "handled twice": sum(1 for key in by_b if handled[key] > 1),
            "b's commit": failure["error"] if failure else "succeeded",
            "s from b's last poll to leaving the group": round(removed - last_poll, 1)
            if removed and last_poll
            else None,
        }


def partitions_added(
    bootstrap: str,
    topic: str,
    group_id: str,
    metadata_max_age_ms: int = 2000,
    members: int = 2,
    deadline_s: float = 20,
) -> dict:
    """Trigger 5: the topic grows from 2 to 4 partitions; seconds until the ``members`` (1 or
    2) own the new ones (they notice at their next metadata refresh, every
    ``metadata_max_age_ms``), None if not within ``deadline_s``."""
    spec = MemberSpec(
        topics=(topic,), session_timeout_ms=SESSION_MS, metadata_max_age_ms=metadata_max_age_ms
    )
    with Group(bootstrap, group_id, spec) as group:
        before = topic_partitions(topic, 2)
        group.add("a")
        group.wait_until(lambda: covers(group.owned_now(), before, 1), 20)
        if members == 2:
            group.add("b")
            group.wait_until(lambda: covers(group.owned_now(), before, 2), 20)
        # A record in each partition, handled, before the topic grows: the members' start-up
        # (finding where to read, first fetches) is over, and a retriable error there, which
        # makes kafka-python refresh its metadata early, can no longer reveal the new partitions.
        kafka_io.append_to_partitions(bootstrap, topic, [(0, None, b"first"), (1, None, b"first")])
        group.wait_until(lambda: {p for _, p, _, _ in group.processed()} >= {0, 1}, 10)
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        try:
            admin.create_partitions({topic: NewPartitions(total_count=4)})
        finally:
            admin.close()
        seconds = _seconds_until(
            group,
            lambda: covers(group.owned_now(), topic_partitions(topic, 4), members),
            deadline_s,
            "the new partitions",
        )
        return {
            "partitions": 4,
            "seconds until assigned": seconds,
            "assignment": _short(group.owned_now()),
        }


def pattern_picks_up(
    bootstrap: str, prefix: str, group_id: str, metadata_max_age_ms: int = 2000
) -> dict:
    """Trigger 6: a member subscribed to the pattern ``<prefix>-.*`` owns ``<prefix>-a``; then
    ``<prefix>-b`` is created. Seconds until the member owns it as well.

    A pattern subscriber asks for the metadata of every topic on the cluster at each refresh.
    On a broker holding many topics (the course's keeps every run's) the answer takes a few
    hundred milliseconds, and kafka-python 3.0.12 then has a race: a ``poll()`` whose timeout
    ends before that answer drops the join it has just completed and joins again, for ever. So
    this member polls with a 1 s timeout (``poll`` returns as soon as records arrive anyway)."""
    first, second = f"{prefix}-a", f"{prefix}-b"
    kafka_io.create_topic(bootstrap, first, 1)
    spec = MemberSpec(
        pattern=f"^{prefix}-.*",
        session_timeout_ms=SESSION_MS,
        metadata_max_age_ms=metadata_max_age_ms,
        poll_timeout_ms=1000,
    )
    with Group(bootstrap, group_id, spec) as group:
        group.add("a")
        _seconds_until(
            group, lambda: covers(group.owned_now(), {(first, 0)}, 1), 20, "the first topic"
        )
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        try:
            admin.create_topics([NewTopic(second, 1, 1)])
        finally:
            admin.close()
        seconds = _seconds_until(
            group,
            lambda: covers(group.owned_now(), {(first, 0), (second, 0)}, 1),
            20,
            "the new topic",
        )
        owned = sorted(f"{t}[{p}]" for t, p in group.owned_now().get("a", set()))
        return {
            "topics on the broker": len(kafka_io.list_topics(bootstrap)),
            "pattern": f"^{prefix}-.*",
            "seconds until the new topic is assigned": seconds,
            "owned": owned,
        }
