"""The JVM launcher: the real Kafka broker (kafka.Kafka) as a detached background process.

One KRaft node in combined mode, data in the state dir, jars from the cache. Tuned to start
fast on a laptop: a 512 MB heap, the serial collector, only the C1 JIT (on 2 cores the C2
compiler threads compete with startup for CPU), and a class-data-sharing archive (cds.py).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from autograder.broker import processes
from autograder.broker.cds import adopt_pending_archive, cds_options, discard_pending_archive
from autograder.broker.config import LOG4J_CONFIG, render_server_properties
from autograder.broker.errors import BrokerError
from autograder.broker.jars import KafkaJars, kafka_jars
from autograder.broker.java_runtime import JavaRuntime, find_java
from autograder.broker.layout import StateLayout
from autograder.broker.ports import free_port, port_in_use_error, port_is_free
from autograder.broker.probe import wait_until_ready
from autograder.broker.storage import ensure_formatted

FAST_START_OPTIONS = [
    "-Xmx512m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-Djava.awt.headless=true",
]
STARTUP_TIMEOUT_SECONDS = 90  # a first start without the CDS archive on a slow laptop
STOP_TIMEOUT_SECONDS = 60  # controlled shutdown, plus writing the CDS archive the first time
LOG_ROTATE_BYTES = 20 * 1024 * 1024
LOG_TAIL_LINES = 15


def start(layout: StateLayout, port: int, timeout: float = STARTUP_TIMEOUT_SECONDS) -> dict:
    """Start the broker on localhost:`port` and wait until it answers; returns the run record.

    Raises BrokerError for a missing or old Java, a busy port, jars that cannot be fetched,
    and a broker that dies or stays silent during startup (with its log tail).
    """
    java = find_java()
    if not port_is_free(port):
        raise port_in_use_error(port)
    jars = kafka_jars()
    ensure_formatted(layout.data_dir, jars, java)
    controller_port = free_port(avoid={port})
    proxied_port, proxy_port = _proxied_ports(port, controller_port)
    render_server_properties(
        layout.server_properties,
        port=port,
        controller_port=controller_port,
        data_dir=layout.data_dir,
        proxied_port=proxied_port,
        proxy_port=proxy_port,
    )
    cds_flags, pending_archive = cds_options(java, jars)
    bootstrap = f"localhost:{port}"
    run_starts_at = _open_log_for_run(layout.log_file, jars, bootstrap)
    pid = processes.spawn_detached(
        broker_command(java, jars, layout.server_properties, cds_flags), layout.log_file
    )
    layout.pid_file.write_text(f"{pid}\n")
    record = {
        "mode": "jvm",
        "bootstrap": bootstrap,
        "pid": pid,
        "port": port,
        "controller_port": controller_port,
        "proxied_port": proxied_port,
        "proxy_port": proxy_port,
        "kafka_version": jars.version,
        "jars": f"{jars.source}: {jars.libs_dir}",
        "java": str(java.executable),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "cds_pending": str(pending_archive) if pending_archive else None,
    }
    layout.write_record(record)
    try:
        info = wait_until_ready(bootstrap, timeout, still_starting=lambda: processes.is_alive(pid))
    except BrokerError:
        raise _startup_failure(
            layout, pid, pending_archive, run_starts_at, bootstrap, timeout
        ) from None
    record["cluster_id"] = info.cluster_id
    layout.write_record(record)
    return record


def _proxied_ports(port: int, controller_port: int) -> tuple[int, int]:
    """The PROXIED listener's own port, and the port it advertises (where lesson 04's fault
    proxy listens): `port` + 2 when free (9094 beside 9092), so it stays the same across runs."""
    taken = {port, controller_port}
    proxied_port = free_port(avoid=taken)  # the broker binds it at once: any free port will do
    taken.add(proxied_port)
    preferred = port + 2
    if preferred <= 65535 and preferred not in taken and port_is_free(preferred):
        return proxied_port, preferred
    return proxied_port, free_port(avoid=taken)


def broker_command(
    java: JavaRuntime, jars: KafkaJars, server_properties: Path, extra_options: list[str]
) -> list[str]:
    """The `java ... kafka.Kafka server.properties` command line of our broker."""
    return [
        str(java.executable),
        *FAST_START_OPTIONS,
        *extra_options,
        f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
        "-cp",
        jars.classpath(),
        "kafka.Kafka",
        str(server_properties.resolve()),
    ]


def running_pid(layout: StateLayout) -> int | None:
    """The pid of this state dir's broker if it runs, else None (a stale pid file is ignored)."""
    try:
        pid = int(layout.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    if not processes.is_alive(pid):
        return None
    command = processes.command_line(pid)
    if "kafka.Kafka" not in command or str(layout.server_properties.resolve()) not in command:
        return None  # the pid was reused by an unrelated process
    return pid


def stop(layout: StateLayout, timeout: float = STOP_TIMEOUT_SECONDS) -> int | None:
    """Stop this state dir's broker; returns its pid, or None if none was running."""
    pid = running_pid(layout)
    pending_archive = layout.read_record().get("cds_pending")
    if pid is None:
        discard_pending_archive(pending_archive)  # whoever ended that run, we cannot vouch for it
        layout.forget_running_broker()
        return None
    if processes.stop(pid, timeout):
        adopt_pending_archive(pending_archive)
    else:
        discard_pending_archive(pending_archive)  # killed mid-write: not a usable archive
    layout.forget_running_broker()
    return pid


def log_tail(log_file: Path, lines: int, since: int = 0) -> str:
    """The last `lines` lines of the broker log, read from byte offset `since`."""
    try:
        with open(log_file, "rb") as log:
            log.seek(since)
            text = log.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _startup_failure(
    layout: StateLayout,
    pid: int,
    pending_archive: Path | None,
    since: int,
    bootstrap: str,
    timeout: float,
) -> BrokerError:
    """Clean up after a start that failed, and say why, with the run's log tail."""
    silent = processes.is_alive(pid)
    if silent:
        processes.stop(pid, 15)
    code = processes.exit_code(pid)
    discard_pending_archive(pending_archive)
    layout.forget_running_broker()
    tail = log_tail(layout.log_file, LOG_TAIL_LINES, since)
    where = f"the last {LOG_TAIL_LINES} lines of {layout.log_file} follow"
    if silent:
        return BrokerError(
            f"The broker did not answer at {bootstrap} within {timeout:g} s, so it "
            f"was stopped; {where}. Run `kafka-course broker up` again.",
            log_tail=tail,
        )
    cause = _likely_cause(log_tail(layout.log_file, 400, since))
    exited = f" (exit code {code})" if code is not None else ""
    return BrokerError(
        f"The broker exited during startup{exited}: {cause}; {where}. If the data "
        "is damaged, `kafka-course broker reset` starts again from empty.",
        log_tail=tail,
    )


def _likely_cause(text: str) -> str:
    """The first exception message in a failed run's log, else its first ERROR line."""
    lines = text.splitlines()
    for line in lines:
        if re.match(r"^[\w.$]+(Exception|Error)(: |$)", line.strip()):
            return line.strip()
    for line in lines:
        match = re.match(r"^\[[^]]+\] (ERROR|FATAL) (.*?)( \([\w.$]+\))?$", line)
        if match:
            return match.group(2)
    return lines[-1].strip() if lines else "it wrote nothing to its log"


def _open_log_for_run(log_file: Path, jars: KafkaJars, bootstrap: str) -> int:
    """Rotate a large log, write a header for this run; returns the offset where the run starts."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    if log_file.exists() and log_file.stat().st_size > LOG_ROTATE_BYTES:
        log_file.replace(log_file.with_name(log_file.name + ".1"))
    with open(log_file, "a") as log:
        log.write(
            f"\n===== kafka-course: starting Kafka {jars.version} at {bootstrap}, "
            f"{time.strftime('%Y-%m-%d %H:%M:%S')} =====\n"
        )
        return log.tell()
