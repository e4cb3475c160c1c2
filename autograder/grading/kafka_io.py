"""The only module that talks to Kafka on the grader's behalf.

Checks read the broker through these functions and never through anything the learner's
code created, so what they judge is what the broker really holds. Every call is bounded by a
deadline: a check never hangs a notebook. Clients are kept open per broker address and reused
(kafka-python spends about 100 ms on a fresh client's first request), one call at a time each.
"""

from __future__ import annotations

import atexit
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic, OffsetSpec
from kafka.protocol.consumer.offsets import IsolationLevel

from autograder.grading.quiet import grader_busy, route_kafka_logs_to_stdout

route_kafka_logs_to_stdout()

REQUEST_TIMEOUT_MS = 5000
BOOTSTRAP_TIMEOUT_MS = 4000


class BrokerUnreachable(Exception):
    """The broker did not answer in time; str() says how to start it."""


@dataclass(frozen=True)
class StoredRecord:
    """One record as the broker holds it."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    timestamp: int

    @property
    def key_text(self) -> str | None:
        return None if self.key is None else self.key.decode("utf-8", "replace")

    @property
    def value_text(self) -> str:
        """The value as UTF-8 text; raises ValueError for a null value (a tombstone)."""
        if self.value is None:
            raise ValueError("the value is empty (null)")
        return self.value.decode("utf-8")

    def value_json(self):
        """The value parsed as JSON; raises ValueError when it is not JSON text."""
        return json.loads(self.value_text)


@dataclass(frozen=True)
class TopicInfo:
    name: str
    partitions: int
    replication_factor: int
    configs: dict[str, str]


# kafka-python ships no type hints: to mypy its clients are Any.
_KafkaClient = Any

_KINDS: dict[str, tuple[Callable[..., _KafkaClient], dict[str, object]]] = {
    "admin": (KafkaAdminClient, {}),
    "consumer": (KafkaConsumer, {"enable_auto_commit": False}),
    "consumer-committed": (
        KafkaConsumer,
        {"enable_auto_commit": False, "isolation_level": "read_committed"},
    ),
    "producer": (KafkaProducer, {"max_block_ms": REQUEST_TIMEOUT_MS}),
}
_open: dict[tuple[str, str], tuple[_KafkaClient, threading.Lock]] = {}
_open_guard = threading.Lock()


def _unreachable(bootstrap: str, error: Exception) -> BrokerUnreachable:
    return BrokerUnreachable(
        f"no Kafka broker answers at {bootstrap} ({type(error).__name__}); "
        "start one with `kafka-course broker up` and run this cell again"
    )


@contextmanager
def _client(kind: str, bootstrap: str) -> Iterator[_KafkaClient]:
    """A cached client of ``kind`` for ``bootstrap``, used by one caller at a time.

    A client that failed is closed and forgotten, so the next call starts afresh (the broker may
    have restarted in between).
    """
    key = (kind, bootstrap)
    with grader_busy(), _open_guard:
        entry = _open.get(key)
        if entry is None:
            client_class, settings = _KINDS[kind]
            try:
                # A short bootstrap timeout: with the broker down, say so in seconds, not 30.
                client = client_class(
                    bootstrap_servers=bootstrap,
                    client_id="kafka-course-grader",
                    request_timeout_ms=REQUEST_TIMEOUT_MS + 1000,
                    bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
                    **settings,
                )
            except Exception as error:  # kafka-python raises NoBrokersAvailable and friends
                raise _unreachable(bootstrap, error) from None
            entry = _open[key] = (client, threading.Lock())
    client, lock = entry
    with lock, grader_busy():
        try:
            yield client
        except BrokerUnreachable:
            raise
        except Exception:
            _forget(key)
            raise


def _forget(key: tuple[str, str]) -> None:
    with _open_guard:
        entry = _open.pop(key, None)
    if entry is not None:
        try:
            entry[0].close()
        except Exception:
            pass


@atexit.register
def close_all() -> None:
    for key in list(_open):
        _forget(key)


def close_for(bootstrap: str) -> None:
    """Close the cached clients of one cluster, before it goes away: none is left retrying."""
    for key in [key for key in list(_open) if key[1] == bootstrap]:
        _forget(key)


def _admin_call(bootstrap: str, action):
    try:
        with _client("admin", bootstrap) as admin:
            return action(admin)
    except BrokerUnreachable:
        raise
    except Exception as error:
        if type(error).__name__ in (
            "NoBrokersAvailable",
            "KafkaConnectionError",
            "KafkaTimeoutError",
            "RequestTimedOutError",
        ):
            raise _unreachable(bootstrap, error) from None
        raise


def ping(bootstrap: str) -> int:
    """The number of brokers in the cluster; raises BrokerUnreachable when none answers."""
    return _admin_call(bootstrap, lambda admin: len(admin.describe_cluster()["brokers"]))


def create_topic(
    bootstrap: str, name: str, partitions: int, configs: dict[str, str] | None = None
) -> None:
    topic = NewTopic(name, partitions, 1, topic_configs=configs or {})
    _admin_call(
        bootstrap, lambda admin: admin.create_topics([topic], timeout_ms=REQUEST_TIMEOUT_MS)
    )


def list_topics(bootstrap: str) -> set[str]:
    return set(_admin_call(bootstrap, lambda admin: admin.list_topics()))


def describe_topic(bootstrap: str, name: str) -> TopicInfo | None:
    """The topic's partition count, replication factor and non-default configs; None if absent."""

    def describe(admin):
        if name not in admin.list_topics():
            return None
        [topic] = admin.describe_topics([name])
        partitions = topic["partitions"]
        resource = ConfigResource(ConfigResourceType.TOPIC, name)
        configs = admin.describe_configs([resource])["topic"].get(name, {})
        return TopicInfo(
            name=name,
            partitions=len(partitions),
            replication_factor=len(partitions[0]["replica_nodes"]) if partitions else 0,
            configs={key: entry["value"] for key, entry in configs.items()},
        )

    return _admin_call(bootstrap, describe)


