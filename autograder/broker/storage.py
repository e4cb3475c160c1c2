"""Format the broker's data dir for a first start, without paying for a second JVM each time.

`kafka-storage format` writes two files into a fresh log dir: meta.properties (cluster id,
node id, directory id; plain text) and bootstrap.checkpoint (the feature levels the new
cluster starts with; binary, but the same for every cluster of one Kafka version). So the real
StorageTool runs once per Kafka version to make a bootstrap.checkpoint kept in the cache, and
every later format copies it and writes meta.properties itself: same files, ~1.5 s less.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from autograder.broker.config import LOG4J_CONFIG, render_server_properties
from autograder.broker.errors import BrokerError
from autograder.broker.jars import KafkaJars
from autograder.broker.java_runtime import JavaRuntime

NODE_ID = 1  # must match node.id in server.properties
BOOTSTRAP_FILE = "bootstrap.checkpoint"


def ensure_formatted(data_dir: Path, jars: KafkaJars, java: JavaRuntime) -> bool:
    """Format `data_dir` unless it already holds a broker's data; True if it formatted now.

    An existing meta.properties means data worth keeping: topics and committed offsets
    survive `down`/`up`, and only `reset` removes them.
    """
    if (data_dir / "meta.properties").exists():
        return False
    template = bootstrap_template(jars, java)
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, data_dir / BOOTSTRAP_FILE)
    write_meta_properties(data_dir, cluster_id=kafka_uuid(), directory_id=kafka_uuid())
    return True


def bootstrap_template(jars: KafkaJars, java: JavaRuntime) -> Path:
    """The cached bootstrap.checkpoint for this Kafka version, made by the real StorageTool once."""
    cached = jars.home / "bootstrap" / BOOTSTRAP_FILE
    if cached.is_file():
        return cached
    with tempfile.TemporaryDirectory(prefix="kafka-format-") as scratch:
        data_dir = Path(scratch) / "data"
        config = render_server_properties(
            Path(scratch) / "server.properties", port=9092, controller_port=9093, data_dir=data_dir
        )
        command = [
            str(java.executable),
            "-XX:TieredStopAtLevel=1",
            "-XX:+UseSerialGC",
            f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
            "-cp",
            jars.classpath(),
            "kafka.tools.StorageTool",
            "format",
            "--cluster-id",
            kafka_uuid(),
            "--config",
            str(config),
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=300)
        made = data_dir / BOOTSTRAP_FILE
        if result.returncode != 0 or not made.is_file():
            raise BrokerError(
                f"`kafka-storage format` failed (exit code {result.returncode}); "
                "see its output below, or run `kafka-course broker reset`.",
                log_tail="\n".join(result.stdout.splitlines()[-15:]),
            )
        cached.parent.mkdir(parents=True, exist_ok=True)
        staged = cached.with_name(f"{BOOTSTRAP_FILE}.{uuid.uuid4().hex[:8]}.tmp")
        shutil.copyfile(made, staged)
        os.replace(staged, cached)  # concurrent first starts each see a whole file
    return cached


def write_meta_properties(data_dir: Path, *, cluster_id: str, directory_id: str) -> None:
    """meta.properties exactly as `kafka-storage format` writes it (version 1, KRaft)."""
    stamp = time.strftime("%a %b %d %H:%M:%S %Z %Y")
    (data_dir / "meta.properties").write_text(
        f"#\n#{stamp}\nnode.id={NODE_ID}\ndirectory.id={directory_id}\nversion=1\n"
        f"cluster.id={cluster_id}\n"
    )


def kafka_uuid() -> str:
    """A random id as Kafka prints them: 16 bytes, URL-safe base64, no padding.

    Like Kafka, skip ids starting with "-" (they read as command-line flags). Kafka's reserved
    ids (0, 1, 2) cannot come out of uuid4, whose version bits are always set.

    Example:
        >>> len(kafka_uuid())
        22
    """
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text
