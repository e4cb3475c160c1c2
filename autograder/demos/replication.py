"""Replication on a real three-broker cluster: what acks=all and min.insync.replicas promise
when brokers stop, and what a leader failover costs a producer that retries.

Every function is bounded in time and closes every client it opens. The cluster comes from
autograder.broker.cluster (a controller plus three brokers, each its own JVM), so a stopped
broker is a real process that stopped.

    >>> from autograder.broker.cluster import start_cluster
    >>> cluster = start_cluster()
    >>> topic = create_replicated_topic(cluster.bootstrap, "payments")
    >>> replicas(cluster.bootstrap, topic)
    [{'partition': 0, 'leader': 2, 'replicas': [2, 3, 1], 'isr': [2, 3, 1]}]
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import closing, contextmanager

with warnings.catch_warnings():
    # kafka-python 3.0 loads its protocol schemas with a deprecated importlib.resources API.
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.admin import NewTopic, OffsetSpec
    from kafka.errors import KafkaError

from autograder.broker.cluster import Cluster

# kafka-python backs off up to 30 s from a broker that refused a connection, and its bootstrap
# may sit out that whole wait on a stopped broker; the Java client's 1 s ceiling keeps it short.
CLIENT_TIMEOUTS = {"request_timeout_ms": 5000, "reconnect_backoff_max_ms": 1000}


def _answering(bootstrap: str) -> str:
    """The addresses in ``bootstrap`` that accept a connection now (all of them if none does):
    a client given only live brokers bootstraps at once while others are stopped on purpose."""
    live = []
    for address in bootstrap.split(","):
        host, _, port = address.rpartition(":")
        try:
            socket.create_connection((host, int(port)), timeout=0.5).close()
            live.append(address)
        except OSError:
            continue
    return ",".join(live) or bootstrap


@contextmanager
def _kafka_logs_muted() -> Iterator[None]:
    """kafka-python logs every retry and lost connection; these demos stop brokers on purpose
    and report the outcome themselves, so its messages would only bury the result."""
    logger = logging.getLogger("kafka")
    previous = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(previous)


def _admin(bootstrap: str) -> KafkaAdminClient:
    return KafkaAdminClient(
        bootstrap_servers=_answering(bootstrap),
        client_id="replication-demo",
        bootstrap_timeout_ms=5000,
        **CLIENT_TIMEOUTS,
    )


def create_replicated_topic(
    bootstrap: str, name: str, replicas: int = 3, min_insync: int = 2, partitions: int = 1
) -> str:
    """Create `name` with `replicas` copies of each partition and min.insync.replicas set;
    returns the name once every partition has a leader and a full ISR."""
    topic = NewTopic(
        name,
        num_partitions=partitions,
        replication_factor=replicas,
        topic_configs={"min.insync.replicas": str(min_insync)},
    )
    with _kafka_logs_muted(), closing(_admin(bootstrap)) as admin:
        admin.create_topics([topic], timeout_ms=10_000)
    wait_for_isr(bootstrap, name, replicas)
    return name


def replicas(bootstrap: str, topic: str) -> list[dict]:
    """For each partition: its leader, its replicas and its in-sync replicas (ISR), by broker id,
    as the cluster's metadata says right now."""
    with _kafka_logs_muted(), closing(_admin(bootstrap)) as admin:
        [described] = admin.describe_topics([topic])
    return [
        {
            "partition": p["partition_index"],
            "leader": p["leader_id"],
            "replicas": p["replica_nodes"],
            "isr": p["isr_nodes"],
        }
        for p in sorted(described["partitions"], key=lambda p: p["partition_index"])
    ]


def leader(bootstrap: str, topic: str, partition: int = 0) -> int:
    """The broker id leading `partition` of `topic`."""
    return replicas(bootstrap, topic)[partition]["leader"]


def followers(bootstrap: str, topic: str, partition: int = 0) -> list[int]:
    """The brokers holding a copy of `partition` that are not its leader."""
    state = replicas(bootstrap, topic)[partition]
    return [broker for broker in state["replicas"] if broker != state["leader"]]


