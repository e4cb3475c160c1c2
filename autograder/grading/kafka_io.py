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
from autograder.grading.raw_log import CommittedFilter, LogEntry, entries_of

# Re-exported: the grader reads the raw log through this one Kafka module too.
from autograder.grading.raw_log import transaction_outcomes as transaction_outcomes

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
    while True:
        entry = _cached_or_new(kind, bootstrap)
        client, lock = entry
        lock.acquire()
        # Another caller's failure may have closed this client while we waited for it.
        if _open.get(key) is entry:
            break
        lock.release()
    try:
        with grader_busy():
            yield client
    except BrokerUnreachable:
        raise
    except Exception:
        _forget(key)
        raise
    finally:
        lock.release()


def _cached_or_new(kind: str, bootstrap: str) -> tuple[_KafkaClient, threading.Lock]:
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
        return entry


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


def broker_version(bootstrap: str) -> str:
    """The Kafka version the broker's API versions answer matches, as "4.3"."""
    version = _admin_call(bootstrap, lambda admin: admin._client.check_version())
    return ".".join(str(part) for part in version)


def create_topic(
    bootstrap: str, name: str, partitions: int, configs: dict[str, str] | None = None
) -> None:
    """Create the topic and wait (up to 10 s) until the broker serves every partition: the
    controller answers first, and a producer that comes before the broker has the metadata waits
    its whole max.block.ms."""
    topic = NewTopic(name, partitions, 1, topic_configs=configs or {})

    def create(admin):
        admin.create_topics([topic], timeout_ms=REQUEST_TIMEOUT_MS)
        admin.wait_for_topics([name], timeout_ms=10_000)

    _admin_call(bootstrap, create)


def list_topics(bootstrap: str) -> set[str]:
    return set(_admin_call(bootstrap, lambda admin: admin.list_topics()))


def _described(admin, name: str) -> dict | None:
    """The topic's metadata, or None if the broker does not know it. One topic is asked for by
    name: listing every topic first costs seconds on a broker holding thousands of them."""
    [topic] = admin.describe_topics([name])
    return None if topic["error_code"] else topic


def describe_topic(bootstrap: str, name: str) -> TopicInfo | None:
    """The topic's partition count, replication factor and non-default configs; None if absent."""

    def describe(admin):
        topic = _described(admin, name)
        if topic is None:
            return None
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
        described = _described(admin, topic)
        if described is None:
            return []
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


