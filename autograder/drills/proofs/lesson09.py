"""Proofs of lesson 09's questions: rebalances made to happen by real group members.

The members are lesson 09's own (``autograder.demos.lesson09.members``): KafkaConsumers in
forked processes that write every callback to a journal, so they can be closed, killed or left
stuck in a handler. Every group uses session timeouts of 1-3 s so that each proof ends in
seconds; each ``Group`` kills whatever member is still running when its block ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

from autograder.demos.lesson09.assignors import co_partitioned
from autograder.demos.lesson09.members import Group, MemberSpec, covers, topic_partitions
from autograder.demos.lesson09.scenario import quiet_for
from autograder.demos.lesson09.shutdown import sigterm
from autograder.demos.lesson09.static import restart
from autograder.demos.lesson09.triggers import slow_handler
from autograder.drills.proof import Chart, Proof
from autograder.grading import kafka_io
from autograder.grading.namespace import Namespace


def slow_batch_leaves_the_group(bootstrap: str, namespace: Namespace) -> Proof:
    """Member b handles 5 records per poll at 0.5 s each (2.5 s) with ``max_poll_interval_ms``
    1000; a shares the 2-partition topic and is fast. Lesson 09's slow-handler experiment.

    The batch outlasts the interval by far, not just a little: removed after 1 s, b comes back
    only once its batch is done, by which time a has taken its partition over. (With a batch
    barely over the interval, b can rejoin in the same rebalance and get its partition back.)
    """
    topic = namespace.topic("slow-batch")
    kafka_io.create_topic(bootstrap, topic, 2)
    handle_s, interval_ms = 0.5, 1000
    found = slow_handler(
        bootstrap,
        topic,
        namespace.group("slow-batch"),
        handle_s=handle_s,
        max_poll_interval_ms=interval_ms,
    )
    left_after = found["s from b's last poll to leaving the group"]
    removed = left_after is not None
    commit = found["b's commit"]
    refused = commit != "succeeded"
    twice = found["handled twice"]
    # The options: 0 removed but the commit goes through, 1 nothing happens, 2 removed, commit
    # refused and the batch handled again.
    if not removed and not refused:
        observed = 1
    elif removed and refused and twice:
        observed = 2
    elif removed and not refused:
        observed = 0
    else:
        observed = -1  # none of the options came true
    lines = (
        f"b polled 5 records and needed {5 * handle_s:.1f} s for them, with "
        f"max_poll_interval_ms={interval_ms}: "
        + (f"the broker dropped b {left_after} s after its last poll" if removed else "b stayed"),
        f"b's commit after the batch: {commit}",
        f"{twice} of the {found['records']} records were handled twice: a took b's partition "
        "and read it again from the last committed offset",
    )
    return Proof(observed=observed, lines=lines, table=(found,))


def _covered(group: Group, partitions: set, members: int, quiet_s: float = 0.0) -> bool:
    """Every partition owned once, by ``members`` members (and nothing moved for ``quiet_s``)."""
    return covers(group.owned_now(), partitions, members) and quiet_for(group, quiet_s)


def _first_true(conditions: dict[str, Callable[[], bool]], deadline_s: float) -> dict:
    """name -> the time.time() at which each condition first held (None: not by the deadline)."""
    seen: dict[str, float | None] = dict.fromkeys(conditions)
    stop_at = time.monotonic() + deadline_s
    while time.monotonic() < stop_at and None in seen.values():
        for name, condition in conditions.items():
            if seen[name] is None and condition():
                seen[name] = time.time()
        time.sleep(0.05)
    return seen


def crash_or_stuck_handler(bootstrap: str, namespace: Namespace) -> Proof:
    """Two groups side by side, each member with ``session_timeout_ms`` 1000 and
    ``max_poll_interval_ms`` 3000: in one, member b is SIGKILLed; in the other, b's handler
    gets stuck for 6 s on one record. Seconds until a owns b's partition in each."""
    session_ms, poll_ms = 1000, 3000
    spec = MemberSpec(
        session_timeout_ms=session_ms,
        heartbeat_interval_ms=400,
        max_poll_interval_ms=poll_ms,
        max_poll_records=1,
    )
    topics = {kind: namespace.topic(kind) for kind in ("crash", "stuck")}
    for topic in topics.values():
        kafka_io.create_topic(bootstrap, topic, 2)
    parts = {kind: topic_partitions(topic, 2) for kind, topic in topics.items()}
    with (
        Group(
            bootstrap, namespace.group("crash"), replace(spec, topics=(topics["crash"],))
        ) as crashing,
        Group(
            bootstrap, namespace.group("stuck"), replace(spec, topics=(topics["stuck"],))
        ) as stuck,
    ):
        groups = {"crash": crashing, "stuck": stuck}
        for group in groups.values():
            group.add("a")
        for kind, group in groups.items():
            group.wait_until(partial(_covered, group, parts[kind], 1), 15)
            group.add("b", handle_s=6.0 if kind == "stuck" else 0.0)
        for kind, group in groups.items():
            if not group.wait_until(partial(_covered, group, parts[kind], 2), 15):
                raise RuntimeError(f"the {kind} group never settled on a and b")
        [(_, b_partition)] = stuck.owned_now()["b"]
        kafka_io.append_to_partitions(bootstrap, topics["stuck"], [(b_partition, None, b"job")])
        b_stuck = stuck.members["b"]
        polled = lambda: any(e["event"] == "polled" for e in b_stuck.events())  # noqa: E731
        if not stuck.wait_until(polled, 10):
            raise RuntimeError("the stuck member never polled its record")
        stuck_at = next(e["t"] for e in b_stuck.events() if e["event"] == "polled")
        crashing.crash("b")
        crashed_at = time.time()
        seen = _first_true(
            {
                "crash": lambda: covers(crashing.owned_now(), parts["crash"], 1),
                "stuck": lambda: stuck.owned_now().get("a") == parts["stuck"],
            },
            deadline_s=10,
        )
    crash_s = None if seen["crash"] is None else round(seen["crash"] - crashed_at, 1)
    stuck_s = None if seen["stuck"] is None else round(seen["stuck"] - stuck_at, 1)

    def caught_by(seconds: float | None) -> str | None:
        # max.poll.interval.ms cannot remove a member sooner than that long after its poll, and
        # a member noticed by its missing heartbeats goes about one session timeout after.
        if seconds is None:
            return None
        return "poll" if seconds >= 0.9 * poll_ms / 1000 else "session"

    caught = (caught_by(crash_s), caught_by(stuck_s))
    # (what caught the crash, what caught the stuck handler) -> the option that says so.
    options: dict[tuple[str | None, str | None], int] = {
        ("session", "session"): 0,
        ("poll", "poll"): 1,
        ("poll", "session"): 2,
        ("session", "poll"): 3,
    }
    observed = options.get(caught, -1)
    lines = (
        f"both groups: session_timeout_ms={session_ms}, heartbeat_interval_ms=400, "
        f"max_poll_interval_ms={poll_ms}",
        f"SIGKILLed member: its partition was reassigned {crash_s} s after the kill "
        "(no more heartbeats)",
        f"member stuck in its handler: reassigned {stuck_s} s after its last poll, although its "
        "session timeout is 1 s: its heartbeat thread kept it alive until max.poll.interval.ms",
    )
    chart = Chart(
        title="which timeout noticed the failure",
        x_label="",
        y_label="seconds",
        bars={
            "SIGKILL -> reassigned": crash_s or 0.0,
            "stuck handler -> reassigned": stuck_s or 0.0,
            "session.timeout.ms": session_ms / 1000,
            "max.poll.interval.ms": poll_ms / 1000,
        },
    )
    return Proof(observed=observed, lines=lines, chart=chart)


