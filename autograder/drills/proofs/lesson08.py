"""Proofs of lesson 08's questions: what lag counts (commits, offsets), where a group without a
commit starts, and what the remedies for high lag can and cannot do.

Lag is read from outside, the way ``kafka-course groups describe`` reads it
(``autograder.cli.group_admin.GroupAdmin``): end offset minus the group's committed offset, with
``None`` where the group never committed. The experiments are lesson 08's own demonstrations
(``autograder.demos.lesson08``).
"""

from __future__ import annotations

import re

from autograder.cli.group_admin import GroupActive, GroupAdmin, ResetTarget
from autograder.demos import lesson08 as demo
from autograder.drills.proof import Chart, Proof
from autograder.grading import kafka_io
from autograder.grading.namespace import Namespace


def _lags(bootstrap: str, group: str) -> dict[int, int | None]:
    """partition -> the group's lag, as `groups describe` shows it (one topic per proof)."""
    with GroupAdmin(bootstrap) as groups:
        return {row.partition: row.lag for row in groups.describe(group).partitions}


def _readings(bootstrap: str, namespace: Namespace, counts: dict[int, int]) -> str:
    topic = namespace.topic("readings")
    kafka_io.create_topic(bootstrap, topic, partitions=len(counts))
    demo.fill(bootstrap, topic, counts)
    return topic


def lag_is_end_minus_committed(bootstrap: str, namespace: Namespace) -> Proof:
    """10 records, the group read offsets 0-6 and committed: lag 3."""
    topic = _readings(bootstrap, namespace, {0: 10})
    group = namespace.group("reporting")
    committed = demo.read_and_commit(bootstrap, topic, group, {0: 7})[0]
    end = kafka_io.end_offsets(bootstrap, topic)[0]
    lag = _lags(bootstrap, group)[0]
    return Proof(
        observed=lag if lag is not None else -1,
        lines=(
            f"the consumer read offsets 0 to 6 and committed {committed}: the next record to read",
            f"end offset {end} - committed {committed} = lag {lag}",
        ),
        table=({"partition": 0, "committed": committed, "end": end, "lag": lag},),
    )


def reading_without_committing_leaves_the_lag(bootstrap: str, namespace: Namespace) -> Proof:
    """The group committed 0; a consumer reads all 6 records and commits nothing: lag 6."""
    topic = _readings(bootstrap, namespace, {0: 6})
    group = namespace.group("reporting")
    kafka_io.commit_offsets_for_group(bootstrap, group, {(topic, 0): 0})
    seen = demo.read_without_commit(bootstrap, topic, group, partition=0)
    metric = seen["records-lag-max (the consumer's metric)"]
    lag = _lags(bootstrap, group)[0]
    observed = 2 if lag is None else {0: 0, 6: 1}.get(lag, 3)
    return Proof(
        observed=observed,
        lines=(
            f"the consumer read {seen['records read']} records; its position is "
            f"{seen['position']}, its own records-lag-max metric {metric}",
            f"the broker still holds the committed offset {seen['committed']}: the group's lag "
            f"is {lag}",
        ),
    )


def transaction_marker_counts_in_lag(bootstrap: str, namespace: Namespace) -> Proof:
    """3 records in one committed transaction; a group that has read none lags by 4."""
    topic = namespace.topic("transactional")
    kafka_io.create_topic(bootstrap, topic, partitions=1)
    written = demo.offsets_for_transactional_records(bootstrap, topic, count=3)
    group = namespace.group("reporting")
    kafka_io.commit_offsets_for_group(bootstrap, group, {(topic, 0): 0})
    lag = _lags(bootstrap, group)[0]
    return Proof(
        observed=lag if lag is not None else -1,
        lines=(
            f"{written['records written']} records written in one committed transaction; a "
            f"consumer reads {written['records read']} of them",
            f"end offset {written['end offset']}: the commit marker took an offset too, so a "
            f"group committed at 0 lags by {lag}",
        ),
    )


