"""Proofs of lesson 02's drills (keys and partitioning): where keyed and keyless records land,
what growing or shrinking a topic does, hot partitions, and clients that hash keys differently.

Each proof runs lesson 02's own demonstrations (autograder.demos.lesson02) on fresh topics; every
partition it reports is the one the broker stored the record in.
"""

from __future__ import annotations

from autograder.demos import lesson02 as demos
from autograder.drills.proof import Chart, Proof
from autograder.grading import kafka_io
from autograder.grading.namespace import Namespace

USERS = [f"user-{n}" for n in range(10)]


def _topic(bootstrap: str, namespace: Namespace, name: str, partitions: int = 3) -> str:
    topic = namespace.topic(name)
    kafka_io.create_topic(bootstrap, topic, partitions)
    return topic


def key_sticks_to_one_partition(bootstrap: str, namespace: Namespace) -> Proof:
    """20 records keyed user123 into a 4-partition topic: the partitions that hold them, and
    their order there."""
    topic = _topic(bootstrap, namespace, "user123", partitions=4)
    kafka_io.append_keyed(bootstrap, topic, [("user123", b"%d" % n) for n in range(20)])
    stored = kafka_io.read_all(bootstrap, topic)
    partitions = sorted({r.partition for r in stored})
    in_order = [r.value for r in stored] == [b"%d" % n for n in range(20)]
    where = (
        f"partition {partitions[0]} all {len(stored)} times"
        if len(partitions) == 1
        else f"partitions {partitions}"
    )
    return Proof(
        observed=len(partitions),
        lines=(
            f"user123 went to {where}",
            f"read back in offset order, the records are in send order: {in_order}",
        ),
    )


def running_producer_keeps_old_partitions(bootstrap: str, namespace: Namespace) -> Proof:
    """Ten keys into a 3-partition topic, grown to 6; the same keys again from the producer that
    was already running, and from a new one."""
    moves = demos.grow_topic(bootstrap, _topic(bootstrap, namespace, "grown"), USERS, 6)
    moved = {k: v for k, v in moves.items() if v[2] != v[0]}
    stale_kept = all(stale == before for before, stale, _after in moves.values())
    stale_followed = bool(moved) and all(v[1] == v[2] for v in moved.values())
    observed = 0 if stale_kept else 1 if stale_followed else 2
    return Proof(
        observed=observed,
        lines=(
            f"after the growth to 6 partitions, {len(moved)} of {len(moves)} keys go elsewhere "
            "from a new producer",
            "the producer that was running sent "
            + ("every key to its old partition" if stale_kept else "some keys to new partitions"),
        ),
        table=tuple(
            {"key": key, "before": before, "running producer": stale, "new producer": after}
            for key, (before, stale, after) in moves.items()
        ),
    )


def moved_keys_go_from_p_to_p_plus_3(bootstrap: str, namespace: Namespace) -> Proof:
    """Ten keys into a 3-partition topic grown to 6: which keys a new producer places elsewhere,
    and where."""
    moves = demos.grow_topic(bootstrap, _topic(bootstrap, namespace, "doubled"), USERS, 6)
    moved = {k: (v[0], v[2]) for k, v in moves.items() if v[2] != v[0]}
    if not moved:
        observed = 2
    elif len(moved) == len(moves):
        observed = 3
    elif all(after == before + 3 for before, after in moved.values()):
        observed = 1
    else:
        observed = 0
    return Proof(
        observed=observed,
        lines=(
            f"{len(moved)} of {len(moves)} keys moved after growing from 3 to 6 partitions",
            "moves: " + (", ".join(f"{k} {a}->{b}" for k, (a, b) in moved.items()) or "none"),
        ),
    )


def librdkafka_hashes_keys_differently(bootstrap: str, namespace: Namespace) -> Proof:
    """Twelve keys through kafka-python (murmur2, as Java does), through confluent-kafka with its
    default partitioner and with partitioner=murmur2_random; where the broker stored each."""
    keys = [f"customer-{n}" for n in range(12)]
    java_like = demos.broker_placement(bootstrap, _topic(bootstrap, namespace, "kp"), keys)
    default = demos.librdkafka_placement(bootstrap, _topic(bootstrap, namespace, "rdk"), keys)
    murmur = demos.librdkafka_placement(
        bootstrap, _topic(bootstrap, namespace, "rdk-murmur"), keys, partitioner="murmur2_random"
    )
    differ = sum(default[k] != java_like[k] for k in keys)
    agree = all(murmur[k] == java_like[k] for k in keys)
    observed = 0 if differ == 0 else 1 if agree else 2
    return Proof(
        observed=observed,
        lines=(
            f"librdkafka's default (consistent_random) put {differ} of 12 keys in another "
            "partition than kafka-python",
            f"with partitioner=murmur2_random all 12 agree with kafka-python: {agree}",
        ),
        table=tuple(
            {
                "key": k,
                "kafka-python": java_like[k],
                "consistent_random": default[k],
                "murmur2_random": murmur[k],
            }
            for k in keys
        ),
    )


