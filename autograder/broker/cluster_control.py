"""`kafka-course broker up --nodes 3` and friends: the course broker as a multi-broker cluster.

control.py hands over here whenever the state dir's record says "nodes" > 1. With the JVM
launcher the cluster runs detached from `<state dir>/cluster/` (cluster.py); with Docker it is
the `cluster` profile of docker-compose.yml (a controller and three brokers).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass

from autograder.broker import docker
from autograder.broker.cluster import Cluster, NodeState, start_cluster, stop_cluster
from autograder.broker.errors import BrokerError
from autograder.broker.layout import StateLayout
from autograder.broker.ports import port_in_use_error, port_is_free
from autograder.broker.probe import probe, wait_until_ready
from autograder.broker.status import BrokerStatus
from autograder.broker.versions import KAFKA_VERSION

COMPOSE_PROFILE = "cluster"
COMPOSE_SERVICES = ("controller", "kafka-1", "kafka-2", "kafka-3")
COMPOSE_PORT_VARIABLES = tuple(f"KAFKA_COURSE_CLUSTER_PORT_{n}" for n in (1, 2, 3))
DOCKER_READY_TIMEOUT_SECONDS = 180


@dataclass(frozen=True)
class ClusterStatus(BrokerStatus):
    """A BrokerStatus for a multi-broker cluster, with one line per node."""

    nodes: tuple[NodeState, ...] = ()
    brokers: int = 0

    def describe(self) -> str:
        """The summary line, then one indented line per node.

        Example:
            running at localhost:9092,localhost:9093,localhost:9094 (3-broker cluster of JVM
            processes); Kafka 4.3.1; data in .state/cluster
              controller at localhost:40123: running (pid 4240)
              broker 1 at localhost:9092: running (pid 4241)
              ...
        """
        if not self.running:
            return super().describe()
        kind = "JVM processes" if self.mode == "jvm" else "Docker Compose profile `cluster`"
        first = f"running at {self.bootstrap} ({self.brokers}-broker cluster of {kind})"
        if self.detail:
            first += f"; {self.detail}"
        return "\n".join([first, *(f"  {node.describe()}" for node in self.nodes)])


def cluster_dir(layout: StateLayout):
    """Where `broker up --nodes N` keeps the cluster: beside the single broker's data."""
    return layout.root / "cluster"


def cluster_up(layout: StateLayout, mode: str, port: int, nodes: int) -> BrokerStatus:
    """Start the state dir's cluster of `nodes` brokers on ports port..port+nodes-1.

    A ClusterStatus, or a stopped BrokerStatus when the JVM brokers died right after starting.
    """
    if mode == "docker":
        return _docker_up(layout, port, nodes)
    cluster = start_cluster(cluster_dir(layout), brokers=nodes, first_port=port)
    layout.write_record(
        {
            "mode": "jvm",
            "nodes": nodes,
            "bootstrap": cluster.bootstrap,
            "cluster_dir": str(cluster.layout.root),
            "kafka_version": KAFKA_VERSION,
        }
    )
    return cluster_status(layout, layout.read_record())


def cluster_stop(layout: StateLayout, record: dict) -> str:
    """Stop every node of the state dir's cluster; one line saying what happened."""
    if record.get("mode") == "docker":
        _compose("down")
        layout.forget_running_broker()
        return (
            f"Stopped the {record['nodes']}-broker Docker cluster; its data stays in its "
            "Docker volumes."
        )
    pids = stop_cluster(record["cluster_dir"])
    layout.forget_running_broker()
    if not pids:
        return "No course broker is running; nothing to stop."
    return (
        f"Stopped the {record['nodes']}-broker cluster ({len(pids)} processes: the "
        f"controller and the brokers); its data stays in {record['cluster_dir']}."
    )