def default_reset_starts_at_the_end(bootstrap: str, namespace: Namespace) -> Proof:
    """A partition the group never committed: kafka-python's default starts at its end."""
    topic = _readings(bootstrap, namespace, {0: 6})
    group = namespace.group("reporting")
    starts = demo.starting_positions(bootstrap, topic, group, partition=0)
    default = starts["default (latest)"]
    end = kafka_io.end_offsets(bootstrap, topic)[0]
    observed = 0 if default == 0 else 1 if default == end else 2
    return Proof(
        observed=observed,
        lines=(
            f"the partition holds 6 records (end offset {end}); the group never committed there",
            f"a consumer with kafka-python's default auto_offset_reset ('latest') starts at "
            f"{default}, one with 'earliest' at {starts['earliest']}",
        ),
        table=tuple({"auto_offset_reset": k, "starting position": v} for k, v in starts.items()),
    )


def extra_consumer_sits_idle(bootstrap: str, namespace: Namespace) -> Proof:
    """Three consumers of one group on two partitions: one of them gets nothing."""
    topic = namespace.topic("clicks")
    kafka_io.create_topic(bootstrap, topic, partitions=2)
    group = namespace.group("crowd")
    # crowd() waits until every partition the group describes is assigned; a group that never
    # committed describes none, so that wait would end as soon as the group is Stable, maybe
    # before the assignments show. Committing offset 0 first makes both partitions count.
    kafka_io.commit_offsets_for_group(bootstrap, group, {(topic, 0): 0, (topic, 1): 0})
    assigned = demo.crowd(bootstrap, topic, group, 3)
    idle = [client for client, partitions in assigned.items() if not partitions]
    shared = sum(len(p) for p in assigned.values()) > 2
    observed = 2 if shared else 1 if len(idle) == 1 else 0
    return Proof(
        observed=observed,
        lines=(
            "3 consumers in one group on a 2-partition topic, once the group was Stable: "
            + ", ".join(f"{c} got {p or 'nothing'}" for c, p in assigned.items()),
            f"{len(idle)} consumer idle: a partition is read by one member of a group at a time",
        ),
        table=tuple({"consumer": c, "partitions": p} for c, p in assigned.items()),
        chart=Chart(
            title="partitions per consumer, 3 consumers on 2 partitions",
            x_label="consumer",
            y_label="partitions assigned",
            bars={client: float(len(p)) for client, p in assigned.items()},
        ),
    )


def new_partition_records_skipped_under_latest(bootstrap: str, namespace: Namespace) -> Proof:
    """The topic grows while its group runs with 'latest': what lands there first is skipped."""
    runs = {}
    for reset in ("latest", "earliest"):
        topic = namespace.topic(f"growing-{reset}")
        kafka_io.create_topic(bootstrap, topic, partitions=2)
        runs[reset] = demo.skipped_in_new_partitions(
            bootstrap, topic, namespace.group(f"growing-{reset}"), reset, deadline_s=10
        )
    read = runs["latest"]["read from partition 2"]
    return Proof(
        observed=-1 if read is None else read,  # None: it never got the new partition
        lines=(
            "a group member reads a 2-partition topic; it grows to 3, 5 records go to partition 2 "
            "before the member notices, 5 more after it owns the partition",
            f"auto_offset_reset='latest': read {read} of 10 from partition 2; 'earliest': read "
            f"{runs['earliest']['read from partition 2']} of 10",
        ),
        table=tuple(
            {"auto_offset_reset": k, "read from partition 2": v["read from partition 2"]}
            for k, v in runs.items()
        ),
    )


def partitions_cannot_be_removed(bootstrap: str, namespace: Namespace) -> Proof:
    """2 partitions grow to 4; asking for 2 again is refused."""
    topic = namespace.topic("readings")
    kafka_io.create_topic(bootstrap, topic, partitions=2)
    grown = demo.grow_partitions(bootstrap, topic, 4)
    answer = demo.try_shrink(bootstrap, topic, 2)
    info = kafka_io.describe_topic(bootstrap, topic)
    now = info.partitions if info else None
    observed = 1 if answer != "no error" and now == 4 else 0 if now == 2 else 2
    return Proof(
        observed=observed,
        lines=(
            f"create_partitions to 4: the topic has {grown} partitions",
            f"create_partitions to 2: the broker answered {answer}; the topic still has {now}",
        ),
    )