def _topic_partitions(bootstrap: str, topic: str) -> list[TopicPartition]:
    def partitions(admin):
        if topic not in admin.list_topics():
            return []
        [described] = admin.describe_topics([topic])
        return [TopicPartition(topic, p["partition_index"]) for p in described["partitions"]]

    return sorted(_admin_call(bootstrap, partitions))


def end_offsets(bootstrap: str, topic: str, isolation: str = "read_uncommitted") -> dict[int, int]:
    """partition -> the offset the next record written there will get (the last stable
    offset under ``read_committed``)."""
    partitions = _topic_partitions(bootstrap, topic)
    if not partitions:
        return {}
    level = (
        IsolationLevel.READ_COMMITTED
        if isolation == "read_committed"
        else IsolationLevel.READ_UNCOMMITTED
    )
    found = _admin_call(
        bootstrap,
        lambda admin: admin.list_partition_offsets(
            {tp: OffsetSpec.LATEST for tp in partitions}, isolation_level=level
        ),
    )
    return {tp.partition: answer.offset for tp, answer in found.items()}


def read_all(
    bootstrap: str, topic: str, deadline_s: float = 5.0, isolation: str = "read_uncommitted"
) -> list[StoredRecord]:
    """Every record in the topic, partition by partition in offset order.

    Reads up to the end offsets taken when the call starts, so a producer still writing does not
    keep it going; stops at the deadline with what it has.
    """
    ends = end_offsets(bootstrap, topic, isolation)
    wanted = [TopicPartition(topic, p) for p, end in ends.items() if end > 0]
    if not wanted:
        return []
    kind = "consumer-committed" if isolation == "read_committed" else "consumer"
    records: list[StoredRecord] = []
    with _client(kind, bootstrap) as consumer:
        consumer.assign(wanted)
        consumer.seek_to_beginning(*wanted)
        stop_at = time.monotonic() + deadline_s
        # Positions, not record counts, say when to stop: transaction markers take offsets too.
        while wanted and time.monotonic() < stop_at:
            for tp, batch in consumer.poll(timeout_ms=200).items():
                records += [
                    StoredRecord(
                        tp.partition,
                        r.offset,
                        r.key,
                        r.value,
                        tuple((k, v) for k, v in (r.headers or [])),
                        r.timestamp,
                    )
                    for r in batch
                    if r.offset < ends[tp.partition]
                ]
            wanted = [tp for tp in wanted if consumer.position(tp) < ends[tp.partition]]
        consumer.assign([])
    return sorted(records, key=lambda r: (r.partition, r.offset))


def committed_offsets(bootstrap: str, group: str) -> dict[tuple[str, int], int]:
    """(topic, partition) -> the group's committed offset."""
    offsets = _admin_call(bootstrap, lambda admin: admin.list_group_offsets({group: None}))
    return {
        (tp.topic, tp.partition): meta.offset
        for tp, meta in offsets.get(group, {}).items()
        if meta.offset >= 0
    }


def append_json(bootstrap: str, topic: str, key: str, value: dict) -> None:
    """Write one JSON record and wait until the broker has it."""
    with _client("producer", bootstrap) as producer:
        producer.send(topic, key=key.encode(), value=json.dumps(value).encode()).get(
            timeout=REQUEST_TIMEOUT_MS / 1000
        )


