"""Kafka's wire framing, as much of it as the fault proxy needs.

Every Kafka message on a connection is a 4-byte big-endian size followed by that many bytes.
A request starts with api_key (int16), api_version (int16) and correlation_id (int32); the
broker answers each request in the order it came, with a response that starts with the same
correlation_id. The proxy reads only those fields, except for Produce requests, which it decodes
with kafka-python's own protocol classes: it needs their ``acks`` (acks=0 gets no response) and,
to answer one with an error itself, their topics and partitions.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from kafka.protocol.api_key import ApiKey
from kafka.protocol.producer import ProduceRequest, ProduceResponse

SIZE = struct.Struct(">i")
REQUEST_START = struct.Struct(">hhi")  # api_key, api_version, correlation_id
CORRELATION = struct.Struct(">i")


def api_key(name: str) -> int:
    """The api key of a request type by its Kafka name ("Produce", "Fetch", "Metadata", ...)."""
    try:
        return int(ApiKey[name])
    except KeyError:
        raise ValueError(f"no Kafka API is called {name!r}") from None


def api_name(key: int) -> str:
    try:
        return ApiKey(key).name
    except ValueError:
        return f"api-{key}"


def split_frames(buffer: bytearray) -> list[bytes]:
    """Take every complete frame (size prefix included) off the front of ``buffer``."""
    frames = []
    while len(buffer) >= SIZE.size:
        (size,) = SIZE.unpack_from(buffer, 0)
        end = SIZE.size + size
        if len(buffer) < end:
            break
        frames.append(bytes(buffer[:end]))
        del buffer[:end]
    return frames


@dataclass(frozen=True)
class Request:
    """One framed request as the client sent it."""

    frame: bytes
    api_key: int
    api_version: int
    correlation_id: int

    @classmethod
    def parse(cls, frame: bytes) -> Request:
        return cls(frame, *REQUEST_START.unpack_from(frame, SIZE.size))

    @property
    def api(self) -> str:
        return api_name(self.api_key)

    def _produce(self):
        return ProduceRequest.decode(self.frame[SIZE.size :], version=self.api_version, header=True)

    @property
    def expects_response(self) -> bool:
        """False only for Produce with acks=0: the broker sends nothing back for those."""
        return self.api_key != ApiKey.Produce or self._produce().acks != 0

    def produce_error_response(self, error_code: int) -> bytes:
        """A framed Produce response refusing every partition of this Produce request with
        ``error_code``, as the broker would refuse it: nothing written, offset -1."""
        if self.api_key != ApiKey.Produce:
            raise ValueError(f"only Produce requests can be answered with an error, not {self.api}")
        request = self._produce()
        version = self.api_version
        topic_class = ProduceResponse.TopicProduceResponse
        partition_class = topic_class.PartitionProduceResponse
        topics = []
        for topic in request.topic_data:
            partitions = [
                partition_class(
                    index=p.index,
                    error_code=error_code,
                    base_offset=-1,
                    log_append_time_ms=-1,
                    log_start_offset=-1,
                    record_errors=[],
                    error_message=None,
                    version=version,
                )
                for p in topic.partition_data
            ]
            topics.append(
                topic_class(
                    name=topic.name,
                    topic_id=topic.topic_id,
                    partition_responses=partitions,
                    version=version,
                )
            )
        response = ProduceResponse(
            responses=topics, throttle_time_ms=0, node_endpoints=[], version=version
        )
        response.with_header(correlation_id=self.correlation_id)
        return bytes(response.encode(header=True, framed=True))


def response_correlation_id(frame: bytes) -> int:
    return CORRELATION.unpack_from(frame, SIZE.size)[0]
