"""The course broker (autograder/broker) against a real Kafka broker: it starts, keeps data
across down/up, wipes it on reset, fetches jars once, and fails with one clear line."""

from __future__ import annotations

import hashlib
import http.server
import io
import shutil
import socket
import tarfile
import threading
import warnings
from contextlib import closing
from pathlib import Path

import pytest
import yaml

from autograder import broker
from autograder.broker import cds, download, jars
from autograder.broker.fixture import test_broker as broker_for_tests
from autograder.broker.java_runtime import find_java, parse_java_version
from autograder.broker.ports import free_port
from autograder.broker.probe import probe
from autograder.broker.versions import KAFKA_IMAGE, KAFKA_VERSION, SCALA_VERSION
from autograder.grading.paths import REPO_ROOT

with warnings.catch_warnings():
    # kafka-python 3.0 loads its protocol schemas with the deprecated importlib.resources.read_text.
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.admin import NewTopic

pytestmark = [pytest.mark.timeout(180)]


@pytest.fixture
def state(tmp_path, monkeypatch) -> Path:
    """A fresh state dir for the JVM launcher, whatever the machine or the environment says."""
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.delenv("KAFKA_HOME", raising=False)
    monkeypatch.setenv("KAFKA_COURSE_BROKER", "jvm")
    state_dir = tmp_path / "state"
    monkeypatch.setenv("KAFKA_COURSE_STATE_DIR", str(state_dir))
    yield state_dir
    broker.down(state_dir)  # never leave a broker behind, whatever the test did


def offline(monkeypatch, tmp_path) -> None:
    """Only `java` on PATH (no mvn) and an archive mirror that refuses connections."""
    bin_dir = tmp_path / "offline-bin"
    bin_dir.mkdir()
    (bin_dir / "java").symlink_to(Path(shutil.which("java")).resolve())
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv(download.MIRROR_VARIABLE, "http://127.0.0.1:9")


def test_records_and_committed_offsets_survive_down_and_up(state):
    port = free_port()
    started = broker.up(port=port, state_dir=state)
    bootstrap = f"localhost:{port}"
    assert (started.mode, started.bootstrap) == ("jvm", bootstrap)
    assert broker.bootstrap_servers() == bootstrap  # read from the state dir's record
    assert "Kafka Server started" in broker.logs(lines=400, state_dir=state)

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

    assert broker.down(state).startswith("Stopped the Kafka broker")
    assert broker.status(state).mode == "stopped"
    assert cds.archive_path(find_java(), jars.kafka_jars()).is_file()  # next starts map it
    assert probe(bootstrap) is None
    assert broker.bootstrap_servers() == "localhost:9092"

    assert broker.up(port=port, state_dir=state).mode == "jvm"
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


def test_second_up_downloads_nothing(state, monkeypatch, tmp_path):
    jars.kafka_jars()  # the first fetch, if this machine never made one
    marker = jars.cache_marker()
    before = marker.stat().st_mtime_ns
    offline(monkeypatch, tmp_path)  # without Maven or the archive, only the cache can serve

    assert broker.up(port=free_port(), state_dir=state).mode == "jvm"
    assert jars.kafka_jars().source == "cache"
    assert marker.stat().st_mtime_ns == before


def test_reset_wipes_topics_and_their_sinks_but_keeps_the_jar_cache(state):
    port = free_port()
    bootstrap = f"localhost:{port}"
    broker.up(port=port, state_dir=state)
    with closing(KafkaAdminClient(bootstrap_servers=bootstrap)) as admin:
        admin.create_topics([NewTopic("doomed", 1, 1)])
    (state / "sinks").mkdir()
    (state / "sinks" / "doomed.db").write_bytes(b"lesson 07's sink of a doomed topic")

    message = broker.reset(state)
    assert message.startswith("Stopped the Kafka broker") and "wiped" in message
    assert not (state / "kafka-data").exists() and not (state / "broker.log").exists()
    assert not (state / "sinks").exists()
    assert jars.cache_marker().exists()

    broker.up(port=port, state_dir=state)
    with closing(KafkaAdminClient(bootstrap_servers=bootstrap)) as admin:
        assert "doomed" not in admin.list_topics()


def test_up_when_running_starts_nothing(state):
    port = free_port()
    first = broker.up(port=port, state_dir=state)
    again = broker.up(port=port, state_dir=state)
    assert again.pid == first.pid and "already running" in again.detail


def test_readiness_needs_a_kafka_answer_not_just_an_open_port():
    with socket.socket() as silent:  # accepts connections, never speaks Kafka
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        with pytest.raises(broker.BrokerError, match="No Kafka broker answered"):
            broker.wait_until_ready(f"localhost:{silent.getsockname()[1]}", timeout=1)


