"""The course broker's lifecycle (broker/control.py, broker/jvm.py) on a real Kafka JVM: it
starts, keeps data across down/up, wipes it on reset, and fails with one clear line."""

from __future__ import annotations

import socket
import warnings
from contextlib import closing

import pytest

from autograder import broker
from autograder.broker import cds, jars
from autograder.broker.java_runtime import find_java
from autograder.broker.ports import free_port
from autograder.broker.probe import probe

with warnings.catch_warnings():
    # kafka-python 3.0 loads its protocol schemas with the deprecated importlib.resources.read_text.
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.admin import NewTopic

pytestmark = [pytest.mark.timeout(180)]


@pytest.mark.broker  # starts a JVM of its own
def test_records_and_committed_offsets_survive_down_and_up(broker_state):
    port = free_port()
    started = broker.up(port=port, state_dir=broker_state)
    bootstrap = f"localhost:{port}"
    assert (started.mode, started.bootstrap) == ("jvm", bootstrap)
    assert broker.bootstrap_servers() == bootstrap  # read from the state dir's record
    assert "Kafka Server started" in broker.logs(lines=400, state_dir=broker_state)

    with closing(KafkaAdminClient(bootstrap_servers=bootstrap)) as admin:
        admin.create_topics([NewTopic("kept", 1, 1)])
    with closing(KafkaProducer(bootstrap_servers=bootstrap)) as producer:
        producer.send("kept", b"still here").get(timeout=30)
    with closing(
        KafkaConsumer(
            "kept",
            bootstrap_servers=bootstrap,
            group_id="keeper",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            consumer_timeout_ms=30_000,
        )
    ) as consumer:
        assert next(iter(consumer)).value == b"still here"
        consumer.commit()

    assert broker.down(broker_state).startswith("Stopped the Kafka broker")
    assert broker.status(broker_state).mode == "stopped"
    assert cds.archive_path(find_java(), jars.kafka_jars()).is_file()  # next starts map it
    assert probe(bootstrap) is None
    assert broker.bootstrap_servers() == "localhost:9092"

    assert broker.up(port=port, state_dir=broker_state).mode == "jvm"
    # No retry here on purpose: `up` returns only once the group coordinator has reloaded.
    with closing(KafkaAdminClient(bootstrap_servers=bootstrap)) as admin:
        offsets = admin.list_group_offsets({"keeper": None})["keeper"]
    assert offsets[TopicPartition("kept", 0)].offset == 1
    with closing(
        KafkaConsumer(
            "kept",
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            consumer_timeout_ms=30_000,
        )
    ) as reader:
        assert next(iter(reader)).value == b"still here"


@pytest.mark.broker  # starts a JVM of its own
def test_reset_wipes_topics_and_their_sinks_but_keeps_the_jar_cache(broker_state):
    port = free_port()
    bootstrap = f"localhost:{port}"
    broker.up(port=port, state_dir=broker_state)
    with closing(KafkaAdminClient(bootstrap_servers=bootstrap)) as admin:
        admin.create_topics([NewTopic("doomed", 1, 1)])
    (broker_state / "sinks").mkdir()
    (broker_state / "sinks" / "doomed.db").write_bytes(b"lesson 07's sink of a doomed topic")

    message = broker.reset(broker_state)
    assert message.startswith("Stopped the Kafka broker") and "wiped" in message
    assert not (broker_state / "kafka-data").exists() and not (broker_state / "broker.log").exists()
    assert not (broker_state / "sinks").exists()
    assert jars.cache_marker().exists()

    broker.up(port=port, state_dir=broker_state)
    with closing(KafkaAdminClient(bootstrap_servers=bootstrap)) as admin:
        assert "doomed" not in admin.list_topics()


@pytest.mark.broker  # starts a JVM of its own
def test_up_when_running_starts_nothing(broker_state):
    port = free_port()
    first = broker.up(port=port, state_dir=broker_state)
    again = broker.up(port=port, state_dir=broker_state)
    assert again.pid == first.pid and "already running" in again.detail


def test_readiness_needs_a_kafka_answer_not_just_an_open_port():
    with socket.socket() as silent:  # accepts connections, never speaks Kafka
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        with pytest.raises(broker.BrokerError, match="No Kafka broker answered"):
            broker.wait_until_ready(f"localhost:{silent.getsockname()[1]}", timeout=1)


@pytest.mark.broker  # runs `java -version` before it finds the port taken
def test_busy_port_is_named_in_a_one_line_error(broker_state):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        with pytest.raises(broker.BrokerError) as caught:
            broker.up(port=port, state_dir=broker_state)
    assert f"Port {port} is already in use" in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.broker  # starts a JVM of its own
def test_broker_that_dies_on_start_reports_its_log_tail(broker_state):
    data = broker_state / "kafka-data"
    data.mkdir(parents=True)  # a data dir that belongs to another node: Kafka refuses it
    (data / "meta.properties").write_text(
        "version=1\nnode.id=7\ncluster.id=a2Fma2EtY291cnNlLTAwMQ\n"
        "directory.id=13EunIKIY8eHEilxP9TwGA\n"
    )
    with pytest.raises(broker.BrokerError) as caught:
        broker.up(port=free_port(), state_dir=broker_state)
    first_line, _, tail = str(caught.value).partition("\n")
    assert "exited during startup" in first_line and "Stored node id 7" in first_line
    assert "RuntimeException" in caught.value.log_tail and "RuntimeException" in tail
    assert (
        broker.status(broker_state).mode == "stopped" and not (broker_state / "broker.pid").exists()
    )