def append_keyed(bootstrap: str, topic: str, records: list[tuple[str, bytes]]) -> None:
    """Write (key, value) records with kafka-python's default partitioner (murmur2 of the
    UTF-8 key) and wait until the broker has them all."""
    with _client("producer", bootstrap) as producer:
        futures = [producer.send(topic, key=key.encode(), value=value) for key, value in records]
        producer.flush(timeout=REQUEST_TIMEOUT_MS / 1000)
        for future in futures:
            future.get(timeout=REQUEST_TIMEOUT_MS / 1000)


def append_to_partitions(
    bootstrap: str, topic: str, records: list[tuple[int, str | None, bytes]]
) -> None:
    """Write (partition, key, value) records, each to the partition named, and wait until the
    broker has them all."""
    with _client("producer", bootstrap) as producer:
        futures = [
            producer.send(
                topic, partition=partition, key=None if key is None else key.encode(), value=value
            )
            for partition, key, value in records
        ]
        producer.flush(timeout=REQUEST_TIMEOUT_MS / 1000)
        for future in futures:
            future.get(timeout=REQUEST_TIMEOUT_MS / 1000)


def append_stamped(bootstrap: str, topic: str, records: list[tuple[int, bytes, int]]) -> None:
    """Write (partition, value, timestamp_ms) records, each to the partition named and carrying
    the timestamp given (CreateTime), and wait until the broker has them all."""
    with _client("producer", bootstrap) as producer:
        futures = [
            producer.send(topic, partition=partition, value=value, timestamp_ms=timestamp_ms)
            for partition, value, timestamp_ms in records
        ]
        producer.flush(timeout=REQUEST_TIMEOUT_MS / 1000)
        for future in futures:
            future.get(timeout=REQUEST_TIMEOUT_MS / 1000)


def _partition_leaders(admin, topic: str) -> dict[int, int]:
    """partition -> leader broker id; {} when the topic does not exist. Asks about this one
    topic only (listing every topic of a busy shared broker costs a good part of a second)."""
    [described] = admin.describe_topics([topic])
    if described["error_code"]:
        return {}
    return {p["partition_index"]: p["leader_id"] for p in described["partitions"]}


def log_dir_sizes(bootstrap: str, topic: str) -> dict[int, int]:
    """partition -> bytes the broker holds for it on disk (its log directories' own count,
    summed over brokers and directories); {} when the topic does not exist."""

    def describe(admin):
        sizes: dict[int, int] = {}
        partitions = sorted(_partition_leaders(admin, topic))
        if not partitions:
            return sizes
        for broker in admin.describe_log_dirs({topic: partitions}):
            for log_dir in broker["log_dirs"]:
                for described in log_dir["topics"]:
                    if described["name"] != topic:
                        continue
                    for partition in described["partitions"]:
                        index = partition["partition_index"]
                        sizes[index] = sizes.get(index, 0) + partition["partition_size"]
        return sizes

    return _admin_call(bootstrap, describe)


CODEC_NAMES = {0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}


@dataclass(frozen=True)
class StoredBatch:
    """One record batch exactly as the broker stored it (read raw, never decompressed)."""

    partition: int
    base_offset: int
    records: int
    size: int  # bytes on the broker, batch header included
    codec: str  # "none", "gzip", "snappy", "lz4" or "zstd"
    log_append_time: bool  # the broker stamped the batch (message.timestamp.type)
    max_timestamp: int


