"""up / down / status / logs / reset: pick the broker kind, then drive it.

The kind, in order: KAFKA_BOOTSTRAP_SERVERS set -> that cluster ("external"), nothing started;
KAFKA_COURSE_BROKER=jvm|docker -> that kind; a Docker engine answers -> docker-compose.yml;
otherwise the JVM launcher.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

from autograder.broker import docker, jvm
from autograder.broker.cluster_control import (
    cluster_dir,
    cluster_logs,
    cluster_status,
    cluster_stop,
    cluster_up,
)
from autograder.broker.errors import BrokerError
from autograder.broker.layout import StateLayout, exclusive, layout_for
from autograder.broker.ports import port_in_use_error, port_is_free
from autograder.broker.probe import probe, wait_until_ready
from autograder.broker.status import BrokerStatus
from autograder.broker.versions import KAFKA_VERSION
from autograder.grading.paths import cache_dir

EXTERNAL_VARIABLE = "KAFKA_BOOTSTRAP_SERVERS"
MODE_VARIABLE = "KAFKA_COURSE_BROKER"
DEFAULT_BOOTSTRAP = "localhost:9092"
DOCKER_READY_TIMEOUT_SECONDS = 180  # includes the first image pull
EXTERNAL_READY_TIMEOUT_SECONDS = 5


def bootstrap_servers() -> str:
    """Where Kafka clients should connect.

    KAFKA_BOOTSTRAP_SERVERS if set, else the running course broker's address as recorded in
    the state dir, else "localhost:9092".
    """
    external = os.environ.get(EXTERNAL_VARIABLE, "").strip()
    if external:
        return external
    current = _local_status(layout_for(None), ask_broker=False)  # cheap: no network round trip
    return current.bootstrap if current.running else DEFAULT_BOOTSTRAP


def chosen_mode() -> str:
    """ "external", "docker" or "jvm": what `up` would use right now."""
    if os.environ.get(EXTERNAL_VARIABLE, "").strip():
        return "external"
    forced = os.environ.get(MODE_VARIABLE, "").strip().lower()
    if forced in ("jvm", "docker"):
        return forced
    if forced:
        raise BrokerError(
            f"{MODE_VARIABLE}={forced!r} is not a broker kind; set it to `jvm` or "
            "`docker`, or unset it to choose automatically."
        )
    if docker.engine_answers() and docker.compose_command() is not None:
        return "docker"
    return "jvm"


def up(port: int = 9092, state_dir: Path | None = None, nodes: int = 1) -> BrokerStatus:
    """Start the course broker on localhost:`port` (a no-op if it already runs) and wait for it.

    nodes > 1 starts a cluster instead: a KRaft controller plus `nodes` brokers on ports
    port..port+nodes-1 (see cluster_control.py). A running broker or cluster is left as it is,
    whatever its size: `down` first to change it.

    Example:
        >>> up().describe()
        'running at localhost:9092 (JVM process, pid 4242); Kafka 4.3.1; data in .state/kafka-data'
    """
    mode = chosen_mode()
    if mode == "external":
        return _check_external()
    layout = layout_for(state_dir)
    with exclusive(layout):
        current = _local_status(layout)
        if current.running:
            return replace(current, detail=f"already running, nothing started; {current.detail}")
        if nodes > 1:
            return cluster_up(layout, mode, port, nodes)
        if mode == "docker":
            return _docker_up(layout, port)
        record = jvm.start(layout, port)
        return _jvm_status(layout, record, record["pid"])


def down(state_dir: Path | None = None) -> str:
    """Stop the course broker, keeping its data; returns one line saying what happened."""
    if os.environ.get(EXTERNAL_VARIABLE, "").strip():
        return (
            f"Nothing to stop: the course uses the external cluster at "
            f"{os.environ[EXTERNAL_VARIABLE].strip()} (KAFKA_BOOTSTRAP_SERVERS)."
        )
    layout = layout_for(state_dir)
    with exclusive(layout):
        return _stop(layout)


def status(state_dir: Path | None = None) -> BrokerStatus:
    """Which broker the course uses and whether it answers."""
    if os.environ.get(EXTERNAL_VARIABLE, "").strip():
        bootstrap = os.environ[EXTERNAL_VARIABLE].strip()
        info = probe(bootstrap)
        detail = (
            f"answers; cluster id {info.cluster_id}"
            if info
            else "does not answer; start that cluster, or unset KAFKA_BOOTSTRAP_SERVERS"
        )
        return BrokerStatus("external", bootstrap, None, detail)
    return _local_status(layout_for(state_dir))


def logs(lines: int = 50, state_dir: Path | None = None) -> str:
    """The last `lines` lines of the broker's log."""
    if os.environ.get(EXTERNAL_VARIABLE, "").strip():
        return (
            f"The course uses the external cluster at {os.environ[EXTERNAL_VARIABLE].strip()}"
            "; read its logs where it runs."
        )
    layout = layout_for(state_dir)
    if layout.read_record().get("nodes", 1) > 1:
        return cluster_logs(layout.read_record(), lines)
    if layout.read_record().get("mode") == "docker":
        return docker.compose("logs", "--no-color", "--tail", str(lines), docker.SERVICE).rstrip()
    tail = jvm.log_tail(layout.log_file, lines)
    return tail or (
        f"No broker log yet at {layout.log_file}; start the broker with `kafka-course broker up`."
    )