def test_busy_port_is_named_in_a_one_line_error(state):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        with pytest.raises(broker.BrokerError) as caught:
            broker.up(port=port, state_dir=state)
    assert f"Port {port} is already in use" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_java_asks_for_java_17(state, monkeypatch, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setenv("JAVA_HOME", str(empty))
    with pytest.raises(broker.BrokerError) as caught:
        broker.up(port=free_port(), state_dir=state)
    assert "No Java found" in str(caught.value) and "Java 17" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_java_versions_are_read_in_both_numbering_schemes():
    assert parse_java_version('openjdk version "17.0.15" 2025-04-15') == ("17.0.15", 17)
    assert parse_java_version('java version "1.8.0_392"') == ("1.8.0_392", 8)
    assert parse_java_version('openjdk version "25" 2025-09-16') == ("25", 25)


def test_broker_that_dies_on_start_reports_its_log_tail(state):
    data = state / "kafka-data"
    data.mkdir(parents=True)  # a data dir that belongs to another node: Kafka refuses it
    (data / "meta.properties").write_text(
        "version=1\nnode.id=7\ncluster.id=a2Fma2EtY291cnNlLTAwMQ\n"
        "directory.id=13EunIKIY8eHEilxP9TwGA\n"
    )
    with pytest.raises(broker.BrokerError) as caught:
        broker.up(port=free_port(), state_dir=state)
    first_line, _, tail = str(caught.value).partition("\n")
    assert "exited during startup" in first_line and "Stored node id 7" in first_line
    assert "RuntimeException" in caught.value.log_tail and "RuntimeException" in tail
    assert broker.status(state).mode == "stopped" and not (state / "broker.pid").exists()


def test_test_broker_fixture_serves_then_cleans_up(monkeypatch):
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    with broker_for_tests() as bootstrap:
        assert probe(bootstrap) is not None
    assert probe(bootstrap) is None


def test_compose_file_pins_the_same_image():
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    assert compose["services"]["kafka"]["image"] == KAFKA_IMAGE


class _Mirror:
    """A local web server laid out like archive.apache.org/dist/kafka, serving `files`."""

    def __init__(self, files: dict[str, bytes]):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                body = files.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def _release_tgz(version: str) -> bytes:
    """A small release archive: the real Kafka core jar under kafka_2.13-<v>/libs/."""
    core = jars.kafka_jars().libs_dir / f"kafka_{SCALA_VERSION}-{version}.jar"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as release:
        release.add(core, arcname=f"kafka_{SCALA_VERSION}-{version}/libs/{core.name}")
        release.add(
            REPO_ROOT / "docker-compose.yml",
            arcname=f"kafka_{SCALA_VERSION}-{version}/config/not-a-jar.yml",
        )
    return buffer.getvalue()


def test_release_download_is_checked_against_its_sha512(monkeypatch, tmp_path):
    tgz = _release_tgz(KAFKA_VERSION)
    name = f"/{KAFKA_VERSION}/kafka_{SCALA_VERSION}-{KAFKA_VERSION}.tgz"
    digest = hashlib.sha512(tgz).hexdigest().upper()
    gpg_style = f"{name[1:]}: " + " ".join(digest[i : i + 8] for i in range(0, 128, 8))
    monkeypatch.setenv("KAFKA_COURSE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("KAFKA_HOME", raising=False)
    offline(monkeypatch, tmp_path)  # no mvn: the archive is the only source

    with _Mirror({name: tgz, name + ".sha512": gpg_style.encode()}) as mirror:
        monkeypatch.setenv(download.MIRROR_VARIABLE, mirror.url)
        fetched = jars.kafka_jars()
    assert fetched.source == "apache-archive"
    assert [p.name for p in fetched.libs_dir.iterdir()] == [
        f"kafka_{SCALA_VERSION}-{KAFKA_VERSION}.jar"
    ]
    assert jars.cache_marker().exists()


def test_tampered_release_is_refused_and_nothing_is_cached(monkeypatch, tmp_path):
    tgz = _release_tgz(KAFKA_VERSION)
    name = f"/{KAFKA_VERSION}/kafka_{SCALA_VERSION}-{KAFKA_VERSION}.tgz"
    wrong = hashlib.sha512(tgz + b"tampered").hexdigest()
    monkeypatch.setenv("KAFKA_COURSE_CACHE", str(tmp_path / "cache"))
    offline(monkeypatch, tmp_path)

    with _Mirror({name: tgz, name + ".sha512": f"{wrong}  {name[1:]}\n".encode()}) as mirror:
        monkeypatch.setenv(download.MIRROR_VARIABLE, mirror.url)
        with pytest.raises(broker.BrokerError) as caught:
            jars.kafka_jars()
    assert "does not match its published SHA-512" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert not jars.cache_marker().exists()
    assert not list((tmp_path / "cache").rglob("*.jar"))


def test_no_maven_and_no_download_says_how_to_get_the_jars(monkeypatch, tmp_path):
    monkeypatch.setenv("KAFKA_COURSE_CACHE", str(tmp_path / "cache"))
    offline(monkeypatch, tmp_path)
    with pytest.raises(broker.BrokerError) as caught:
        jars.kafka_jars()
    message = str(caught.value)
    assert "Maven (`mvn`) is not installed" in message and "KAFKA_HOME" in message
    assert "\n" not in message