def _fetch_once(bootstrap: str, topic: str, partition: int, node: int, position: int, level: int):
    """One raw Fetch of one partition from ``position``: the partition's answer.

    kafka-python has no public call for a raw fetch; this sends one the way its own admin
    methods send requests. ``level`` is the isolation level (1: read_committed).
    """
    from kafka.protocol.consumer import FetchRequest

    request = FetchRequest(
        max_wait_ms=0,
        min_bytes=0,
        max_bytes=8 << 20,
        isolation_level=level,
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

    def fetch(admin):
        async def send():
            return await admin._manager.send(
                request, node_id=node, request_timeout_ms=REQUEST_TIMEOUT_MS
            )

        return admin._manager.run(send)

    response = _admin_call(bootstrap, fetch)
    [answer] = [p for t in response.responses for p in t.partitions]
    if answer.error_code:
        raise RuntimeError(f"fetch from {topic}/{partition} failed: error {answer.error_code}")
    return answer


def _raw_batches(
    bootstrap: str,
    topic: str,
    partition: int,
    node: int,
    span: tuple[int, int],
    stop_at: float,
    level: int = 0,
    on_answer: Callable[[Any], None] | None = None,
) -> Iterator[Any]:
    """The record batches of one partition holding offsets in ``span`` (start, end), raw as
    stored (kafka-python's DefaultRecordBatch), in offset order; stops at ``stop_at``
    (monotonic). ``on_answer`` sees each Fetch answer before its batches are yielded."""
    from kafka.record import MemoryRecords

    position, end = span
    while position < end and time.monotonic() < stop_at:
        answer = _fetch_once(bootstrap, topic, partition, node, position, level)
        if on_answer is not None:
            on_answer(answer)
        raw = MemoryRecords(bytes(answer.records or b""))
        before = position
        while raw.has_next():
            batch = raw.next_batch()
            if batch is None:
                break
            if batch.next_offset <= position:
                continue  # a fetch may start inside an earlier batch
            yield batch
            position = batch.next_offset
        if position == before:
            break  # nothing more readable: the log ends before the end offset said


def _offsets(bootstrap: str, topic: str, partitions, spec, level: int = 0) -> dict[int, int]:
    found = _admin_call(
        bootstrap,
        lambda admin: admin.list_partition_offsets(
            {TopicPartition(topic, p): spec for p in partitions}, isolation_level=level
        ),
    )
    return {tp.partition: answer.offset for tp, answer in found.items()}


def stored_batches(bootstrap: str, topic: str, deadline_s: float = 5.0) -> list[StoredBatch]:
    """Every record batch in the topic, partition by partition in offset order.

    A consumer decompresses what it reads, so the codec a batch was stored with is only seen in
    the raw bytes of a Fetch, parsed here with kafka-python's record classes.
    """
    leaders = _admin_call(bootstrap, lambda admin: _partition_leaders(admin, topic))
    if not leaders:
        return []
    ends = _offsets(bootstrap, topic, leaders, OffsetSpec.LATEST)
    stop_at = time.monotonic() + deadline_s
    return [
        StoredBatch(
            partition,
            batch.base_offset,
            batch.records_count,
            batch.size_in_bytes,
            CODEC_NAMES.get(batch.compression_type, str(batch.compression_type)),
            bool(batch.timestamp_type),
            batch.max_timestamp,
        )
        for partition, end in sorted(ends.items())
        for batch in _raw_batches(
            bootstrap, topic, partition, leaders[partition], (0, end), stop_at
        )
    ]


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


def read_log(
    bootstrap: str,
    topic: str,
    partition: int | None = None,
    start: int = 0,
    limit: int | None = None,
    isolation: str = "read_uncommitted",
    deadline_s: float = 10.0,
) -> list[LogEntry]:
    """The log of the topic record by record, transaction markers and aborted records included,
    which a consumer never shows (see ``raw_log.LogEntry``).

    ``partition`` None reads every partition, in partition order; ``start`` is the first offset
    read in each partition (the oldest kept one if that is later) and ``limit`` the most entries
    returned from each partition. Reads up to the end offsets taken when the call starts: the
    high watermark, or under ``read_committed`` the last stable offset, with the data records of
    aborted transactions dropped as a read_committed consumer drops them (markers stay listed).
    ``transaction_outcomes(entries)`` says how each transactional record's transaction ended.
    An unknown topic or partition reads as []; stops at the deadline with what it has.
    """
    leaders = _admin_call(bootstrap, lambda admin: _partition_leaders(admin, topic))
    wanted = sorted(p for p in leaders if partition is None or p == partition)
    if not wanted:
        return []
    level = 1 if isolation == "read_committed" else 0
    ends = _offsets(bootstrap, topic, wanted, OffsetSpec.LATEST, level)
    oldest = _offsets(bootstrap, topic, wanted, OffsetSpec.EARLIEST)
    stop_at = time.monotonic() + deadline_s
    entries: list[LogEntry] = []
    for p in wanted:
        only_committed = CommittedFilter()

        def learn(answer, only_committed=only_committed):
            only_committed.learn(
                (txn.producer_id, txn.first_offset) for txn in answer.aborted_transactions or []
            )

        span = (max(start, oldest[p]), ends[p])
        kept: list[LogEntry] = []
        for batch in _raw_batches(bootstrap, topic, p, leaders[p], span, stop_at, level, learn):
            kept += [
                entry
                for entry in entries_of(p, batch)
                if span[0] <= entry.offset < span[1] and (not level or only_committed.keeps(entry))
            ]
            if limit is not None and len(kept) >= limit:
                break
        entries += kept[:limit]
    return entries


def wait_until_stable(bootstrap: str, topic: str, deadline_s: float = 5.0) -> bool:
    """Wait until no transaction is open on the topic (every partition's last stable offset is
    its high watermark); False if that has not happened by the deadline.

    commit_transaction() and abort_transaction() return once the transaction coordinator has
    recorded the decision; it writes the markers to the partitions after answering, so a log read
    right after can still miss its marker and a read_committed reader still stop short.
    """
    stop_at = time.monotonic() + deadline_s
    while True:
        if end_offsets(bootstrap, topic, "read_committed") == end_offsets(bootstrap, topic):
            return True
        if time.monotonic() >= stop_at:
            return False
        time.sleep(0.05)


# ----- a consumer group's history, as its coordinator stored it (lesson 09) -------------------

GROUP_LOG_TOPIC = "__consumer_offsets"


@dataclass(frozen=True)
class GroupMember:
    """One member of a classic group in one stored generation."""

    member_id: str
    group_instance_id: str | None
    client_id: str
    assignment: dict[str, tuple[int, ...]]  # topic -> partitions, as the leader assigned them
    rebalance_timeout_ms: int = -1  # the member's max.poll.interval.ms, as it told the broker
    session_timeout_ms: int = -1


@dataclass(frozen=True)
class GroupGeneration:
    """One GroupMetadata record of a classic group: the coordinator writes one each time a
    generation completes, when an empty group is left, and when a static member rejoins under a
    new member id (the same generation, a new record)."""

    offset: int  # where it sits in the group's partition of __consumer_offsets
    generation: int
    protocol: str | None  # the assignor the group agreed on ("range", "roundrobin", ...)
    members: tuple[GroupMember, ...]
    leader: str | None = None  # the member id of the member that computed the assignment

    def member(self, client_id: str) -> GroupMember | None:
        return next((m for m in self.members if m.client_id == client_id), None)


def _java_string_hash(text: str) -> int:
    value = 0
    for unit in text.encode("utf-16-be").hex(" ", 2).split():
        value = (31 * value + int(unit, 16)) & 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


_group_log_partitions: dict[str, int] = {}


def _group_log_partition_count(bootstrap: str) -> int:
    """How many partitions __consumer_offsets has (asked once per broker address). The broker
    creates the topic when a group first looks for its coordinator, so on a fresh broker this
    asks for one (committed offsets of an unused group) and waits for the topic."""
    if bootstrap not in _group_log_partitions:
        stop_at = time.monotonic() + REQUEST_TIMEOUT_MS / 1000
        while True:
            leaders = _admin_call(
                bootstrap, lambda admin: _partition_leaders(admin, GROUP_LOG_TOPIC)
            )
            if leaders or time.monotonic() > stop_at:
                break
            committed_offsets(bootstrap, "kafka-course-grader-looks-for-a-coordinator")
            time.sleep(0.2)
        if not leaders:
            raise RuntimeError(f"the broker at {bootstrap} has no {GROUP_LOG_TOPIC} topic")
        _group_log_partitions[bootstrap] = len(leaders)
    return _group_log_partitions[bootstrap]


def group_log_partition(bootstrap: str, group: str) -> int:
    """The partition of __consumer_offsets that holds ``group``'s records: the broker picks it
    as abs(group.hashCode()) % partitions (Kafka's Utils.abs: MIN_VALUE gives 0)."""
    value = _java_string_hash(group)
    return (0 if value == -(1 << 31) else abs(value)) % _group_log_partition_count(bootstrap)


def group_log_end(bootstrap: str, group: str) -> int:
    """The offset the next record of ``group``'s __consumer_offsets partition will get: where
    a history read for what comes next can start. Asks about that one partition only (listing
    every topic of a busy shared broker takes a good part of a second)."""
    tp = TopicPartition(GROUP_LOG_TOPIC, group_log_partition(bootstrap, group))
    found = _admin_call(
        bootstrap, lambda admin: admin.list_partition_offsets({tp: OffsetSpec.LATEST})
    )
    return found[tp].offset


class _Reader:
    """Kafka's wire types, read off a GroupMetadata value (fixed and flexible versions)."""

    def __init__(self, data: bytes, flexible: bool):
        self.data, self.at, self.flexible = data, 0, flexible

    def take(self, size: int) -> bytes:
        chunk = self.data[self.at : self.at + size]
        if len(chunk) < size:
            raise ValueError("the record ends early")
        self.at += size
        return chunk

    def number(self, size: int) -> int:
        return int.from_bytes(self.take(size), "big", signed=True)

    def uvarint(self) -> int:
        shift = value = 0
        while True:
            byte = self.take(1)[0]
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7

    def length(self, size: int) -> int:
        return self.uvarint() - 1 if self.flexible else self.number(size)

    def bytes_(self) -> bytes | None:
        size = self.length(4)
        return None if size < 0 else self.take(size)

    def string(self) -> str | None:
        size = self.length(2)
        return None if size < 0 else self.take(size).decode("utf-8", "replace")

    def tags(self) -> None:
        if self.flexible:
            for _ in range(self.uvarint()):
                self.uvarint()
                self.take(self.uvarint())


def _stored_assignment(data: bytes | None) -> dict[str, tuple[int, ...]]:
    from kafka.protocol.consumer.metadata import ConsumerProtocolAssignment

    if not data:
        return {}
    decoded = ConsumerProtocolAssignment.decode(data).to_dict()
    return {
        entry["topic"]: tuple(sorted(entry["partitions"]))
        for entry in decoded["assigned_partitions"]
        if entry["partitions"]
    }


def _group_generation(offset: int, value: bytes) -> GroupGeneration:
    """Parse a GroupMetadataValue (versions 0-4; 4 is the first flexible one)."""
    version = int.from_bytes(value[:2], "big", signed=True)
    read = _Reader(value[2:], flexible=version >= 4)
    read.string()  # protocol type
    generation = read.number(4)
    protocol = read.string()
    leader = read.string()
    if version >= 2:
        read.number(8)  # current state timestamp
    members = []
    for _ in range(read.length(4)):
        member_id = read.string() or ""
        instance = read.string() if version >= 3 else None
        client_id = read.string() or ""
        read.string()  # client host
        rebalance_timeout = read.number(4) if version >= 1 else -1
        session_timeout = read.number(4)
        read.bytes_()  # subscription
        assignment = _stored_assignment(read.bytes_())
        read.tags()
        members.append(
            GroupMember(
                member_id, instance, client_id, assignment, rebalance_timeout, session_timeout
            )
        )
    return GroupGeneration(offset, generation, protocol, tuple(members), leader)


def _group_metadata_key(key: bytes | None) -> str | None:
    """The group a GroupMetadata key names; None for offset commits and other record kinds."""
    if not key or len(key) < 4 or int.from_bytes(key[:2], "big") != 2:
        return None
    size = int.from_bytes(key[2:4], "big")
    return key[4 : 4 + size].decode("utf-8", "replace")


def group_history(
    bootstrap: str, group: str, since: int = 0, until: int | None = None, deadline_s: float = 8.0
) -> list[GroupGeneration]:
    """Every generation record the coordinator stored for the classic ``group``, oldest first,
    from offset ``since`` (up to ``until``, else the end) of its __consumer_offsets partition.

    A record the broker has compacted away is gone; the records of a group in its first
    minutes are all there (the log is compacted only once a segment rolls).
    """
    partition = group_log_partition(bootstrap, group)
    end = group_log_end(bootstrap, group)
    if until is not None:
        end = min(end, until)
    tp = TopicPartition(GROUP_LOG_TOPIC, partition)
    found: list[GroupGeneration] = []
    if end <= since:
        return found
    with _client("consumer", bootstrap) as consumer:
        consumer.assign([tp])
        consumer.seek(tp, since)
        stop_at = time.monotonic() + deadline_s
        while consumer.position(tp) < end and time.monotonic() < stop_at:
            for record in consumer.poll(timeout_ms=200).get(tp, []):
                if record.offset >= end or _group_metadata_key(record.key) != group:
                    continue
                if record.value is None:
                    continue  # a tombstone: the group was deleted
                found.append(_group_generation(record.offset, record.value))
        consumer.assign([])
    return found


# ----- transactional writes, for checks that need committed and aborted input (lesson 10) -----


def append_in_transactions(
    bootstrap: str,
    topic: str,
    transactional_id: str,
    transactions: list[tuple[list[tuple[int, str | None, bytes]], bool]],
) -> None:
    """Write each ``(records, commit)`` as one transaction of ``transactional_id``: its
    (partition, key, value) records, then a commit when ``commit`` is true, else an abort.

    The records of an aborted transaction are flushed before the abort, so the log holds them
    (with an ABORT marker after them) the way a failed upstream producer leaves them; an abort of
    records never sent would leave nothing at all.
    """
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        client_id="kafka-course-grader",
        transactional_id=transactional_id,
        max_block_ms=REQUEST_TIMEOUT_MS,
        request_timeout_ms=REQUEST_TIMEOUT_MS + 1000,
    )
    try:
        with grader_busy():
            producer.init_transactions()
            for records, commit in transactions:
                producer.begin_transaction()
                for partition, key, value in records:
                    producer.send(
                        topic,
                        partition=partition,
                        key=None if key is None else key.encode(),
                        value=value,
                    )
                producer.flush(timeout=REQUEST_TIMEOUT_MS / 1000)
                if commit:
                    producer.commit_transaction()
                else:
                    producer.abort_transaction()
    finally:
        producer.close(timeout=REQUEST_TIMEOUT_MS / 1000)


def producer_epoch_of(bootstrap: str, transactional_id: str) -> int | None:
    """The producer epoch the transaction coordinator holds for ``transactional_id``
    (DescribeTransactions): every init_transactions() with the id raises it by one, and a
    producer holding an older epoch is fenced. None while the id is unknown to the broker."""

    def describe(admin):
        try:
            found = admin.describe_transactions([transactional_id])
        except Exception as error:  # kafka-python raises TransactionalIdNotFoundError
            if "TransactionalIdNotFound" in type(error).__name__:
                return None
            raise
        return found[transactional_id].producer_epoch

    return _admin_call(bootstrap, describe)
