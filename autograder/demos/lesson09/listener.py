"""A rebalance in the middle of a stream, with and without a ConsumerRebalanceListener that
saves progress when partitions are taken away."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import replace

from autograder.demos.lesson09.members import Group, MemberSpec, covers, topic_partitions
from autograder.grading import kafka_io

VARIANTS = {
    # label: how the members keep their progress
    "no listener (commit every 10 s)": "periodic",
    "commit in on_partitions_revoked": "listener",
    "own store: save on revoke, seek on assign": "store",
}


def fill(bootstrap: str, topic: str, partitions: int, per_partition: int) -> int:
    """``per_partition`` small records in each partition; how many in all."""
    kafka_io.append_to_partitions(
        bootstrap,
        topic,
        [(p, None, b"event %d" % n) for p in range(partitions) for n in range(per_partition)],
    )
    return partitions * per_partition


def mid_stream_join(
    bootstrap: str, topic: str, group_id: str, commit: str, records: int
) -> dict[str, int]:
    """Member a reads the two-partition topic alone (10 ms a record, committing every 10 s, so not
    before b joins);
    once it has handled 15 records of partition 1, b joins, and the range assignor hands b
    partition 1. Both run until every record was handled. Returns how many records were
    handled, and how many of them more than once."""
    parts = topic_partitions(topic, 2)
    spec = MemberSpec(
        topics=(topic,), handle_s=0.01, max_poll_records=10, commit=commit, commit_every_s=10.0
    )
    with Group(bootstrap, group_id, spec) as group:
        if commit == "store":
            group.spec = replace(spec, store_path=str(group.folder / "offsets.db"))
        group.add("a")
        on_one = lambda: sum(1 for _, p, _, _ in group.processed() if p == 1)  # noqa: E731
        if not group.wait_until(lambda: on_one() >= 15, 30):
            print(f"  ! a handled only {on_one()} records of partition 1 in 30 s")
        group.add("b")
        distinct = lambda: len({(p, o) for _, p, o, _ in group.processed()})  # noqa: E731
        both = lambda: covers(group.owned_now(), parts, 2)  # noqa: E731
        if not group.wait_until(lambda: distinct() >= records and both(), 40):
            print(f"  ! after 40 s only {distinct()} of {records} records were handled")
        # Then let b read whatever it starts on (from the last commit) until nothing new comes.
        seen = [len(group.processed())]

        def quiet_for_a_second() -> bool:
            time.sleep(1.0)
            seen.append(len(group.processed()))
            return seen[-1] == seen[-2]

        group.wait_until(quiet_for_a_second, 20)
        group.close_all()
        handled = Counter((p, o) for _, p, o, _ in group.processed())
        return {
            "records": records,
            "handled": sum(handled.values()),
            "handled twice": sum(1 for n in handled.values() if n > 1),
        }


def compare(bootstrap: str, topic: str, prefix: str, records: int) -> dict[str, dict[str, int]]:
    """``mid_stream_join`` for each of VARIANTS, each with its own group on the same records."""
    return {
        label: mid_stream_join(bootstrap, topic, f"{prefix}-{n}", commit, records)
        for n, (label, commit) in enumerate(VARIANTS.items())
    }


def print_table(rows: dict[str, dict]) -> None:
    """A small table: one row per label, one column per key."""
    columns = list(next(iter(rows.values())))
    width = max(len(label) for label in rows)
    sizes = [max(len(c), *(len(str(r[c])) for r in rows.values())) + 2 for c in columns]
    print(" " * width + "".join(f"{c:>{n}}" for c, n in zip(columns, sizes, strict=True)))
    for label, row in rows.items():
        print(
            f"{label:<{width}}"
            + "".join(f"{str(row[c]):>{n}}" for c, n in zip(columns, sizes, strict=True))
        )
