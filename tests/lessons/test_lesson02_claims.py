"""What lesson 02 tells learners about partitioning, shown happening on the broker."""

from __future__ import annotations

from kafka import KafkaProducer
from kafka.partitioner import Partitioner, murmur2

from autograder.demos import lesson02 as demos
from autograder.grading import kafka_io

KEYS = [f"key-{n}" for n in range(40)]


def masked(key: str, partitions: int) -> int:
    return (murmur2(key.encode("utf-8")) & 0x7FFFFFFF) % partitions


LESSON = "02"  # for the `namespace` fixture (tests/conftest.py)


DEFAULT_PARTITIONS = 3  # for the `topic` fixture (tests/conftest.py)


def test_masked_murmur2_modulo_partitions_is_where_the_broker_stores_each_key(bootstrap, topic):
    stored = demos.broker_placement(bootstrap, topic("placed", partitions=5), KEYS)
    assert stored == {key: masked(key, 5) for key in KEYS}


def test_without_the_mask_exactly_the_keys_with_the_top_bit_set_are_predicted_wrongly(
    bootstrap, topic
):
    stored = demos.broker_placement(bootstrap, topic("mask", partitions=3), KEYS)
    wrong = {k for k in KEYS if murmur2(k.encode()) % 3 != stored[k]}
    top_bit = {k for k in KEYS if murmur2(k.encode()) & 0x80000000}
    assert wrong == top_bit and wrong  # 2**31 % 3 != 0: every top-bit key moves


def test_pythons_hash_of_a_string_differs_between_processes():
    assert len(set(demos.hash_in_fresh_processes("alice", processes=3))) > 1


def test_one_keys_records_share_one_partition_in_send_order(bootstrap, topic):
    found = demos.interleaved_keys(bootstrap, topic("interleaved"), ["alice", "bob", "chen"])
    for key, placed in found.items():
        assert placed["partitions"] == [masked(key, 3)]
        assert placed["sequence"] == [0, 1, 2, 3]


def test_the_default_partitioner_scatters_keyless_records_record_by_record(bootstrap, topic):
    placed = demos.keyless_send_order(bootstrap, topic("scattered"), count=60)
    assert len(placed) == 60
    assert {p for p, _ in placed} == {0, 1, 2}
    # Sticky batches of 12 would make 5 runs; draws per record make dozens.
    assert len(demos.runs(placed)) > 15


def test_the_producer_asks_again_when_a_keyless_record_would_open_a_new_batch(bootstrap, topic):
    keyless = demos.partitioner_calls(bootstrap, topic("calls"), count=40)
    assert keyless["records on the broker"] == 40
    # The very first record finds no batch anywhere, so there is always at least one re-ask.
    assert keyless["partitioner calls"] > 40


def test_the_producer_asks_the_partitioner_once_per_keyed_record(bootstrap, topic):
    keyed = demos.partitioner_calls(bootstrap, topic("calls-keyed"), count=40, keyed=True)
    assert keyed == {"records sent": 40, "records on the broker": 40, "partitioner calls": 40}


def test_the_sticky_partitioner_moves_on_only_when_a_batch_is_full(bootstrap, topic):
    placed = demos.keyless_send_order(
        bootstrap, topic("sticky"), count=40, sticky=True, batch_size=200
    )
    lengths = [n for _, n in demos.runs(placed)]
    assert len(lengths) > 1 and lengths[-1] <= max(lengths)
    # A full 200-byte batch holds about 12 of these records; on a slow machine a record's
    # timestamp delta can take one more byte, so a batch may hold one record fewer.
    assert min(lengths[:-1]) >= 8 and max(lengths) - min(lengths[:-1]) <= 2
    start = 0
    for length in lengths:  # each run is one stretch of consecutive offsets in one partition
        run = placed[start : start + length]
        assert [o for _, o in run] == list(range(run[0][1], run[0][1] + length))
        start += length


def test_bigger_batches_make_longer_sticky_runs(bootstrap, topic):
    small = demos.runs(
        demos.keyless_send_order(bootstrap, topic("small"), sticky=True, batch_size=200)
    )
    large = demos.runs(
        demos.keyless_send_order(bootstrap, topic("large"), sticky=True, batch_size=400)
    )
    assert large[0][1] > small[0][1] > 1