def stored_batches(bootstrap: str, topic: str, deadline_s: float = 5.0) -> list[StoredBatch]:
    """Every record batch in the topic, partition by partition in offset order.

    A consumer decompresses what it reads, so the codec a batch was stored with is only seen in
    the raw bytes of a Fetch. kafka-python has no public call for a raw fetch; this sends one the
    way its own admin methods send requests, then parses the answer with its record classes.
    """
    from kafka.protocol.consumer import FetchRequest
    from kafka.record import MemoryRecords

    leaders = _admin_call(bootstrap, lambda admin: _partition_leaders(admin, topic))
    if not leaders:
        return []
    latest = _admin_call(
        bootstrap,
        lambda admin: admin.list_partition_offsets(
            {TopicPartition(topic, p): OffsetSpec.LATEST for p in leaders}
        ),
    )
    ends = {tp.partition: answer.offset for tp, answer in latest.items() if answer.offset > 0}
    batches: list[StoredBatch] = []
    stop_at = time.monotonic() + deadline_s
    for partition, end in sorted(ends.items()):
        position = 0
        while position < end and time.monotonic() < stop_at:
            request = FetchRequest(
                max_wait_ms=0,
                min_bytes=0,
                max_bytes=8 << 20,
                isolation_level=0,
                session_id=0,
                session_epoch=-1,
                forgotten_topics_data=[],
                rack_id="",
                topics=[
                    FetchRequest.FetchTopic(
                        topic=topic,
                        partitions=[
                            FetchRequest.FetchTopic.FetchPartition(
                                partition=partition,
                                current_leader_epoch=-1,
                                fetch_offset=position,
                                last_fetched_epoch=-1,
                                log_start_offset=-1,
                                partition_max_bytes=4 << 20,
                            )
                        ],
                    )
                ],
                max_version=12,
            )  # v13+ names topics by id

            def fetch(admin, request=request, node=leaders[partition]):
                async def send():
                    return await admin._manager.send(
                        request, node_id=node, request_timeout_ms=REQUEST_TIMEOUT_MS
                    )

                return admin._manager.run(send)

            response = _admin_call(bootstrap, fetch)
            [answer] = [p for t in response.responses for p in t.partitions]
            if answer.error_code:
                raise RuntimeError(
                    f"fetch from {topic}/{partition} failed: error {answer.error_code}"
                )
            raw = MemoryRecords(bytes(answer.records or b""))
            before = position
            while raw.has_next():
                batch = raw.next_batch()
                if batch is None:
                    break
                if batch.next_offset <= position:
                    continue  # a fetch may start inside an earlier batch
                batches.append(
                    StoredBatch(
                        partition,
                        batch.base_offset,
                        batch.records_count,
                        batch.size_in_bytes,
                        CODEC_NAMES.get(batch.compression_type, str(batch.compression_type)),
                        bool(batch.timestamp_type),
                        batch.max_timestamp,
                    )
                )
                position = batch.next_offset
            if position == before:
                break  # nothing more readable: the log ends before the end offset said
    return batches


def append_in_one_batch(bootstrap: str, topic: str, values: list[bytes]) -> None:
    """Write the values uncompressed, as one batch per partition (a producer that only sends
    when flushed), and wait until the broker has them: a baseline to compare stored sizes with.
    """
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        client_id="kafka-course-grader",
        linger_ms=60_000,
        batch_size=4 << 20,
        max_request_size=8 << 20,
        max_block_ms=REQUEST_TIMEOUT_MS,
        compression_type=None,
    )
    try:
        with grader_busy():
            futures = [producer.send(topic, value=value) for value in values]
            producer.flush(timeout=REQUEST_TIMEOUT_MS / 1000)
            for future in futures:
                future.get(timeout=REQUEST_TIMEOUT_MS / 1000)
    finally:
        producer.close(timeout=REQUEST_TIMEOUT_MS / 1000)


def commit_offsets_for_group(
    bootstrap: str, group: str, offsets: dict[tuple[str, int], int]
) -> None:
    """Commit ``(topic, partition) -> offset`` for ``group`` through the admin API, as an
    offset reset would; the group must have no active member. Raises on any refusal."""
    from kafka.structs import OffsetAndMetadata

    wanted = {
        TopicPartition(topic, partition): OffsetAndMetadata(offset, "", -1)
        for (topic, partition), offset in offsets.items()
    }
    answers = _admin_call(bootstrap, lambda admin: admin.alter_group_offsets(group, wanted))
    refused = sorted(
        (tp, error.__name__) for tp, error in answers.items() if error.__name__ != "NoError"
    )
    if refused:
        raise RuntimeError(f"committing offsets for {group} was refused: {refused}")


def broker_configs(bootstrap: str, names: list[str]) -> dict[int, dict[str, str | None]]:
    """node id -> {config name: value} for every broker, read-only settings included (such
    as ``listeners`` and ``advertised.listeners``)."""

    def describe(admin):
        nodes = [broker["broker_id"] for broker in admin.describe_cluster()["brokers"]]
        resources = [
            ConfigResource(ConfigResourceType.BROKER, str(node), dict.fromkeys(names))
            for node in nodes
        ]
        found = admin.describe_configs(resources, config_filter="all").get("broker", {})
        return {
            int(node): {name: entry.get("value") for name, entry in configs.items()}
            for node, configs in found.items()
        }

    return _admin_call(bootstrap, describe)


def active_producers(bootstrap: str, topic: str) -> dict[int, list[dict]]:
    """partition -> the idempotent producers the broker tracks there (DescribeProducers):
    producer id, epoch and the last sequence number it wrote."""
    partitions = _topic_partitions(bootstrap, topic)
    if not partitions:
        return {}
    found = _admin_call(bootstrap, lambda admin: admin.describe_producers(partitions))
    return {
        tp.partition: [
            {
                "producer_id": p.producer_id,
                "epoch": p.producer_epoch,
                "last_sequence": p.last_sequence,
            }
            for p in state.active_producers
        ]
        for tp, state in sorted(found.items())
    }