def reset(state_dir: Path | None = None) -> str:
    """Stop the broker and wipe its data (topics, offsets, log); the jar cache stays."""
    if os.environ.get(EXTERNAL_VARIABLE, "").strip():
        raise BrokerError(
            f"KAFKA_BOOTSTRAP_SERVERS points at an external cluster "
            f"({os.environ[EXTERNAL_VARIABLE].strip()}); reset only wipes the "
            "course's own broker: delete topics there yourself, or unset it."
        )
    layout = layout_for(state_dir)
    with exclusive(layout):
        stopped = _stop(layout)
        if chosen_mode() == "docker":
            docker.compose("down", "--volumes")
        for path in [*layout.owned_paths(), cluster_dir(layout)]:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
    first = (
        stopped.split(";")[0].rstrip(".")
        if stopped.startswith("Stopped")
        else "No broker was running"
    )
    return (
        f"{first}; wiped its data and log in {layout.root}; the Kafka jars in {cache_dir()} stay."
    )


def _stop(layout: StateLayout) -> str:
    record = layout.read_record()
    if record.get("nodes", 1) > 1:
        return cluster_stop(layout, record)
    if record.get("mode") == "docker":
        docker.compose("down")  # keeps the named volume, so the data survives
        layout.forget_running_broker()
        return "Stopped the Docker broker; its data stays in the `kafka-data` volume."
    pid = jvm.stop(layout)
    if pid is None:
        return "No course broker is running; nothing to stop."
    return f"Stopped the Kafka broker (pid {pid}); its data stays in {layout.data_dir}."


def _local_status(layout: StateLayout, ask_broker: bool = True) -> BrokerStatus:
    """The state dir's broker; `ask_broker` also checks that it answers."""
    record = layout.read_record()
    if record.get("nodes", 1) > 1:
        return cluster_status(layout, record, ask_broker)
    if record.get("mode") == "jvm":
        pid = jvm.running_pid(layout)
        if pid is not None:
            return _jvm_status(layout, record, pid, ask_broker)
    elif record.get("mode") == "docker" and (
        not ask_broker or probe(record["bootstrap"], timeout=1.0)
    ):
        return BrokerStatus(
            "docker",
            record["bootstrap"],
            None,
            f"Kafka {KAFKA_VERSION}; data in the `kafka-data` Docker volume",
        )
    return BrokerStatus(
        "stopped", "", None, "no course broker runs; start one with `kafka-course broker up`"
    )


def _jvm_status(
    layout: StateLayout, record: dict, pid: int, ask_broker: bool = True
) -> BrokerStatus:
    detail = f"Kafka {record.get('kafka_version', KAFKA_VERSION)}; data in {layout.data_dir}"
    if ask_broker and probe(record["bootstrap"], timeout=1.0) is None:
        detail += "; not answering (starting, or stuck: see `kafka-course broker logs`)"
    return BrokerStatus("jvm", record["bootstrap"], pid, detail)


def _docker_up(layout: StateLayout, port: int) -> BrokerStatus:
    if not port_is_free(port):
        raise port_in_use_error(port)
    bootstrap = f"localhost:{port}"
    docker.compose("up", "--detach", port=port)
    layout.write_record(
        {"mode": "docker", "bootstrap": bootstrap, "port": port, "kafka_version": KAFKA_VERSION}
    )
    try:
        wait_until_ready(bootstrap, DOCKER_READY_TIMEOUT_SECONDS)
    except BrokerError:
        raise BrokerError(
            f"The Docker broker did not answer at {bootstrap} within "
            f"{DOCKER_READY_TIMEOUT_SECONDS} s; see `kafka-course broker logs`, or "
            "set KAFKA_COURSE_BROKER=jvm to run Kafka without Docker."
        ) from None
    return BrokerStatus("docker", bootstrap, None, f"Kafka {KAFKA_VERSION} in Docker")


def _check_external() -> BrokerStatus:
    bootstrap = os.environ[EXTERNAL_VARIABLE].strip()
    try:
        info = wait_until_ready(bootstrap, EXTERNAL_READY_TIMEOUT_SECONDS)
    except BrokerError:
        raise BrokerError(
            f"KAFKA_BOOTSTRAP_SERVERS={bootstrap} does not answer; start that "
            "cluster, or unset KAFKA_BOOTSTRAP_SERVERS so `kafka-course broker up` "
            "runs the course's own broker."
        ) from None
    return BrokerStatus(
        "external", bootstrap, None, f"answers; cluster id {info.cluster_id}; nothing was started"
    )
