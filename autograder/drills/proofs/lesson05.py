"""Proofs of lesson 05's drills (consumer basics): where a group starts reading, how much a poll
returns, assign() against subscribe(), and how one group's members share the partitions.

Each proof runs lesson 05's own demonstrations (autograder.demos.lesson05) on fresh topics and
groups; every consumer they start is closed before they return.
"""

from __future__ import annotations

from kafka import KafkaConsumer

from autograder.demos import lesson05 as demos
from autograder.drills.proof import Chart, Proof
from autograder.grading import kafka_io
from autograder.grading.namespace import Namespace


def _topic(bootstrap: str, namespace: Namespace, name: str, partitions: int = 1) -> str:
    topic = namespace.topic(name)
    kafka_io.create_topic(bootstrap, topic, partitions)
    return topic


def new_group_with_the_default_reset(bootstrap: str, namespace: Namespace) -> Proof:
    """A brand-new group with kafka-python's default auto_offset_reset joins a topic that
    already holds 10 orders; then 5 more are sent."""
    default = KafkaConsumer.DEFAULT_CONFIG["auto_offset_reset"]
    topic = _topic(bootstrap, namespace, "orders")
    there = demos.fill_orders(bootstrap, topic, 10)
    seen = demos.first_read_of_a_new_group(bootstrap, topic, namespace.group("new"), default)
    if "error" in seen:
        observed = 2
    else:
        early, late = seen["records already there"], seen["records sent after joining"]
        if early == there:
            observed = 0
        else:
            observed = 1 if early == 0 and late == 5 else 3
    found = (
        f"it got {seen['error']}"
        if "error" in seen
        else f"it read {seen['records already there']} of the {there} records already there "
        f"and {seen['records sent after joining']} of the 5 sent after it joined"
    )
    return Proof(
        observed=observed,
        lines=(f"kafka-python's default auto_offset_reset is {default!r}", found),
    )


def committed_offset_wins_over_reset(bootstrap: str, namespace: Namespace) -> Proof:
    """A group reads 10 of 30 records and commits; a second consumer of the group starts with
    auto_offset_reset='latest'."""
    topic = _topic(bootstrap, namespace, "restart")
    demos.fill_orders(bootstrap, topic, 30)
    seen = demos.restart_after_commit(bootstrap, topic, namespace.group("restart"), first_read=10)
    first, rest, total = (
        seen["first consumer read"],
        seen["second consumer (latest) read"],
        seen["records in the topic"],
    )
    if rest == 0:
        observed = 0
    elif rest == total - first:
        observed = 1
    else:
        observed = 2 if rest == total else 3 if rest == first else -1
    return Proof(
        observed=observed,
        lines=(
            f"the first consumer read {first} of {total} records and committed",
            f"the second consumer, auto_offset_reset='latest', read {rest}: it resumed at the "
            f"committed offset {first}"
            if observed == 1
            else f"the second consumer, auto_offset_reset='latest', read {rest}",
        ),
    )


def committed_offset_past_the_end_resets(bootstrap: str, namespace: Namespace) -> Proof:
    """The group's committed offset is 1000 on a partition of 30 records; a consumer of the
    group starts with auto_offset_reset='earliest'."""
    topic = _topic(bootstrap, namespace, "past-the-end")
    demos.fill_orders(bootstrap, topic, 30)
    seen = demos.reset_past_the_end(bootstrap, topic, namespace.group("past"))
    first, end = seen["first offset read (earliest)"], seen["end offset"]
    if first == 0:
        observed = 0
    elif first is None:
        observed = 1
    else:
        observed = 2 if first == end else 3
    return Proof(
        observed=observed,
        lines=(
            f"committed offset {seen['committed offset']}, end offset {end}",
            f"the first record the consumer received was at offset {first}",
        ),
    )


def assigned_consumer_is_no_member(bootstrap: str, namespace: Namespace) -> Proof:
    """A consumer with a group_id that assign()s itself partition 1 of a 3-partition topic:
    what it reads, and how many members the broker lists in its group meanwhile."""
    topic = _topic(bootstrap, namespace, "assigned", partitions=3)
    demos.fill_orders(bootstrap, topic, 30)
    seen = demos.assigned_read(bootstrap, topic, 1, namespace.group("assigned"))
    return Proof(
        observed=seen["members the broker lists"],
        lines=(
            f"the consumer read {seen['records']} records, from partition(s) "
            f"{seen['partitions read']} only",
            f"while it read, the broker listed {seen['members the broker lists']} member(s) in "
            "its group",
        ),
    )


def polls_to_read_thirty(bootstrap: str, namespace: Namespace) -> Proof:
    """30 records in one partition read with max_poll_records=7: the size of each non-empty
    poll."""
    topic = _topic(bootstrap, namespace, "polls")
    demos.fill_orders(bootstrap, topic, 30)
    sizes = demos.poll_sizes(bootstrap, topic, 7)
    return Proof(
        observed=len(sizes),
        lines=(
            f"max_poll_records=7 over 30 records: {len(sizes)} non-empty polls returned {sizes}",
            f"the largest poll returned {max(sizes, default=0)} records",
        ),
        chart=Chart(
            title="Records per poll, max_poll_records=7",
            x_label="poll",
            y_label="records",
            bars={f"poll {n}": size for n, size in enumerate(sizes, 1)},
        ),
    )


def fourth_member_gets_no_partition(bootstrap: str, namespace: Namespace) -> Proof:
    """Four members of one group on a 3-partition topic: who holds what, who reads nothing."""
    topic = _topic(bootstrap, namespace, "shared", partitions=3)
    rows = demos.share_partitions(bootstrap, topic, namespace.group("four"), members=4)
    idle = sum(1 for row in rows if not row["partitions"])
    return Proof(
        observed=idle,
        lines=(
            f"4 members, 3 partitions: {idle} member(s) held no partition",
            "records read per member: "
            + ", ".join(f"{row['member']} {row['records read']}" for row in rows),
        ),
        table=tuple(rows),
    )


PROOFS = {
    "new_group_with_the_default_reset": new_group_with_the_default_reset,
    "committed_offset_wins_over_reset": committed_offset_wins_over_reset,
    "committed_offset_past_the_end_resets": committed_offset_past_the_end_resets,
    "assigned_consumer_is_no_member": assigned_consumer_is_no_member,
    "polls_to_read_thirty": polls_to_read_thirty,
    "fourth_member_gets_no_partition": fourth_member_gets_no_partition,
}
