"""`kafka-course doctor` as a learner runs it: a subprocess, its lines, its JSON, its exit code.

Every run points KAFKA_BOOTSTRAP_SERVERS at the address under test (the suite's broker, a
closed port, a plain listening socket), never at the learner's 9092.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.broker.ports import free_port
from autograder.doctor import checks
from autograder.grading.paths import RELEASE_DIR, REPO_ROOT

pytestmark = pytest.mark.timeout(120)

NAMES = [
    "python",
    "java",
    "jars",
    "docker",
    "port",
    "broker",
    "proxied",
    "disk",
    "notebooks",
    "jupyter",
]


def _doctor(bootstrap: str, *args: str, **env: str | None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, **env}
    return subprocess.run(
        [sys.executable, "-m", "autograder.cli", "doctor", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={key: value for key, value in environment.items() if value is not None},
        timeout=100,
    )


def _lines(done: subprocess.CompletedProcess) -> dict[str, str]:
    return {line.split()[1]: line for line in done.stdout.splitlines()}


def test_a_ready_machine_passes_every_check_as_json_and_exits_0(bootstrap):
    done = _doctor(bootstrap, "--json")
    report = json.loads(done.stdout)
    assert [c["name"] for c in report["checks"]] == NAMES
    assert all(set(c) == {"name", "ok", "detail", "fix"} for c in report["checks"])
    assert report["ok"] and done.returncode == 0, done.stdout
    by_name = {c["name"]: c for c in report["checks"]}
    assert "Kafka 4." in by_name["broker"]["detail"]
    assert "PROXIED listener advertised at" in by_name["proxied"]["detail"]
    # The suite's broker is the course launcher's (own state dir), or a container / CI cluster.
    held = by_name["port"]["detail"]
    assert "held by the course's broker" in held or "held by a Kafka broker that answers" in held
    assert done.stderr == ""


def test_a_broker_that_does_not_answer_fails_with_its_fix_and_exits_1():
    dead = f"localhost:{free_port()}"
    done = _doctor(dead)
    assert done.returncode == 1
    lines = _lines(done)
    assert lines["broker"].startswith("✘") and "fix: kafka-course broker up" in lines["broker"]
    assert lines["proxied"].startswith("✘")
    assert lines["port"].startswith("✔") and "is free" in lines["port"]


def test_no_java_on_path_or_in_java_home_fails_the_java_line_with_its_fix(tmp_path):
    done = _doctor(f"localhost:{free_port()}", PATH=str(tmp_path), JAVA_HOME=None)
    java = _lines(done)["java"]
    assert done.returncode == 1
    assert java.startswith("✘ java") and "fix: No Java found" in java and "JAVA_HOME" in java


def test_a_plain_socket_on_the_port_is_told_apart_from_a_kafka_broker():
    with socket.socket() as stranger:
        stranger.bind(("127.0.0.1", 0))
        stranger.listen()
        done = _doctor(f"localhost:{stranger.getsockname()[1]}")
    port = _lines(done)["port"]
    assert done.returncode == 1
    assert port.startswith("✘") and "not a Kafka broker" in port and "--port N" in port
    if sys.platform == "linux":  # /proc names the holder: this very test process
        assert f"pid {os.getpid()}:" in port


def test_a_lesson_whose_locked_cells_changed_is_stale_and_an_answer_is_not(tmp_path):
    mine = shutil.copytree(RELEASE_DIR, tmp_path / "notebooks")
    answered = _edit_first_cell(mine / "01_producer_basics" / "01_producer_basics.ipynb", False)
    reworded = _edit_first_cell(mine / "02_partitioning" / "02_partitioning.ipynb", True)
    assert answered and reworded
    assert checks.stale_lessons(mine, checks.fresh_release()) == ["02"]


def _edit_first_cell(notebook: Path, locked: bool) -> bool:
    """Rewrite the first cell that is (or is not) locked; False when there is none."""
    content = json.loads(notebook.read_text())
    for cell in content["cells"]:
        if bool(cell["metadata"].get("nbgrader", {}).get("locked")) == locked:
            cell["source"] = ["edited\n"]
            notebook.write_text(json.dumps(content))
            return True
    return False
