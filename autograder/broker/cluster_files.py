"""Where a multi-broker cluster keeps its files, and the files that configure each node.

A cluster folder holds one sub-folder per node (`controller/`, `broker-1/`, `broker-2/`, ...),
each with its data dir, its rendered .properties file, its log and its pid file, plus
`cluster.json`, the record the last start wrote (ports, cluster id, who owns the processes).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from string import Template

from autograder.broker.jars import KafkaJars
from autograder.broker.java_runtime import JavaRuntime
from autograder.broker.storage import BOOTSTRAP_FILE, bootstrap_template, kafka_uuid

CONTROLLER_ID = 0  # brokers are 1..n, so a partition's replica list reads as broker numbers
CONTROLLER_TEMPLATE = Path(__file__).with_name("cluster-controller.properties")
BROKER_TEMPLATE = Path(__file__).with_name("cluster-broker.properties")
SESSION_TIMEOUT_MS = 4000  # a crashed broker is fenced after this long (Kafka: 9000)


@dataclass(frozen=True)
class ClusterLayout:
    """The files of one cluster under `root`; removing `root` removes the whole cluster."""

    root: Path

    @property
    def record_file(self) -> Path:
        return self.root / "cluster.json"

    @property
    def lock_file(self) -> Path:
        return self.root / "cluster.lock"

    def node_dir(self, node: int) -> Path:
        return self.root / ("controller" if node == CONTROLLER_ID else f"broker-{node}")

    def data_dir(self, node: int) -> Path:
        return self.node_dir(node) / "data"

    def properties(self, node: int) -> Path:
        return self.node_dir(node) / "server.properties"

    def log_file(self, node: int) -> Path:
        return self.node_dir(node) / "node.log"

    def pid_file(self, node: int) -> Path:
        return self.node_dir(node) / "node.pid"

    def read_record(self) -> dict:
        """What the last start wrote, or {} when there is no (readable) record."""
        try:
            return json.loads(self.record_file.read_text())
        except (OSError, ValueError):
            return {}

    def write_record(self, record: dict) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        temporary = self.record_file.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(record, indent=2) + "\n")
        os.replace(temporary, self.record_file)  # readers never see half a record


def render_node_properties(layout: ClusterLayout, node: int, record: dict) -> Path:
    """Write node `node`'s server.properties from the cluster record; returns its path."""
    brokers = record["nodes"]
    values = {
        "node_id": node,
        "controller_id": CONTROLLER_ID,
        "controller_port": record["controller_port"],
        "data_dir": layout.data_dir(node).resolve(),
        "session_timeout_ms": SESSION_TIMEOUT_MS,
        "heartbeat_interval_ms": SESSION_TIMEOUT_MS // 4,
        # Internal topics as replicated as the cluster allows, at most 3 copies, 2 in sync.
        "internal_replicas": min(brokers, 3),
        "internal_min_isr": min(brokers, 2),
    }
    if node != CONTROLLER_ID:
        values["port"] = record["ports"][node - 1]
    template = CONTROLLER_TEMPLATE if node == CONTROLLER_ID else BROKER_TEMPLATE
    target = layout.properties(node)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(Template(template.read_text()).substitute(values))
    return target


def existing_cluster_id(layout: ClusterLayout) -> str | None:
    """The cluster id stored in the controller's data, if this cluster ran before."""
    meta = layout.data_dir(CONTROLLER_ID) / "meta.properties"
    try:
        for line in meta.read_text().splitlines():
            if line.startswith("cluster.id="):
                return line.partition("=")[2].strip()
    except OSError:
        pass
    return None


def ensure_node_formatted(
    layout: ClusterLayout, node: int, cluster_id: str, jars: KafkaJars, java: JavaRuntime
) -> bool:
    """Format node `node`'s data dir as `kafka-storage format` would, unless it holds data.

    Same trick as storage.py: the bootstrap.checkpoint made once by the real StorageTool is
    copied, and meta.properties (this node's id, the shared cluster id) is written directly.
    """
    data_dir = layout.data_dir(node)
    if (data_dir / "meta.properties").exists():
        return False
    template = bootstrap_template(jars, java)
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, data_dir / BOOTSTRAP_FILE)
    stamp = time.strftime("%a %b %d %H:%M:%S %Z %Y")
    (data_dir / "meta.properties").write_text(
        f"#\n#{stamp}\nnode.id={node}\ndirectory.id={kafka_uuid()}\nversion=1\n"
        f"cluster.id={cluster_id}\n"
    )
    return True
