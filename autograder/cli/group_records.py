"""A group's generation and epochs, read from the group coordinator's own log, __consumer_offsets.

Neither describe API gives a classic group's generation: DescribeGroups has no such field, and
Kafka's own `kafka-consumer-groups --describe --members --verbose` prints `-` there. The
coordinator does write it down, though: after every rebalance it appends the group's metadata
(protocol type, generation, assignor, members) to its partition of __consumer_offsets, which is
how a new coordinator rebuilds the group after a failover. A consumer-protocol group (KIP-848)
keeps its group epoch, its target assignment epoch and each member's epoch there the same way.
This module reads those records back, the latest of each, like Kafka's
`GroupMetadataMessageFormatter` does.

Only the first fields of each record are decoded; the formats are those of Kafka's
`group-coordinator` record schemas:

* key: int16 record type, then the group id (int16-length string; type 8 adds the member id).
  Types 0 and 1 are committed offsets, 2 a classic group's metadata, 3 a consumer group's
  metadata (its epoch), 6 its target assignment metadata (the assignment epoch), 8 a member's
  current assignment (its member epoch).
* value: int16 version, then for type 2 the protocol type (a string; compact from version 4)
  followed by the int32 generation, and for types 3, 6 and 8 the int32 epoch at once. A value of
  null (a tombstone) means the group or member was deleted.

The stored generation is that of the last completed rebalance: while a classic group is
rebalancing (PreparingRebalance, CompletingRebalance), the coordinator's next generation is not
written yet.
"""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass, field

from kafka import KafkaConsumer, TopicPartition

OFFSETS_TOPIC = "__consumer_offsets"
CLASSIC_GROUP = 2
CONSUMER_GROUP = 3
TARGET_ASSIGNMENT = 6
MEMBER_ASSIGNMENT = 8
GROUP_SEEN = b"group"  # marks, in a scan's `seen` keys, that the group's latest record was met
WINDOW = 2000  # records read per step backwards from the end of the partition
DEADLINE_S = 5.0


@dataclass
class GroupRecords:
    """What the coordinator last wrote about one group; None where nothing was found."""

    generation: int | None = None  # classic generation, or a consumer group's group epoch
    target_epoch: int | None = None  # consumer groups only: the target assignment's epoch
    member_epochs: dict[str, int] = field(default_factory=dict)  # consumer groups only


def java_string_hash(text: str) -> int:
    """Java's String.hashCode (over UTF-16 code units), as a signed 32-bit int."""
    units = text.encode("utf-16-be")
    value = 0
    for i in range(0, len(units), 2):
        value = (31 * value + int.from_bytes(units[i : i + 2], "big")) & 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def offsets_partition(group: str, partitions: int) -> int:
    """The partition of __consumer_offsets that holds ``group`` (Kafka's Utils.abs(hash) % n)."""
    hashed = java_string_hash(group)
    return (0 if hashed == -(1 << 31) else abs(hashed)) % partitions


def _string(data: bytes, at: int) -> tuple[str, int]:
    (length,) = struct.unpack_from(">h", data, at)
    start = at + 2
    return data[start : start + length].decode(), start + length


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7


def _generation(value: bytes) -> int:
    """The generation in a classic group's metadata value (any version)."""
    (version,) = struct.unpack_from(">h", value, 0)
    if version >= 4:  # flexible versions: the protocol type is a compact string
        length, at = _varint(value, 2)
        at += max(length - 1, 0)
    else:
        _, at = _string(value, 2)
    return struct.unpack_from(">i", value, at)[0]


def _apply(found: GroupRecords, seen: set, group: str, key: bytes, value: bytes | None) -> None:
    """Fold one record into ``found`` unless a later record of the same key was seen."""
    (kind,) = struct.unpack_from(">h", key, 0)
    if kind not in (CLASSIC_GROUP, CONSUMER_GROUP, TARGET_ASSIGNMENT, MEMBER_ASSIGNMENT):
        return
    owner, at = _string(key, 2)
    if owner != group or key in seen:
        return
    seen.add(key)  # the scan goes backwards: the first record of a key met is its latest
    # A group upgraded from classic to the consumer protocol (or back) has records of both
    # kinds: only the latest of either (a tombstone included) says what the group is now.
    if kind in (CLASSIC_GROUP, CONSUMER_GROUP):
        if GROUP_SEEN in seen:
            return
        seen.add(GROUP_SEEN)
    if value is None:
        return
    if kind in (CLASSIC_GROUP, CONSUMER_GROUP):
        found.generation = (
            _generation(value) if kind == CLASSIC_GROUP else struct.unpack_from(">i", value, 2)[0]
        )
    elif kind == TARGET_ASSIGNMENT:
        found.target_epoch = struct.unpack_from(">i", value, 2)[0]
    elif kind == MEMBER_ASSIGNMENT:
        member, _ = _string(key, at)
        found.member_epochs[member] = struct.unpack_from(">i", value, 2)[0]


def read_group_records(
    bootstrap: str, group: str, members: tuple[str, ...] = (), deadline_s: float = DEADLINE_S
) -> GroupRecords:
    """The latest generation (or group epoch) the coordinator wrote for ``group``, and for a
    consumer-protocol group its target epoch and the epochs of ``members``.

    Reads its partition of __consumer_offsets backwards, WINDOW records at a time, until the
    group's record and every member's are found, the partition's start is reached, or
    ``deadline_s`` passes (what was found by then is returned). Never joins a group.
    """
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        client_id="kafka-course-groups",
        enable_auto_commit=False,
        request_timeout_ms=5000,
    )
    try:
        count = len(consumer.partitions_for_topic(OFFSETS_TOPIC) or ())
        found = GroupRecords()
        if not count:
            return found
        tp = TopicPartition(OFFSETS_TOPIC, offsets_partition(group, count))
        consumer.assign([tp])
        first = consumer.beginning_offsets([tp])[tp]
        stop = consumer.end_offsets([tp])[tp]
        seen: set = set()
        give_up = time.monotonic() + deadline_s
        window = WINDOW
        while stop > first and time.monotonic() < give_up:
            start = max(first, stop - window)
            for key, value in reversed(_read(consumer, tp, start, stop, give_up)):
                _apply(found, seen, group, key, value)
            wanted = set(members) - set(found.member_epochs)
            if GROUP_SEEN in seen and not wanted:
                break
            stop, window = start, window * 2
        return found
    finally:
        consumer.close()


def _read(
    consumer: KafkaConsumer, tp: TopicPartition, start: int, stop: int, give_up: float
) -> list[tuple[bytes, bytes | None]]:
    """(key, value) of the records from offset ``start`` up to ``stop``, in log order."""
    consumer.seek(tp, start)
    records: list[tuple[bytes, bytes | None]] = []
    while consumer.position(tp) < stop and time.monotonic() < give_up:
        for record in consumer.poll(timeout_ms=500).get(tp, []):
            if record.offset < stop and record.key is not None:
                records.append((record.key, record.value))
    return records