def wait_for_isr(bootstrap: str, topic: str, size: int, timeout_s: float = 30) -> list[dict]:
    """Poll until every partition has a leader and exactly `size` in-sync replicas; returns
    the last description (also when the deadline passed: the caller sees what it got)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            state = replicas(bootstrap, topic)
        except KafkaError:
            state = []
        if state and all(p["leader"] >= 0 and len(p["isr"]) == size for p in state):
            return state
        if time.monotonic() > deadline:
            return state
        time.sleep(0.1)


def send_acks_all(
    bootstrap: str,
    topic: str,
    count: int = 10,
    retries: bool = True,
    delivery_timeout_ms: int = 3000,
    tag: str = "record",
    acks: int | str = "all",
) -> dict:
    """Send `count` records with `acks` (all unless told) and wait for each outcome.

    retries=True keeps kafka-python's defaults (retries forever, idempotent) but gives up after
    `delivery_timeout_ms`; retries=False sends each record once (retries=0, which in
    kafka-python also switches idempotence off, here said explicitly), which shows the
    broker's own refusal. Returns how many were acknowledged, the acknowledged values, their
    offsets, and the errors by name.
    """
    settings = {
        "acks": acks,
        "request_timeout_ms": max(1000, delivery_timeout_ms - 500),
        "reconnect_backoff_max_ms": 1000,
        "delivery_timeout_ms": delivery_timeout_ms,
        "max_block_ms": 5000,
    }
    if not retries or acks != "all":
        # Either setting would switch idempotence off anyway (with a warning): say it.
        settings["enable_idempotence"] = False
    if not retries:
        settings["retries"] = 0
    # One record per producer request: a retried batch then never holds others behind it.
    settings["max_in_flight_requests_per_connection"] = 1
    with _kafka_logs_muted():
        return _send_each(bootstrap, topic, count, settings, delivery_timeout_ms, tag)


def _send_each(
    bootstrap: str, topic: str, count: int, settings: dict, delivery_timeout_ms: int, tag: str
) -> dict:
    producer = KafkaProducer(bootstrap_servers=_answering(bootstrap), **settings)
    acknowledged: list[str] = []
    offsets: list[int] = []
    errors: Counter[str] = Counter()
    try:
        for n in range(count):
            value = f"{tag}-{n}".encode()
            try:
                metadata = producer.send(topic, value=value).get(
                    timeout=delivery_timeout_ms / 1000 + 5
                )
                acknowledged.append(value.decode())
                offsets.append(metadata.offset)
            except KafkaError as error:
                errors[type(error).__name__] += 1
    finally:
        producer.close(timeout=2)
    return {
        "acknowledged": len(acknowledged),
        "errors": dict(errors),
        "values": acknowledged,
        "offsets": offsets,
    }


def high_watermark(bootstrap: str, topic: str, partition: int = 0) -> int:
    """The partition's high watermark: the end offset consumers may read up to (the offset
    after the last record every in-sync replica has, as the leader counts it)."""
    with _kafka_logs_muted(), closing(_admin(bootstrap)) as admin:
        tp = TopicPartition(topic, partition)
        return admin.list_partition_offsets({tp: OffsetSpec.LATEST})[tp].offset


def stored_values(bootstrap: str, topic: str, timeout_s: float = 15) -> list[str]:
    """Every value the cluster holds in `topic` (all partitions, in offset order), read with
    a fresh consumer up to the end offsets of the moment."""
    with _kafka_logs_muted():
        return _read_values(bootstrap, topic, timeout_s)


def _read_values(bootstrap: str, topic: str, timeout_s: float) -> list[str]:
    with closing(_admin(bootstrap)) as admin:
        [described] = admin.describe_topics([topic])
        wanted = [TopicPartition(topic, p["partition_index"]) for p in described["partitions"]]
        ends = {
            tp: info.offset
            for tp, info in admin.list_partition_offsets(
                {tp: OffsetSpec.LATEST for tp in wanted}
            ).items()
        }
    wanted = [tp for tp in wanted if ends[tp] > 0]
    values: list[str] = []
    if not wanted:
        return values
    consumer = KafkaConsumer(
        bootstrap_servers=_answering(bootstrap), enable_auto_commit=False, **CLIENT_TIMEOUTS
    )
    try:
        consumer.assign(wanted)
        consumer.seek_to_beginning(*wanted)
        deadline = time.monotonic() + timeout_s
        while wanted and time.monotonic() < deadline:
            for tp, batch in consumer.poll(timeout_ms=200).items():
                values += [r.value.decode() for r in batch if r.offset < ends[tp]]
            wanted = [tp for tp in wanted if consumer.position(tp) < ends[tp]]
    finally:
        consumer.close()
    return values


def stream_through_failover(
    cluster: Cluster,
    topic: str,
    count: int = 300,
    stop_after: int = 100,
    crash: bool = False,
    pause_s: float = 0.005,
    tag: str = "tick",
    restart: bool = True,
) -> dict:
    """Send `count` records at a steady pace with acks=all and kafka-python's retries; after
    `stop_after` of them, stop the partition's leader (SIGTERM, or SIGKILL with crash=True)
    while the stream goes on. Then count what the cluster stores.

    The stopped broker is started again before returning (unless restart=False, for a last
    demonstration before the cluster shuts down anyway). Returns the old and new leader, how
    many records were acknowledged and failed, how many of them the cluster stores (and how
    many of those twice), how many acknowledged records it lacks, and the longest gap between
    two acknowledgements (the failover as the producer felt it).

    A failed future is possible and honest: if the new leader answers with a sequence error,
    kafka-python bumps its producer epoch (KIP-360) and fails the batches in flight at that
    moment (kafka/producer/sender.py, the NEEDS_EPOCH_BUMP branch) instead of resending them.
    """
    with _kafka_logs_muted():
        return _stream(cluster, topic, count, stop_after, crash, pause_s, tag, restart)


def _stream(
    cluster: Cluster,
    topic: str,
    count: int,
    stop_after: int,
    crash: bool,
    pause_s: float,
    tag: str,
    restart: bool,
) -> dict:
    bootstrap = cluster.bootstrap
    old_leader = leader(bootstrap, topic)
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        request_timeout_ms=5000,
        reconnect_backoff_max_ms=1000,
        delivery_timeout_ms=30_000,
        max_block_ms=10_000,
    )
    acked: list[tuple[float, str]] = []  # (when, value) of each acknowledged record
    failed: Counter = Counter()
    stopped_at: list[float] = []

    def stop_leader() -> None:
        stopped_at.append(time.monotonic())
        cluster.stop_node(old_leader, crash=crash)

    stopper = threading.Thread(target=stop_leader)
    try:
        # One record first, so the stream starts on a connected producer: on a busy machine
        # its first metadata and producer-id requests could otherwise outlast `stop_after`.
        producer.send(topic, value=b"warm-up").get(timeout=10)
        for n in range(count):
            future = producer.send(topic, value=f"{tag}-{n}".encode())
            future.add_callback(
                lambda _metadata, n=n: acked.append((time.monotonic(), f"{tag}-{n}"))
            )
            future.add_errback(lambda error: failed.update([type(error).__name__]))
            if n == stop_after:
                stopper.start()  # the stream goes on while the leader goes away
            time.sleep(pause_s)
        producer.flush(timeout=40)
    finally:
        producer.close(timeout=2)
        if stopper.ident is not None:
            stopper.join()
    new_leader = leader(bootstrap, topic)
    stored = [value for value in stored_values(bootstrap, topic) if value.startswith(f"{tag}-")]
    if restart:
        cluster.start_node(old_leader)
    acked_at = [moment for moment, _value in acked]
    # The stop itself counts as a moment: the pause it causes runs until the next ack.
    moments = sorted(acked_at + stopped_at)
    gaps = [later - earlier for earlier, later in zip(moments, moments[1:], strict=False)]
    after_stop = [moment for moment in acked_at if moment > stopped_at[0]]
    return {
        "old leader": old_leader,
        "new leader": new_leader,
        "sent": count,
        "acknowledged": len(acked_at),
        "acknowledged, not stored": len({value for _moment, value in acked} - set(stored)),
        "failed": dict(failed),
        "stored": len(stored),
        "stored twice": len(stored) - len(set(stored)),
        "longest pause (s)": round(max(gaps, default=0.0), 2),
        "acknowledged after the stop": len(after_stop),
    }
