"""One real broker for the whole test session: testcontainers when Docker answers, otherwise
the course's own JVM launcher on a free port (so a learner's broker on 9092 is never touched)."""

from __future__ import annotations

import pytest

from autograder.broker.cluster import start_cluster
from autograder.broker.fixture import test_broker as _broker_for_tests
from autograder.grading import kafka_io
from autograder.grading.namespace import Namespace, new_run_id
from autograder.grading.quiet import silence_kafka_logs


@pytest.fixture(scope="session")
def bootstrap():
    with _broker_for_tests() as address:
        yield address
        kafka_io.close_all()  # before the broker goes: no client left retrying a dead socket
    # Producers that wrong answers leave open retry at exit; keep their noise out of the report.
    silence_kafka_logs()


@pytest.fixture
def namespace():
    """A fresh run namespace, as a lesson's setup cell would make."""
    return Namespace(new_run_id(), "01")


@pytest.fixture
def topic(bootstrap, namespace, request):
    """make(name, partitions, configs): a fresh topic in the test's namespace. A test module may
    set DEFAULT_PARTITIONS for its own default (1 otherwise)."""
    default_partitions = getattr(request.module, "DEFAULT_PARTITIONS", 1)

    def make(name, partitions=None, configs=None):
        full = namespace.topic(name)
        kafka_io.create_topic(bootstrap, full, partitions or default_partitions, configs)
        return full

    return make


@pytest.fixture(scope="module")
def cluster():
    """A throwaway three-broker cluster (one controller) for one test module, shut down after."""
    cluster = start_cluster()
    try:
        yield cluster
    finally:
        cluster.shutdown()
