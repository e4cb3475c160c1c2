"""Where the broker's Kafka jars come from (broker/jars.py, central.py, download.py): fetched
once and cached, pinned jars checked against their SHA-256 and a downloaded release against its
SHA-512, one clear line when nothing can serve them."""

from __future__ import annotations

import hashlib
import http.server
import io
import shutil
import tarfile
import threading
from pathlib import Path

import pytest

from autograder import broker
from autograder.broker import central, download, jars
from autograder.broker.ports import free_port
from autograder.broker.versions import KAFKA_VERSION, SCALA_VERSION
from autograder.grading.paths import REPO_ROOT

pytestmark = [pytest.mark.timeout(180)]


def offline(monkeypatch, tmp_path) -> None:
    """Only `java` on PATH (no mvn); Maven Central and the archive mirror refuse connections."""
    bin_dir = tmp_path / "offline-bin"
    bin_dir.mkdir()
    (bin_dir / "java").symlink_to(Path(shutil.which("java")).resolve())
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv(download.MIRROR_VARIABLE, "http://127.0.0.1:9")
    monkeypatch.setenv(central.MIRROR_VARIABLE, "http://127.0.0.1:9")


@pytest.mark.broker  # starts a JVM of its own
def test_second_up_downloads_nothing(broker_state, monkeypatch, tmp_path):
    jars.kafka_jars()  # the first fetch, if this machine never made one
    marker = jars.cache_marker()
    before = marker.stat().st_mtime_ns
    offline(monkeypatch, tmp_path)  # without Maven or the archive, only the cache can serve

    assert broker.up(port=free_port(), state_dir=broker_state).mode == "jvm"
    assert jars.kafka_jars().source == "cache"
    assert marker.stat().st_mtime_ns == before


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


@pytest.mark.broker  # needs the real Kafka jars (Maven, a JVM, on a fresh clone)
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


@pytest.mark.broker  # needs the real Kafka jars (Maven, a JVM, on a fresh clone)
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


def _pinned_jar_paths() -> list[str]:
    return [central.jar_path(coordinate) for coordinate, _ in central.PINNED_JARS]


@pytest.mark.broker  # needs the real Kafka jars (a fresh clone downloads them first)
def test_pinned_jars_come_from_a_maven_repository_byte_for_byte(monkeypatch, tmp_path):
    cached = jars.kafka_jars().libs_dir
    served = {path: (cached / path.rsplit("/", 1)[1]).read_bytes() for path in _pinned_jar_paths()}
    monkeypatch.delenv(central.MIRROR_VARIABLE, raising=False)
    monkeypatch.setenv("KAFKA_COURSE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("KAFKA_HOME", raising=False)
    offline(monkeypatch, tmp_path)  # no mvn, no archive: only the Maven repository below

    with _Mirror(served) as mirror:
        monkeypatch.setenv(central.MIRROR_VARIABLE, mirror.url)
        fetched = jars.kafka_jars()
    assert fetched.source == "maven-central"
    assert sorted(p.name for p in fetched.libs_dir.iterdir()) == sorted(
        p.name for p in cached.glob("*.jar")
    )
    assert all(
        (fetched.libs_dir / p.name).read_bytes() == p.read_bytes() for p in cached.glob("*.jar")
    )


def test_a_pinned_jar_with_other_bytes_is_refused_and_nothing_is_cached(monkeypatch, tmp_path):
    monkeypatch.setenv("KAFKA_COURSE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("KAFKA_HOME", raising=False)
    offline(monkeypatch, tmp_path)

    with _Mirror({path: b"not the pinned jar" for path in _pinned_jar_paths()}) as mirror:
        monkeypatch.setenv(central.MIRROR_VARIABLE, mirror.url)
        with pytest.raises(broker.BrokerError) as caught:
            jars.kafka_jars()
    assert "does not match its pinned SHA-256" in str(caught.value)
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
