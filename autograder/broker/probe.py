"""Is a Kafka broker really serving? Ask it, with the requests clients start with.

A port that accepts connections proves little: Kafka opens its client listener only once the
broker is unfenced, but anything else may be listening there. So readiness is a real protocol
round trip, ApiVersions then Metadata, answered with at least one live broker. On a restarted
single broker, the group coordinator also reloads committed offsets after that; until it has,
OffsetFetch fails with COORDINATOR_LOAD_IN_PROGRESS. So when __consumer_offsets exists, every
one of its partitions must answer an OffsetFetch too.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

from autograder.broker.errors import BrokerError

API_VERSIONS, METADATA, OFFSET_FETCH = 18, 3, 9
OFFSETS_TOPIC = "__consumer_offsets"
METADATA_VERSION = 4  # non-flexible, served by every Kafka since 1.0, carries the cluster id
POLL_SECONDS = 0.05


@dataclass(frozen=True)
class ClusterInfo:
    """What one Metadata answer says about the cluster."""

    cluster_id: str | None
    broker_count: int


def probe(bootstrap: str, timeout: float = 2.0) -> ClusterInfo | None:
    """Ask each `host:port` in `bootstrap` in turn; the first full answer, or None."""
    for host, port in _addresses(bootstrap):
        try:
            info = _ask(host, port, timeout)
        except (OSError, ValueError, struct.error):
            continue
        if info.broker_count > 0:
            return info
    return None


def wait_until_ready(
    bootstrap: str, timeout: float, *, still_starting: Callable[[], bool] | None = None
) -> ClusterInfo:
    """Poll until the broker at `bootstrap` answers ApiVersions and Metadata; raise on timeout.

    Args:
        bootstrap: "host:port[,host:port...]", as Kafka clients take it.
        timeout: seconds to keep trying.
        still_starting: optional check run between attempts; when it returns False (say, the
            broker process exited) waiting stops at once with a BrokerError.

    Example:
        >>> wait_until_ready("localhost:9092", timeout=30).broker_count
        1
    """
    deadline = time.monotonic() + timeout
    while True:
        info = probe(bootstrap, timeout=min(2.0, max(0.2, deadline - time.monotonic())))
        if info is not None:
            return info
        if still_starting is not None and not still_starting():
            raise BrokerError(f"The broker for {bootstrap} stopped before it answered.")
        if time.monotonic() >= deadline:
            raise BrokerError(
                f"No Kafka broker answered at {bootstrap} within {timeout:g} s; start one with "
                "`kafka-course broker up`, or fix KAFKA_BOOTSTRAP_SERVERS."
            )
        time.sleep(POLL_SECONDS)


def _addresses(bootstrap: str) -> list[tuple[str, int]]:
    addresses = []
    for item in bootstrap.split(","):
        host, _, port = item.strip().rpartition(":")
        if host and port.isdigit():
            addresses.append((host.strip("[]"), int(port)))
    return addresses


def _ask(host: str, port: int, timeout: float) -> ClusterInfo:
    with socket.create_connection((host, port), timeout=timeout) as connection:
        connection.settimeout(timeout)
        versions = _round_trip(connection, API_VERSIONS, 0, 1, b"")
        if struct.unpack_from(">h", versions, 0)[0] != 0:
            raise ValueError("ApiVersions returned an error")
        # Metadata v4 body: just the offsets topic, and allow_auto_topic_creation=false.
        body = struct.pack(">i", 1) + _string(OFFSETS_TOPIC) + struct.pack(">b", 0)
        info, offsets_partitions = _parse_metadata_v4(
            _round_trip(connection, METADATA, METADATA_VERSION, 2, body)
        )
        # With several brokers the coordinator may live elsewhere: only a lone broker is asked.
        if info.broker_count == 1:
            for partition in range(offsets_partitions):
                _check_coordinator(connection, partition, offsets_partitions)
        return info


def _check_coordinator(connection: socket.socket, partition: int, partitions: int) -> None:
    """OffsetFetch v2 (all offsets of a group that never existed) on one offsets partition."""
    body = _string(group_for_partition(partition, partitions)) + struct.pack(">i", -1)
    response = _round_trip(connection, OFFSET_FETCH, 2, 100 + partition, body)
    (error,) = struct.unpack_from(">h", response, len(response) - 2)
    if error != 0:  # 14 loading, 15 not available, 16 not coordinator (yet)
        raise ValueError(f"group coordinator for {OFFSETS_TOPIC}-{partition}: error {error}")


def group_for_partition(partition: int, partitions: int) -> str:
    """A group id that Kafka maps to offsets partition `partition` (abs(hashCode) % count)."""
    index = 0
    while True:
        group = f"kafka-course-ready-{index}"
        if _java_abs(_java_string_hash(group)) % partitions == partition:
            return group
        index += 1


def _java_string_hash(text: str) -> int:
    value = 0
    for char in text:  # ASCII only here, so UTF-16 code units equal characters
        value = (31 * value + ord(char)) & 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def _java_abs(value: int) -> int:
    return 0 if value == -(1 << 31) else abs(value)  # Kafka's Utils.abs


def _string(text: str) -> bytes:
    data = text.encode()
    return struct.pack(">h", len(data)) + data


def _round_trip(
    connection: socket.socket, api_key: int, version: int, correlation: int, body: bytes
) -> bytes:
    client_id = b"kafka-course-probe"
    header = struct.pack(">hhih", api_key, version, correlation, len(client_id)) + client_id
    connection.sendall(struct.pack(">i", len(header) + len(body)) + header + body)
    size = struct.unpack(">i", _read_exactly(connection, 4))[0]
    response = _read_exactly(connection, size)
    if struct.unpack_from(">i", response, 0)[0] != correlation:
        raise ValueError("response to another request")
    return response[4:]


def _parse_metadata_v4(payload: bytes) -> tuple[ClusterInfo, int]:
    """The cluster, and how many partitions the offsets topic has (0 if it does not exist)."""
    offset = 4  # throttle_time_ms
    (brokers,) = struct.unpack_from(">i", payload, offset)
    offset += 4
    for _ in range(brokers):
        offset += 4  # node_id
        offset = _skip_string(payload, offset)  # host
        offset += 4  # port
        offset = _skip_string(payload, offset)  # rack (nullable)
    (length,) = struct.unpack_from(">h", payload, offset)
    cluster_id = None if length < 0 else payload[offset + 2 : offset + 2 + length].decode()
    offset = _skip_string(payload, offset) + 4  # cluster_id, controller_id
    (topics,) = struct.unpack_from(">i", payload, offset)
    partitions = 0
    if topics == 1:
        (topic_error,) = struct.unpack_from(">h", payload, offset + 4)
        offset = _skip_string(payload, offset + 6) + 1  # name, is_internal
        if topic_error == 0:
            (partitions,) = struct.unpack_from(">i", payload, offset)
    return ClusterInfo(cluster_id, brokers), partitions


def _skip_string(payload: bytes, offset: int) -> int:
    (length,) = struct.unpack_from(">h", payload, offset)
    return offset + 2 + max(length, 0)


def _read_exactly(connection: socket.socket, size: int) -> bytes:
    chunks, remaining = [], size
    while remaining:
        chunk = connection.recv(min(remaining, 65536))
        if not chunk:
            raise ConnectionError("the broker closed the connection")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
