"""What a consumer of each isolation level gets from a topic, and how far behind it stays."""

from __future__ import annotations

import time
from collections.abc import Iterable

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import OffsetSpec
from kafka.protocol.consumer.offsets import IsolationLevel

from autograder.grading.quiet import grader_busy

ISOLATION_LEVELS = ("read_uncommitted", "read_committed")
# Not the consumer's default of 305 s, and not so short that a busy broker fails a request.
FAST = {"request_timeout_ms": 30_000}


def reader(bootstrap: str, isolation_level: str, **settings) -> KafkaConsumer:
    """A consumer without a group: it reads what it is assigned, from where it is told."""
    return KafkaConsumer(
        bootstrap_servers=bootstrap,
        isolation_level=isolation_level,
        enable_auto_commit=False,
        **FAST,
        **settings,
    )


def close_quietly(
    client: KafkaConsumer | KafkaProducer | KafkaAdminClient, timeout_s: float = 5
) -> None:
    """Close a kafka-python client without its log lines (closing cancels a metadata refresh
    still under way, and kafka-python logs that as an error although nothing went wrong)."""
    with grader_busy():
        if isinstance(client, KafkaProducer):
            client.close(timeout=timeout_s)
        elif isinstance(client, KafkaConsumer):  # never commit on the way out: demos commit
            client.close(autocommit=False)  # on purpose only
        else:
            client.close()


def _read_records(
    bootstrap: str, topic: str, isolation_level: str, deadline_s: float
) -> list[tuple[int, int, str]]:
    consumer = reader(bootstrap, isolation_level)
    try:
        partitions = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))
        ]
        consumer.assign(partitions)
        # The consumer's own end offsets follow its isolation level: the last stable offsets
        # under read_committed. Positions, not record counts, say when to stop, since markers
        # and aborted records take offsets that no record is returned for.
        ends = consumer.end_offsets(partitions)
        consumer.seek_to_beginning(*partitions)
        found: list[tuple[int, int, str]] = []
        stop_at = time.monotonic() + deadline_s
        while time.monotonic() < stop_at and any(
            consumer.position(tp) < ends[tp] for tp in partitions
        ):
            for tp, records in consumer.poll(timeout_ms=200).items():
                found += [
                    (r.partition, r.offset, r.value.decode())
                    for r in records
                    if r.offset < ends[tp]
                ]
        return sorted(found)
    finally:
        close_quietly(consumer)


def read_records(
    bootstrap: str, topic: str, isolation_level: str = "read_uncommitted", deadline_s: float = 10.0
) -> list[tuple[int, int, str]]:
    """(partition, offset, value) of every record a consumer of ``isolation_level`` gets from
    the start of ``topic``, up to the end offsets of that level when the call starts: the last
    stable offsets under read_committed, since a consumer of that level is served nothing
    beyond them. Stops at the deadline with what it has."""
    # Quiet: on a busy machine kafka-python warns about its own event loop being slow, which
    # says nothing about what is read.
    with grader_busy():
        return _read_records(bootstrap, topic, isolation_level, deadline_s)


def read_values(
    bootstrap: str, topic: str, isolation_level: str = "read_uncommitted", deadline_s: float = 10.0
) -> list[str]:
    """The values of ``read_records``, in partition then offset order."""
    return [value for _, _, value in read_records(bootstrap, topic, isolation_level, deadline_s)]


def both_views(bootstrap: str, topics: Iterable[str]) -> dict[str, dict[str, list[str]]]:
    """isolation level -> topic -> the values a consumer of that level reads."""
    topics = list(topics)
    return {
        level: {topic: read_values(bootstrap, topic, level) for topic in topics}
        for level in ISOLATION_LEVELS
    }


def end_and_stable_offsets(bootstrap: str, topic: str) -> dict[str, dict[int, int]]:
    """Each partition's end offset (high watermark) and last stable offset, from the broker."""
    with OffsetWatch(bootstrap, topic) as watch:
        return watch.bounds()


class OffsetWatch:
    """One admin client asking the broker, as often as needed, for a topic's end offsets and
    last stable offsets (a ListOffsets request per isolation level)."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        with grader_busy():
            self._admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=6000)
            try:
                [described] = self._admin.describe_topics([topic])
            except BaseException:
                close_quietly(self._admin)
                raise
        self._partitions = sorted(
            TopicPartition(topic, p["partition_index"]) for p in described["partitions"]
        )

    def bounds(self) -> dict[str, dict[int, int]]:
        """{"end offset": {partition: offset}, "last stable offset": {partition: offset}}."""
        found = {}
        with grader_busy():
            for label, level in (
                ("end offset", IsolationLevel.READ_UNCOMMITTED),
                ("last stable offset", IsolationLevel.READ_COMMITTED),
            ):
                answer = self._admin.list_partition_offsets(
                    {tp: OffsetSpec.LATEST for tp in self._partitions}, isolation_level=level
                )
                found[label] = {tp.partition: answer[tp].offset for tp in self._partitions}
        return found

    def __enter__(self) -> OffsetWatch:
        return self

    def __exit__(self, *exc) -> None:
        close_quietly(self._admin)
