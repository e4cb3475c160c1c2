"""Benchmark: a cold broker start with `kafka-course broker up` vs Kafka's stock procedure.

    .venv/bin/python bench/broker_start.py [--runs 5]

Both arms use the same jars (the course cache), the same log4j2 config, fresh state dirs and
free ports, and the same notion of "started": ApiVersions + Metadata answered (probe.py). They
alternate, so drift on a shared machine hits both alike.

- ours: `autograder.broker.up()` exactly as a learner runs it: Java check, jar cache lookup,
  format (copy of the cached bootstrap file + meta.properties), launch, wait.
- stock: Kafka's quickstart: `kafka-storage format --standalone` then `kafka-server-start`,
  i.e. two JVMs with kafka-run-class.sh's default JVM options, the server with -Xmx1G -Xms1G,
  and the distribution's config/server.properties (KRaft combined mode).
- ours without CDS: `up()` with KAFKA_COURSE_CDS=0, for what the class archive is worth.

Prints a table; the last line is JSON with broker_start_ratio = ours / stock (medians), plus
the median time of one check on a warm broker (check_median_ms, target 300 ms).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograder.broker import control, processes  # noqa: E402
from autograder.broker.config import LOG4J_CONFIG  # noqa: E402
from autograder.broker.jars import kafka_jars  # noqa: E402
from autograder.broker.java_runtime import find_java  # noqa: E402
from autograder.broker.ports import free_port  # noqa: E402
from autograder.broker.probe import wait_until_ready  # noqa: E402
from autograder.broker.storage import kafka_uuid  # noqa: E402

# Kafka 4.x config/server.properties, comments dropped; ports and log dir filled in per run.
STOCK_SERVER_PROPERTIES = """\
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=localhost:{controller_port}
listeners=PLAINTEXT://:{port},CONTROLLER://:{controller_port}
inter.broker.listener.name=PLAINTEXT
advertised.listeners=PLAINTEXT://localhost:{port},CONTROLLER://localhost:{controller_port}
controller.listener.names=CONTROLLER
listener.security.protocol.map={protocol_map}
num.network.threads=3
num.io.threads=8
socket.send.buffer.bytes=102400
socket.receive.buffer.bytes=102400
socket.request.max.bytes=104857600
log.dirs={data_dir}
num.partitions=1
num.recovery.threads.per.data.dir=1
offsets.topic.replication.factor=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
log.retention.hours=168
log.segment.bytes=1073741824
log.retention.check.interval.ms=300000
"""
STOCK_PROTOCOL_MAP = (
    "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,"
    "SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL"
)
# kafka-run-class.sh's KAFKA_JVM_PERFORMANCE_OPTS, used by every Kafka script.
STOCK_JVM_OPTIONS = [
    "-server",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-XX:MaxInlineLevel=15",
    "-Djava.awt.headless=true",
]
STOCK_TOOL_HEAP = ["-Xmx256M"]  # kafka-run-class.sh's default heap, for kafka-storage
STOCK_SERVER_HEAP = ["-Xmx1G", "-Xms1G"]  # kafka-server-start.sh's default heap
READY_TIMEOUT_SECONDS = 120


@contextlib.contextmanager
def _environment(**values: str | None) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    for name, value in values.items():
        os.environ.pop(name, None) if value is None else os.environ.__setitem__(name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            os.environ.pop(name, None) if value is None else os.environ.__setitem__(name, value)


def ours_once(cds: bool = True) -> float:
    """Seconds from calling `up()` on a fresh state dir until it returns (broker answering)."""
    with (
        tempfile.TemporaryDirectory(prefix="bench-ours-") as scratch,
        _environment(KAFKA_COURSE_CDS=None if cds else "0"),
    ):
        started = time.perf_counter()
        control.up(port=free_port(), state_dir=Path(scratch))
        elapsed = time.perf_counter() - started
        control.down(Path(scratch))
    return elapsed


def stock_once() -> float:
    """Seconds for `kafka-storage format --standalone` + `kafka-server-start` until it answers."""
    java, jars = find_java(), kafka_jars()
    classpath = ["-cp", jars.classpath(), f"-Dlog4j2.configurationFile={LOG4J_CONFIG}"]
    with tempfile.TemporaryDirectory(prefix="bench-stock-") as scratch:
        port = free_port()
        config = Path(scratch) / "server.properties"
        config.write_text(
            STOCK_SERVER_PROPERTIES.format(
                port=port,
                controller_port=free_port(avoid={port}),
                data_dir=Path(scratch) / "data",
                protocol_map=STOCK_PROTOCOL_MAP,
            )
        )
        log = Path(scratch) / "server.log"
        started = time.perf_counter()
        subprocess.run(
            [
                str(java.executable),
                *STOCK_TOOL_HEAP,
                *STOCK_JVM_OPTIONS,
                *classpath,
                "kafka.tools.StorageTool",
                "format",
                "--standalone",
                "--cluster-id",
                kafka_uuid(),
                "--config",
                str(config),
            ],
            check=True,
            capture_output=True,
        )
        pid = processes.spawn_detached(
            [
                str(java.executable),
                *STOCK_SERVER_HEAP,
                *STOCK_JVM_OPTIONS,
                *classpath,
                "kafka.Kafka",
                str(config),
            ],
            log,
        )
        try:
            wait_until_ready(
                f"localhost:{port}",
                READY_TIMEOUT_SECONDS,
                still_starting=lambda: processes.is_alive(pid),
            )
            elapsed = time.perf_counter() - started
        finally:
            processes.stop(pid, 60)
    return elapsed


def main(extra: dict | None = None, runs: int = 5) -> dict:
    """Measure, print the table, print the JSON line last (merged with `extra`); return it."""
    arms: dict[str, Callable[[], float]] = {
        "ours (kafka-course broker up)": ours_once,
        "stock (format --standalone + kafka.Kafka)": stock_once,
        "ours without the CDS archive": lambda: ours_once(cds=False),
    }
    times: dict[str, list[float]] = {name: [] for name in arms}
    with _environment(KAFKA_COURSE_BROKER="jvm", KAFKA_BOOTSTRAP_SERVERS=None):
        for measure in arms.values():
            measure()  # warm-up, untimed: jars cached, CDS archive written, page cache warm
        for _ in range(runs):
            for name, measure in arms.items():
                times[name].append(measure())

    medians = {name: statistics.median(values) for name, values in times.items()}
    print(
        f"Broker cold start to first answer, {runs} runs each, alternating "
        f"({os.cpu_count()} CPUs, Java {find_java().version}):"
    )
    print(f"{'procedure':<44}{'median s':>9}   runs (s)")
    for name, values in times.items():
        print(f"{name:<44}{medians[name]:>9.2f}   " + " ".join(f"{v:.2f}" for v in values))
    ours, stock, no_cds = medians.values()
    result = {
        "broker_start_ratio": round(ours / stock, 3),
        "ours_median_s": round(ours, 3),
        "stock_median_s": round(stock, 3),
        "ours_without_cds_median_s": round(no_cds, 3),
        **(extra or {}),
    }
    print(json.dumps(result))
    return result


def warm_check_figures() -> dict:
    """One check's median time on a warm broker (bench/check_speed.py), for the JSON line."""
    from check_speed import measure

    from autograder.broker.fixture import test_broker

    with test_broker() as bootstrap:
        figures = measure(bootstrap)
    print(
        f"one check on a warm broker: {figures['check_median_ms']} ms median "
        f"(target {figures['check_target_ms']} ms); the judge alone: "
        f"{figures['rejudge_median_ms']} ms"
    )
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    main(extra=warm_check_figures(), runs=parser.parse_args().runs)