def reset_refused_while_the_group_has_members(bootstrap: str, namespace: Namespace) -> Proof:
    """Moving a group's offsets from outside is refused while it has a member; once it is
    closed, the reset to the end brings the lag to 0."""
    topic = _readings(bootstrap, namespace, {0: 10, 1: 6})
    group = namespace.group("reporting")
    demo.read_and_commit(bootstrap, topic, group, {0: 7, 1: 0})
    before = _lags(bootstrap, group)
    ends = kafka_io.end_offsets(bootstrap, topic)
    with demo.member_of(bootstrap, topic, group):
        try:
            kafka_io.commit_offsets_for_group(
                bootstrap, group, {(topic, p): end for p, end in ends.items()}
            )
            broker_said = "accepted"
        except RuntimeError as refusal:
            named = re.search(r"\w+Error", str(refusal))
            broker_said = named.group(0) if named else str(refusal)
        try:
            with GroupAdmin(bootstrap) as groups:
                groups.reset(group, ResetTarget("latest"))
            cli_said = "accepted"
        except GroupActive:
            cli_said = "refused: the group has an active member"
    with GroupAdmin(bootstrap) as groups:
        groups.reset(group, ResetTarget("latest"))
    after = _lags(bootstrap, group)
    refused = broker_said != "accepted" and cli_said != "accepted"
    observed = 1 if refused and all(lag == 0 for lag in after.values()) else 0
    return Proof(
        observed=observed,
        lines=(
            f"lag before: {before}",
            f"with a member running, an admin offset commit got {broker_said}; "
            f"`groups reset --to-latest` {cli_said}",
            f"after the member closed, the reset went through: lag {after}",
        ),
    )


def lag_is_read_and_skipped_from_outside(bootstrap: str, namespace: Namespace) -> Proof:
    """Diagnose lag from committed vs end offsets, then skip the old records with a reset."""
    topic = _readings(bootstrap, namespace, {0: 10, 1: 6})
    group = namespace.group("dashboard")
    demo.read_and_commit(bootstrap, topic, group, {0: 7, 1: 2})
    with GroupAdmin(bootstrap) as groups:
        before = groups.describe(group)
        moves = groups.reset(group, ResetTarget("latest"))
        after = groups.describe(group)
    diagnosed = {row.partition: row.lag for row in before.partitions}
    observed = 0 if diagnosed == {0: 3, 1: 4} and after.total_lag == 0 else 1
    return Proof(
        observed=observed,
        lines=(
            f"groups describe (no member joined to look): lag {diagnosed}, total "
            f"{before.total_lag}",
            "reset to latest while the group had no member: "
            + ", ".join(f"partition {m.partition} {m.before} -> {m.after}" for m in moves)
            + f"; total lag now {after.total_lag}",
        ),
        table=tuple(
            {"partition": row.partition, "committed": row.committed, "end": row.end, "lag": row.lag}
            for row in before.partitions
        ),
    )


PROOFS = {
    "lag_is_end_minus_committed": lag_is_end_minus_committed,
    "reading_without_committing_leaves_the_lag": reading_without_committing_leaves_the_lag,
    "transaction_marker_counts_in_lag": transaction_marker_counts_in_lag,
    "default_reset_starts_at_the_end": default_reset_starts_at_the_end,
    "extra_consumer_sits_idle": extra_consumer_sits_idle,
    "new_partition_records_skipped_under_latest": new_partition_records_skipped_under_latest,
    "partitions_cannot_be_removed": partitions_cannot_be_removed,
    "reset_refused_while_the_group_has_members": reset_refused_while_the_group_has_members,
    "lag_is_read_and_skipped_from_outside": lag_is_read_and_skipped_from_outside,
}