def topic_cannot_shrink(bootstrap: str, namespace: Namespace) -> Proof:
    """A 3-partition topic with a record in partition 2, asked to go down to 2 partitions."""
    topic = _topic(bootstrap, namespace, "shrink")
    kafka_io.append_to_partitions(bootstrap, topic, [(2, None, b"kept")])
    answer = demos.try_shrink(bootstrap, topic, 2)
    info = kafka_io.describe_topic(bootstrap, topic)
    count = info.partitions if info else 0
    still = kafka_io.end_offsets(bootstrap, topic).get(2, 0)
    if answer.startswith("InvalidPartitionsError") and count == 3:
        observed = 0
    else:
        observed = 2 if count == 2 and not still else 1
    return Proof(
        observed=observed,
        lines=(
            f"asking for 2 partitions was answered: {answer}",
            f"the topic still has {count} partitions, partition 2 still holds {still} record(s)",
        ),
    )


def hot_partition_stays_hot(bootstrap: str, namespace: Namespace) -> Proof:
    """200 events routed by region (us -> 0, eu -> 1, the rest -> 2), 160 of them from the US,
    into a topic of 6 partitions rather than 3."""
    counts = demos.region_traffic(
        bootstrap,
        _topic(bootstrap, namespace, "regions", partitions=6),
        {"us": 160, "eu": 30, "apac": 6, "latam": 4},
        {"us": 0, "eu": 1},
        2,
    )
    total = sum(counts.values())
    share = counts.get(0, 0) / total if total else 0.0
    observed = 0 if share >= 0.75 else 1 if 0.3 <= share <= 0.5 else 2
    return Proof(
        observed=observed,
        lines=(
            f"with 6 partitions, partition 0 holds {counts.get(0, 0)} of {total} records "
            f"({share:.0%})",
            "partitions 3, 4 and 5 hold "
            + ", ".join(str(counts.get(p, 0)) for p in (3, 4, 5))
            + ": the partitioner never picks them",
        ),
        chart=Chart(
            title="Records per partition, region routing, 6 partitions",
            x_label="partition",
            y_label="records",
            bars={str(p): n for p, n in counts.items()},
        ),
    )


def default_partitioner_picks_at_random(bootstrap: str, namespace: Namespace) -> Proof:
    """40 keyless records in one burst through kafka-python's default partitioner, then through
    the sticky one; the partition each landed in, in send order."""
    default = demos.keyless_send_order(bootstrap, _topic(bootstrap, namespace, "keyless"), 40)
    sticky = demos.keyless_send_order(
        bootstrap, _topic(bootstrap, namespace, "sticky"), 40, sticky=True
    )
    partitions = [p for p, _ in default]
    runs = demos.runs(default)
    if len(set(partitions)) == 1:
        observed = 3
    elif all(p == (partitions[0] + n) % 3 for n, p in enumerate(partitions)):
        observed = 0
    elif len(runs) <= len(partitions) // 8:
        observed = 2
    else:
        observed = 1
    return Proof(
        observed=observed,
        lines=(
            f"default partitioner: {len(runs)} runs of consecutive records in one partition, "
            f"the longest {max(n for _, n in runs)}",
            f"StickyPartitioner, same burst: {len(demos.runs(sticky))} runs "
            f"{[n for _, n in demos.runs(sticky)]}",
        ),
        chart=Chart(
            title="Partition of each keyless record, in send order",
            x_label="record number",
            y_label="partition",
            series={
                "DefaultPartitioner": tuple((n, p) for n, (p, _) in enumerate(default)),
                "StickyPartitioner": tuple((n, p) for n, (p, _) in enumerate(sticky)),
            },
        ),
    )


def python_hash_differs_per_process(bootstrap: str, namespace: Namespace) -> Proof:
    """Python's hash("alice") in three fresh interpreters, against the partition murmur2 gives
    it on the broker in two separate producers."""
    hashes = demos.hash_in_fresh_processes("alice", processes=3)
    topic = _topic(bootstrap, namespace, "alice")
    first = demos.broker_placement(bootstrap, topic, ["alice"])["alice"]
    kafka_io.append_keyed(bootstrap, topic, [("alice", b"again")])
    stored = {r.partition for r in kafka_io.read_all(bootstrap, topic)}
    observed = 1 if len(set(hashes)) > 1 else 0
    return Proof(
        observed=observed,
        lines=(
            f"hash('alice') in three fresh processes: {hashes}",
            f"two producers with murmur2 put alice in partition(s) {sorted(stored)} "
            f"(the first in {first})",
        ),
    )


PROOFS = {
    "key_sticks_to_one_partition": key_sticks_to_one_partition,
    "running_producer_keeps_old_partitions": running_producer_keeps_old_partitions,
    "moved_keys_go_from_p_to_p_plus_3": moved_keys_go_from_p_to_p_plus_3,
    "librdkafka_hashes_keys_differently": librdkafka_hashes_keys_differently,
    "topic_cannot_shrink": topic_cannot_shrink,
    "hot_partition_stays_hot": hot_partition_stays_hot,
    "default_partitioner_picks_at_random": default_partitioner_picks_at_random,
    "python_hash_differs_per_process": python_hash_differs_per_process,
}
