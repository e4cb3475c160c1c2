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
from contextlib import contextmanager
from dataclasses import dataclass

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic, OffsetSpec
from kafka.protocol.consumer.offsets import IsolationLevel

from .quiet import grader_busy, route_kafka_logs_to_stdout

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

    def value_json(self):
        """The value parsed as JSON; raises ValueError when it is not JSON text."""
        if self.value is None:
            raise ValueError("the value is empty (null)")
        return json.loads(self.value.decode("utf-8"))


@dataclass(frozen=True)
class TopicInfo:
    name: str
    partitions: int
    replication_factor: int
    configs: dict[str, str]


_KINDS = {
    "admin": (KafkaAdminClient, {}),
    "consumer": (KafkaConsumer, {"enable_auto_commit": False}),
    "consumer-committed": (KafkaConsumer, {"enable_auto_commit": False,
                                           "isolation_level": "read_committed"}),
    "producer": (KafkaProducer, {"max_block_ms": REQUEST_TIMEOUT_MS}),
}
_open: dict[tuple[str, str], tuple[object, threading.Lock]] = {}
_open_guard = threading.Lock()


def _unreachable(bootstrap: str, error: Exception) -> BrokerUnreachable:
    return BrokerUnreachable(
        f"no Kafka broker answers at {bootstrap} ({type(error).__name__}); "
        "start one with `kafka-course broker up` and run this cell again")


@contextmanager
def _client(kind: str, bootstrap: str):
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
                client = client_class(bootstrap_servers=bootstrap, client_id="kafka-course-grader",
                                      request_timeout_ms=REQUEST_TIMEOUT_MS + 1000,
                                      bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS, **settings)
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


def _forget(key) -> None:
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


def _admin_call(bootstrap: str, action):
    try:
        with _client("admin", bootstrap) as admin:
            return action(admin)
    except BrokerUnreachable:
        raise
    except Exception as error:
        if type(error).__name__ in ("NoBrokersAvailable", "KafkaConnectionError",
                                    "KafkaTimeoutError", "RequestTimedOutError"):
            raise _unreachable(bootstrap, error) from None
        raise


def ping(bootstrap: str) -> int:
    """The number of brokers in the cluster; raises BrokerUnreachable when none answers."""
    return _admin_call(bootstrap, lambda admin: len(admin.describe_cluster()["brokers"]))


def create_topic(bootstrap: str, name: str, partitions: int,
                 configs: dict[str, str] | None = None) -> None:
    topic = NewTopic(name, partitions, 1, topic_configs=configs or {})
    _admin_call(bootstrap, lambda admin: admin.create_topics([topic],
                                                             timeout_ms=REQUEST_TIMEOUT_MS))


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
    level = (IsolationLevel.READ_COMMITTED if isolation == "read_committed"
             else IsolationLevel.READ_UNCOMMITTED)
    found = _admin_call(bootstrap, lambda admin: admin.list_partition_offsets(
        {tp: OffsetSpec.LATEST for tp in partitions}, isolation_level=level))
    return {tp.partition: answer.offset for tp, answer in found.items()}


def read_all(bootstrap: str, topic: str, deadline_s: float = 5.0,
             isolation: str = "read_uncommitted") -> list[StoredRecord]:
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
                    StoredRecord(tp.partition, r.offset, r.key, r.value,
                                 tuple((k, v) for k, v in (r.headers or [])), r.timestamp)
                    for r in batch if r.offset < ends[tp.partition]
                ]
            wanted = [tp for tp in wanted if consumer.position(tp) < ends[tp.partition]]
        consumer.assign([])
    return sorted(records, key=lambda r: (r.partition, r.offset))


def committed_offsets(bootstrap: str, group: str) -> dict[tuple[str, int], int]:
    """(topic, partition) -> the group's committed offset."""
    offsets = _admin_call(bootstrap, lambda admin: admin.list_group_offsets({group: None}))
    return {(tp.topic, tp.partition): meta.offset for tp, meta in offsets.get(group, {}).items()
            if meta.offset >= 0}


def append_json(bootstrap: str, topic: str, key: str, value: dict) -> None:
    """Write one JSON record and wait until the broker has it."""
    with _client("producer", bootstrap) as producer:
        producer.send(topic, key=key.encode(), value=json.dumps(value).encode()).get(
            timeout=REQUEST_TIMEOUT_MS / 1000)