def range_keeps_co_partitioned_topics_together(bootstrap: str, namespace: Namespace) -> Proof:
    """Lesson 09's co-partitioning experiment: two members subscribe to two 3-partition topics,
    once with ``range`` and once with ``roundrobin`` (each its own group)."""
    topics = (namespace.topic("orders"), namespace.topic("payments"))
    for topic in topics:
        kafka_io.create_topic(bootstrap, topic, 3)
    aligned: dict[str, bool] = {}
    rows = []
    for assignor in ("range", "roundrobin"):
        found = co_partitioned(bootstrap, topics, namespace.group(assignor), assignor)
        if len(found) != 2:
            raise RuntimeError(f"{assignor}: expected two members with partitions, got {found}")
        aligned[assignor] = all(by[topics[0]] == by[topics[1]] for by in found.values())
        rows += [
            {
                "assignor": assignor,
                "member": member,
                "orders": by[topics[0]],
                "payments": by[topics[1]],
            }
            for member, by in found.items()
        ]
    # The options: 0 roundrobin, 1 range, 2 either, 3 neither keeps partition k together.
    observed = {(False, True): 0, (True, False): 1, (True, True): 2, (False, False): 3}[
        (aligned["range"], aligned["roundrobin"])
    ]
    lines = tuple(
        f"{assignor}: every member got the same partition numbers of orders and payments: "
        f"{aligned[assignor]}"
        for assignor in aligned
    )
    return Proof(observed=observed, lines=lines, table=tuple(rows))


def _revoked_since(group: Group, since: float) -> int:
    return sum(
        len(e["partitions"])
        for e in group.events()
        if e["event"] == "revoked" and e["t"] > since and e["member"] in ("a", "b")
    )