def cluster_status(layout: StateLayout, record: dict, ask_broker: bool = True) -> BrokerStatus:
    """The cluster's status; "stopped" once none of its brokers runs."""
    if record.get("mode") == "docker":
        if ask_broker and probe(record["bootstrap"], timeout=1.0) is None:
            return _stopped()
        return ClusterStatus(
            "docker", record["bootstrap"], None, f"Kafka {KAFKA_VERSION}", brokers=record["nodes"]
        )
    cluster = Cluster(record["cluster_dir"])
    states = tuple(cluster.nodes())
    if not any(node.running for node in states if node.role == "broker"):
        return _stopped()
    detail = f"Kafka {record.get('kafka_version', KAFKA_VERSION)}; data in {record['cluster_dir']}"
    if ask_broker and probe(record["bootstrap"], timeout=1.0) is None:
        detail += "; not answering (starting, or stuck: see `kafka-course broker logs`)"
    return ClusterStatus(
        "jvm", record["bootstrap"], None, detail, nodes=states, brokers=record["nodes"]
    )


def cluster_logs(record: dict, lines: int) -> str:
    """The last `lines` lines of each node's log, each under a heading."""
    if record.get("mode") == "docker":
        return _compose("logs", "--no-color", "--tail", str(lines), *COMPOSE_SERVICES).rstrip()
    cluster = Cluster(record["cluster_dir"])
    parts = []
    for node in cluster.nodes():
        name = "controller" if node.role == "controller" else f"broker {node.node}"
        parts.append(
            f"===== {name}: {cluster.layout.log_file(node.node)} =====\n"
            f"{cluster.log(node.node, lines)}"
        )
    return "\n".join(parts)


def _stopped() -> BrokerStatus:
    return BrokerStatus(
        "stopped", "", None, "no course broker runs; start one with `kafka-course broker up`"
    )


def _docker_up(layout: StateLayout, port: int, nodes: int) -> ClusterStatus:
    if nodes != len(COMPOSE_SERVICES) - 1:
        raise BrokerError(
            f"The Docker cluster has exactly 3 brokers, not {nodes}; use "
            "`--nodes 3`, or set KAFKA_COURSE_BROKER=jvm for another size."
        )
    ports = [port + n for n in range(nodes)]
    for candidate in ports:
        if not port_is_free(candidate):
            raise port_in_use_error(candidate)
    bootstrap = ",".join(f"localhost:{p}" for p in ports)
    _compose("up", "--detach", *COMPOSE_SERVICES, ports=ports)
    layout.write_record(
        {"mode": "docker", "nodes": nodes, "bootstrap": bootstrap, "kafka_version": KAFKA_VERSION}
    )
    try:
        wait_until_ready(bootstrap, DOCKER_READY_TIMEOUT_SECONDS)
    except BrokerError:
        raise BrokerError(
            f"The Docker cluster did not answer at {bootstrap} within "
            f"{DOCKER_READY_TIMEOUT_SECONDS} s; see `kafka-course broker logs`, or "
            "set KAFKA_COURSE_BROKER=jvm to run Kafka without Docker."
        ) from None
    return ClusterStatus("docker", bootstrap, None, f"Kafka {KAFKA_VERSION}", brokers=nodes)


def _compose(*arguments: str, ports: list[int] | None = None, timeout: float = 600) -> str:
    """`docker compose --profile cluster ...` with the cluster's ports in the environment."""
    command = docker.compose_command()
    if command is None:
        raise BrokerError(
            "Docker Compose is not installed; install the `docker compose` plugin, "
            "or set KAFKA_COURSE_BROKER=jvm to run Kafka without Docker."
        )
    environment = dict(os.environ)
    for variable, port in zip(COMPOSE_PORT_VARIABLES, ports or [], strict=False):
        environment[variable] = str(port)
    try:
        result = subprocess.run(
            [*command, "-f", str(docker.COMPOSE_FILE), "--profile", COMPOSE_PROFILE, *arguments],
            capture_output=True,
            text=True,
            env=environment,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as error:
        raise BrokerError(
            f"`docker compose {arguments[0]}` took over {timeout:g} s; check "
            "`docker info`, then run the command again."
        ) from error
    if result.returncode != 0:
        last = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise BrokerError(
            f"`docker compose --profile cluster {' '.join(arguments)}` failed: "
            f"{last[0]}; fix that, or set KAFKA_COURSE_BROKER=jvm."
        )
    return result.stdout + result.stderr
