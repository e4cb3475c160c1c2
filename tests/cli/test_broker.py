"""`kafka-course broker ...` (cli/broker.py) as a learner types it: exit codes and one-line
messages, for one broker and for a cluster."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from autograder.broker import cluster_control
from autograder.broker.cluster import quiet_free_port
from autograder.broker.ports import free_port
from autograder.broker.probe import probe
from autograder.grading.paths import REPO_ROOT

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def run(tmp_path):
    """Run `broker <args>` in a fresh state dir with the JVM launcher; returns CompletedProcess."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("KAFKA_BOOTSTRAP_SERVERS", "KAFKA_HOME")
    }
    environment.update(KAFKA_COURSE_STATE_DIR=str(tmp_path / "state"), KAFKA_COURSE_BROKER="jvm")

    def broker(*args: str, **overrides: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "autograder.cli", "broker", *args],
            cwd=REPO_ROOT,
            env={**environment, **overrides},
            capture_output=True,
            text=True,
            timeout=150,
        )

    yield broker
    broker("down")


def test_status_and_down_with_nothing_running_exit_zero(run):
    status = run("status")
    assert (status.returncode, status.stdout.splitlines()[0][:7]) == (0, "stopped")
    down = run("down")
    assert down.returncode == 0
    assert down.stdout.strip() == "No course broker is running; nothing to stop."


@pytest.mark.broker  # starts a JVM of its own
def test_up_status_logs_down_round_trip(run):
    port = free_port()
    up = run("up", "--port", str(port))
    assert (up.returncode, up.stderr) == (0, "")
    assert up.stdout.splitlines()[-1].startswith(f"running at localhost:{port} (JVM process")

    again = run("up", "--port", str(port))
    assert again.returncode == 0 and "already running" in again.stdout
    assert len(again.stdout.splitlines()) == 1

    status = run("status")
    assert status.returncode == 0 and f"localhost:{port}" in status.stdout

    logs = run("logs", "--lines", "400")
    assert logs.returncode == 0 and "Kafka Server started" in logs.stdout
    assert len(run("logs", "-n", "3").stdout.splitlines()) == 3

    down = run("down")
    assert down.returncode == 0 and down.stdout.startswith("Stopped the Kafka broker (pid ")
    assert run("status").stdout.startswith("stopped")


@pytest.mark.broker  # starts a JVM of its own
def test_reset_wipes_the_data_and_exits_zero(run, tmp_path):
    assert run("up", "--port", str(free_port())).returncode == 0
    reset = run("reset")
    assert reset.returncode == 0 and "wiped its data" in reset.stdout
    assert not (tmp_path / "state" / "kafka-data").exists()


@pytest.mark.broker  # runs `java -version` before it finds the port taken
def test_busy_port_exits_1_with_one_line(run):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        up = run("up", "--port", str(port))
    assert up.returncode == 1
    assert up.stderr.count("\n") == 1 and f"Port {port} is already in use" in up.stderr


def test_missing_java_exits_1_with_one_line(run, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    up = run("up", "--port", str(free_port()), PATH=str(empty), JAVA_HOME=str(empty))
    assert up.returncode == 1
    assert up.stderr.count("\n") == 1 and "Java 17" in up.stderr


def test_external_cluster_is_used_and_never_started_or_stopped(run):
    nowhere = f"localhost:{free_port()}"
    status = run("status", KAFKA_BOOTSTRAP_SERVERS=nowhere)
    assert status.returncode == 0
    assert (
        status.stdout.startswith(f"external cluster at {nowhere}")
        and "does not answer" in status.stdout
    )
    up = run("up", KAFKA_BOOTSTRAP_SERVERS=nowhere)
    assert up.returncode == 1 and up.stderr.count("\n") == 1
    assert "KAFKA_BOOTSTRAP_SERVERS" in up.stderr
    down = run("down", KAFKA_BOOTSTRAP_SERVERS=nowhere)
    assert down.returncode == 0 and down.stdout.startswith("Nothing to stop")


@pytest.mark.broker  # starts a cluster of JVMs
@pytest.mark.timeout(240)
def test_broker_up_nodes_3_lists_every_node_and_down_stops_them_all(run):
    port = quiet_free_port()
    while not all(cluster_control.port_is_free(port + n) for n in (1, 2)):
        port = quiet_free_port()
    up = run("up", "--nodes", "3", "--port", str(port))
    assert (up.returncode, up.stderr) == (0, "")
    bootstrap = f"localhost:{port},localhost:{port + 1},localhost:{port + 2}"
    assert up.stdout.splitlines()[1].startswith(f"running at {bootstrap} (3-broker cluster")

    status = run("status").stdout.splitlines()
    assert [line.split(" at ")[0].strip() for line in status[1:]] == [
        "controller",
        "broker 1",
        "broker 2",
        "broker 3",
    ]
    assert all(line.rstrip(")").split("(pid ")[-1].isdigit() for line in status[1:])
    assert probe(bootstrap).broker_count == 3

    down = run("down")
    assert down.returncode == 0 and down.stdout.startswith("Stopped the 3-broker cluster")
    assert run("status").stdout.startswith("stopped")
    assert all(probe(f"localhost:{port + n}") is None for n in range(3))
