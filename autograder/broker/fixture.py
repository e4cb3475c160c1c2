"""A real Kafka broker for the test suite, never the learner's broker on 9092.

    with test_broker() as bootstrap:
        ...  # "host:port"

KAFKA_BOOTSTRAP_SERVERS if set (CI with its own cluster); else, when a Docker engine answers
(and KAFKA_COURSE_BROKER is not "jvm"), a testcontainers KafkaContainer running the pinned
apache/kafka image; else the course's JVM launcher on a free port with a throw-away state dir,
stopped and removed on exit.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from autograder.broker import docker, jvm
from autograder.broker.layout import StateLayout
from autograder.broker.ports import free_port
from autograder.broker.probe import wait_until_ready
from autograder.broker.versions import KAFKA_IMAGE

READY_TIMEOUT_SECONDS = 120


@contextlib.contextmanager
def test_broker() -> Iterator[str]:
    """Yield the bootstrap address of a running broker; stop whatever was started on exit."""
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
    if external:
        wait_until_ready(external, READY_TIMEOUT_SECONDS)
        yield external
    elif os.environ.get("KAFKA_COURSE_BROKER") != "jvm" and docker.engine_answers():
        with _kafka_container() as bootstrap:
            yield bootstrap
    else:
        with _jvm_broker() as bootstrap:
            yield bootstrap


test_broker.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test to collect


@contextlib.contextmanager
def _jvm_broker() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="kafka-course-test-") as scratch:
        layout = StateLayout(Path(scratch))
        record = jvm.start(layout, free_port(), timeout=READY_TIMEOUT_SECONDS)
        try:
            yield record["bootstrap"]
        finally:
            jvm.stop(layout)


@contextlib.contextmanager
def _kafka_container() -> Iterator[str]:
    # Imported here: testcontainers needs the Docker SDK, which machines without Docker skip.
    from testcontainers.community.kafka import KafkaContainer

    class ApacheKafkaContainer(KafkaContainer):
        """KafkaContainer for the apache/kafka image.

        The installed KafkaContainer writes a start script for Confluent's cp-kafka image
        (/etc/confluent/docker/...); apache/kafka keeps its scripts in /etc/kafka/docker and
        is KRaft-only, so its version is not compared with Confluent's 7.0 KRaft minimum.
        """

        def _verify_min_kraft_version(self) -> None:
            pass

        def tc_start(self) -> None:
            host = self.get_container_host_ip()
            port = self.get_exposed_port(self.port)
            script = (
                "#!/bin/bash\n"
                f"export KAFKA_ADVERTISED_LISTENERS={self.listener_name}://{host}:{port},"
                "BROKER://$(hostname -i | cut -d' ' -f1):9092\n"
                "exec /etc/kafka/docker/run\n"
            )
            self.create_file(script.encode(), KafkaContainer.TC_START_SCRIPT)

    container = ApacheKafkaContainer(KAFKA_IMAGE).with_kraft()
    for name, value in {
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR": "1",
        "KAFKA_HEAP_OPTS": "-Xmx512m",
    }.items():
        container.with_env(name, value)
    try:
        container.start(timeout=READY_TIMEOUT_SECONDS)
        bootstrap = container.get_bootstrap_server()
        wait_until_ready(bootstrap, READY_TIMEOUT_SECONDS)
        yield bootstrap
    finally:
        container.stop()  # also removes a container whose start timed out