def cooperative_revokes_only_what_moves(bootstrap: str, namespace: Namespace) -> Proof:
    """Two groups on one 6-partition topic, one with ``range`` and one with
    ``cooperative-sticky``: a and b own it, then c joins. Partitions a and b were told to give
    up (``on_partitions_revoked``), against partitions that really changed owner."""
    topic = namespace.topic("assignors")
    kafka_io.create_topic(bootstrap, topic, 6)
    parts = topic_partitions(topic, 6)
    assignors = ("range", "cooperative-sticky")
    rows: list[dict[str, Any]] = []
    with (
        Group(
            bootstrap,
            namespace.group("range"),
            MemberSpec(topics=(topic,), assignor="range", session_timeout_ms=2000),
        ) as eager,
        Group(
            bootstrap,
            namespace.group("cooperative"),
            MemberSpec(topics=(topic,), assignor="cooperative-sticky", session_timeout_ms=2000),
        ) as cooperative,
    ):
        groups = dict(zip(assignors, (eager, cooperative), strict=True))

        def settle(members: int) -> None:
            for name, group in groups.items():
                ok = group.wait_until(partial(_covered, group, parts, members, quiet_s=0.5), 15)
                if not ok:
                    raise RuntimeError(f"{name}: no settled {members}-member group")

        for group in groups.values():
            group.add("a")
            group.add("b")
        settle(2)
        before = {name: group.owned_now() for name, group in groups.items()}
        joined = time.time()
        for group in groups.values():
            group.add("c")
        settle(3)
        for name, group in groups.items():
            owner_before = {p: m for m, ps in before[name].items() for p in ps}
            owner_after = {p: m for m, ps in group.owned_now().items() for p in ps}
            rows.append(
                {
                    "assignor": name,
                    "revoked from a and b": _revoked_since(group, joined),
                    "moved to another member": sum(
                        owner_before[p] != owner_after[p] for p in parts
                    ),
                }
            )
    coop = rows[1]
    # The options: 0 only what moves, 1 everything, 2 nothing.
    if coop["revoked from a and b"] == 0:
        observed = 2
    elif coop["revoked from a and b"] == coop["moved to another member"] < len(parts):
        observed = 0
    elif coop["revoked from a and b"] == len(parts):
        observed = 1
    else:
        observed = -1
    lines = tuple(
        f"{r['assignor']}: c joined; a and b were told to revoke {r['revoked from a and b']} "
        f"partitions, {r['moved to another member']} actually changed owner"
        for r in rows
    )
    return Proof(observed=observed, lines=lines, table=tuple(rows))


def static_member_restart(bootstrap: str, namespace: Namespace) -> Proof:
    """Lesson 09's restart experiment with ``group_instance_id`` set: b is closed and started
    again a second later, within its 3 s session timeout."""
    topic = namespace.topic("static")
    kafka_io.create_topic(bootstrap, topic, 4)
    found = restart(bootstrap, topic, namespace.group("static"), True, session_timeout_ms=3000)
    generations = found["a's generations"]
    lines = (
        f"b (group_instance_id='b-1') closed and restarted 1 s later: a went through "
        f"generations {generations}, so {found['rebalances']} rebalances",
        f"the broker still listed b 1 s after close(): {found['b listed 1 s after close()']}; "
        f"b got the same partitions back: {found['same assignment after']}",
    )
    return Proof(observed=found["rebalances"], lines=lines, table=(found,))


def sigterm_without_handler(bootstrap: str, namespace: Namespace) -> Proof:
    """Lesson 09's shutdown experiment: b (``session_timeout_ms`` 2000, ``max_poll_interval_ms``
    5000) gets SIGTERM with no handler installed. Seconds until a owns b's partition."""
    topic = namespace.topic("sigterm")
    kafka_io.create_topic(bootstrap, topic, 2)
    found = sigterm(bootstrap, topic, namespace.group("sigterm"), handles_sigterm=False)
    seconds = found["s until a owned everything"]
    exit_code = found["b's exit code"]
    session_s, poll_s = 2.0, 5.0
    # The options: 0 at once, 1 after max.poll.interval.ms, 2 after session.timeout.ms, 3 never.
    if seconds is None:
        observed = 3
    elif seconds < session_s / 2:
        observed = 0
    elif abs(seconds - session_s) < abs(seconds - poll_s):
        observed = 2
    else:
        observed = 1
    lines = (
        f"b got SIGTERM and exited with code {exit_code}; it ran "
        f"on_partitions_revoked: {found['b ran on_partitions_revoked']}",
        f"a owned b's partition {seconds} s later, with session_timeout_ms=2000: "
        "no LeaveGroup was sent, so the coordinator waited for missing heartbeats",
    )
    return Proof(observed=observed, lines=lines, table=(found,))


PROOFS = {
    "slow_batch_leaves_the_group": slow_batch_leaves_the_group,
    "crash_or_stuck_handler": crash_or_stuck_handler,
    "range_keeps_co_partitioned_topics_together": range_keeps_co_partitioned_topics_together,
    "cooperative_revokes_only_what_moves": cooperative_revokes_only_what_moves,
    "static_member_restart": static_member_restart,
    "sigterm_without_handler": sigterm_without_handler,
}