class _LastPartition(Partitioner):
    def partition(self, topic, key, serialized_key, value, serialized_value, cluster):
        return max(cluster.partitions_for_topic(topic))


def test_a_plugged_in_partitioner_alone_decides_the_partition(bootstrap, topic):
    stored = demos.broker_placement(
        bootstrap, topic("last"), KEYS[:10], partitioner=_LastPartition()
    )
    assert set(stored.values()) == {2}


def test_routing_by_a_skewed_region_makes_a_hot_partition(bootstrap, topic):
    counts = demos.region_traffic(
        bootstrap,
        topic("regions"),
        {"us": 160, "eu": 30, "apac": 6, "latam": 4},
        {"us": 0, "eu": 1},
        2,
    )
    assert counts == {0: 160, 1: 30, 2: 10}


def test_growing_a_topic_moves_keys_and_a_running_producer_does_not_notice(bootstrap, topic):
    users = [f"user-{n}" for n in range(10)]
    moves = demos.grow_topic(bootstrap, topic("growing"), users, 6)
    for key, (before, stale, after) in moves.items():
        assert before == masked(key, 3) and after == masked(key, 6)
        assert stale == before  # the old producer still works from three partitions
        assert after in (before, before + 3)
    moved = [key for key, (before, _, after) in moves.items() if after != before]
    assert moved  # so those keys' records now sit in two partitions
    assert len(moved) < len(users)


def test_a_topic_cannot_shrink(bootstrap, topic):
    name = topic("shrink", partitions=3)
    assert demos.try_shrink(bootstrap, name, partitions=2).startswith("InvalidPartitionsError")
    assert kafka_io.describe_topic(bootstrap, name).partitions == 3


def test_a_producer_refreshes_topic_layouts_every_five_minutes_by_default():
    assert KafkaProducer.DEFAULT_CONFIG["metadata_max_age_ms"] == 300000


def test_kafka_pythons_default_partitioner_is_not_sticky():
    from kafka.partitioner import DefaultPartitioner, StickyPartitioner

    assert isinstance(KafkaProducer.DEFAULT_CONFIG["partitioner"], DefaultPartitioner)
    assert not isinstance(KafkaProducer.DEFAULT_CONFIG["partitioner"], StickyPartitioner)


# Expected values from Kafka's own Java test suite (UtilsTest.testMurmur2), as signed ints.
JAVA_MURMUR2 = {
    "21": -973932308,
    "foobar": -790332482,
    "a-little-bit-long-string": -985981536,
    "a-little-bit-longer-string": -1486304829,
    "abc": 479470107,
    "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
}


def test_kafka_pythons_murmur2_is_the_java_clients_hash_read_unsigned():
    for text, java in JAVA_MURMUR2.items():
        assert murmur2(text.encode()) == java % 2**32


def test_without_the_mask_no_key_moves_when_the_partition_count_is_a_power_of_two(bootstrap, topic):
    stored = demos.broker_placement(bootstrap, topic("mask-pow2", partitions=4), KEYS)
    assert {k for k in KEYS if murmur2(k.encode()) % 4 != stored[k]} == set()


LESSON_KEYS = ["alice", "bob", "chen", "dana", "emeka", "farah"]


def test_librdkafkas_default_partitioner_places_keys_elsewhere(bootstrap, topic):
    ours = demos.broker_placement(bootstrap, topic("kp"), LESSON_KEYS)
    theirs = demos.librdkafka_placement(bootstrap, topic("rdkafka"), LESSON_KEYS)
    assert sum(ours[k] != theirs[k] for k in LESSON_KEYS) > len(LESSON_KEYS) // 2


def test_librdkafkas_murmur2_random_agrees_with_kafka_python(bootstrap, topic):
    ours = demos.broker_placement(bootstrap, topic("kp2"), KEYS)
    theirs = demos.librdkafka_placement(bootstrap, topic("rdkafka-m"), KEYS, "murmur2_random")
    assert theirs == ours
