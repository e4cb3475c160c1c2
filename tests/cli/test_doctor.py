"""`kafka-course doctor`: every check on this machine, each failure named with its fix."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

from autograder.broker.ports import free_port
from autograder.doctor import checks, render_text

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


def _doctor(bootstrap: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, KAFKA_BOOTSTRAP_SERVERS=bootstrap)
    return subprocess.run(
        [sys.executable, "-m", "autograder.cli", "doctor", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_a_ready_machine_passes_every_check_and_exits_0(bootstrap):
    done = _doctor(bootstrap, "--json")
    report = json.loads(done.stdout)
    assert [c["name"] for c in report["checks"]] == NAMES
    assert report["ok"] and done.returncode == 0, done.stdout
    by_name = {c["name"]: c for c in report["checks"]}
    assert "Kafka 4." in by_name["broker"]["detail"]
    assert "PROXIED listener advertised at" in by_name["proxied"]["detail"]
    assert done.stderr == ""


def test_a_broker_that_does_not_answer_fails_with_its_fix_and_exits_1():
    dead = f"localhost:{free_port()}"
    done = _doctor(dead)
    assert done.returncode == 1
    lines = {line.split()[1]: line for line in done.stdout.splitlines()}
    assert lines["broker"].startswith("✘") and "fix: kafka-course broker up" in lines["broker"]
    assert lines["proxied"].startswith("✘")
    assert lines["port"].startswith("✔") and "is free" in lines["port"]


def test_no_java_fails_the_java_line_where_the_broker_would_run_on_the_jvm(monkeypatch):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    missing = checks.java("jvm")
    assert not missing.ok and "Java 17" in missing.fix and "JAVA_HOME" in missing.fix
    assert checks.java("docker").ok  # in Docker the broker brings its own


def test_the_port_tells_a_foreign_program_from_a_kafka_broker(bootstrap):
    with socket.socket() as foreign:
        foreign.bind(("127.0.0.1", 0))
        foreign.listen()
        held = checks.port(f"localhost:{foreign.getsockname()[1]}")
    assert not held.ok and "not a Kafka broker" in held.detail and "--port" in held.fix
    kafka = checks.port(bootstrap)
    assert kafka.ok and "held by" in kafka.detail


def test_a_notebook_whose_locked_cells_changed_is_named_with_its_reset(tmp_path, monkeypatch):
    from autograder.grading.paths import RELEASE_DIR

    copy = tmp_path / "notebooks"
    subprocess.run(["cp", "-r", str(RELEASE_DIR), str(copy)], check=True)
    notebook = copy / "02_partitioning" / "02_partitioning.ipynb"
    cells = json.loads(notebook.read_text())
    locked = next(c for c in cells["cells"] if c["metadata"].get("nbgrader", {}).get("locked"))
    locked["source"] = ["an older wording\n"]
    notebook.write_text(json.dumps(cells))
    monkeypatch.setattr(checks, "RELEASE_DIR", copy)  # the learner's folder, not the repo's
    found = checks.notebooks()
    assert not found.ok and "02" in found.detail and found.fix.startswith("kafka-course reset 02")


def test_text_puts_each_fix_after_its_failure():
    shown = render_text([checks.Finding("java", False, "none", "install a JDK"), checks.disk()])
    first, second = shown.splitlines()
    assert first.startswith("✘ java") and first.endswith("— fix: install a JDK")
    assert second.startswith("✔ disk")
