"""The doctor's checks: one small function each, in the order a newcomer meets them.

Each returns a Finding and never raises: what went wrong is the finding. Each is bounded in
time (the broker probes by their timeouts, subprocesses by ``timeout=``), so the doctor ends
even on a machine where everything hangs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from autograder.broker import control, docker, jars
from autograder.broker.errors import BrokerError
from autograder.broker.java_runtime import MINIMUM_JAVA, find_java
from autograder.broker.ports import port_is_free
from autograder.broker.probe import probe
from autograder.broker.versions import KAFKA_VERSION
from autograder.grading import kafka_io, manifest
from autograder.grading.paths import RELEASE_DIR, REPO_ROOT, cache_dir, state_dir

MIN_FREE_DISK_GB = 2.0
SUBPROCESS_TIMEOUT_S = 30
VENV = REPO_ROOT / ".venv"


@dataclass(frozen=True)
class Finding:
    """One check: ``ok``; ``detail`` says what was found; ``fix`` what to do (or a note)."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


def python() -> Finding:
    version = ".".join(str(p) for p in sys.version_info[:3])
    in_venv = Path(sys.prefix).resolve() == VENV.resolve()
    if not in_venv:
        return Finding(
            "python",
            False,
            f"{version}, not the course's venv ({sys.prefix})",
            "run `make setup`, then `.venv/bin/kafka-course doctor`",
        )
    return Finding("python", True, f"{version} in {VENV}")


def java(mode: str) -> Finding:
    try:
        runtime = find_java()
    except BrokerError as error:
        needed = mode == "jvm"
        detail = f"no usable Java {MINIMUM_JAVA}+"
        fix = str(error) if needed else "not needed: the broker runs in Docker"
        return Finding("java", not needed, detail, fix)
    return Finding("java", True, f"{runtime.version} ({runtime.executable})")


def kafka_jars() -> Finding:
    if jars.cache_marker().is_file():
        return Finding("jars", True, f"Kafka {KAFKA_VERSION} jars cached in {cache_dir()}")
    maven = shutil.which("mvn")
    if maven:
        return Finding(
            "jars",
            True,
            f"Kafka {KAFKA_VERSION} jars not cached yet",
            f"the first `kafka-course broker up` fetches them with Maven ({maven})",
        )
    return Finding(
        "jars",
        True,
        f"Kafka {KAFKA_VERSION} jars not cached yet, and no Maven",
        "the first `kafka-course broker up` downloads the release from the Apache archive",
    )


def docker_engine() -> tuple[Finding, str]:
    """The Docker finding, and the broker mode `broker up` would pick ("" if it cannot)."""
    try:
        mode = control.chosen_mode()
    except BrokerError as error:
        return Finding("docker", False, "the broker mode is set wrongly", str(error)), ""
    engine = "Docker engine answers" if docker.engine_answers() else "no Docker engine"
    picks = {
        "docker": "`broker up` runs Kafka in Docker",
        "jvm": "`broker up` runs Kafka on the JVM",
        "external": "the course uses KAFKA_BOOTSTRAP_SERVERS",
    }[mode]
    return Finding("docker", True, f"{engine}; {picks}"), mode


def port(bootstrap: str) -> Finding:
    host, _, number = bootstrap.split(",")[0].rpartition(":")
    if host not in ("localhost", "127.0.0.1", "::1", "[::1]") or not number.isdigit():
        return Finding("port", True, f"{bootstrap} is not on this machine: nothing to check")
    if port_is_free(int(number)):
        return Finding("port", True, f"{number} is free for `kafka-course broker up`")
    course = control.status()
    if course.running and course.mode != "external" and course.bootstrap.endswith(f":{number}"):
        owner = f"pid {course.pid}" if course.pid else course.mode
        return Finding("port", True, f"{number} is held by the course's broker ({owner})")
    if probe(bootstrap, timeout=2.0) is not None:
        named = " (KAFKA_BOOTSTRAP_SERVERS)" if course.mode == "external" else ""
        return Finding("port", True, f"{number} is held by a Kafka broker that answers{named}")
    return Finding(
        "port",
        False,
        f"{number} is held by another program, not a Kafka broker",
        "stop that program, or run `kafka-course broker up --port N` on a free port N "
        "and set KAFKA_BOOTSTRAP_SERVERS=localhost:N",
    )


def broker(bootstrap: str) -> Finding:
    if probe(bootstrap, timeout=3.0) is None:
        return Finding("broker", False, f"nothing answers at {bootstrap}", "kafka-course broker up")
    try:
        version = kafka_io.broker_version(bootstrap)
        brokers = kafka_io.ping(bootstrap)
    except kafka_io.BrokerUnreachable as error:
        return Finding(
            "broker", False, f"{bootstrap} half answers: {error}", "kafka-course broker logs"
        )
    return Finding("broker", True, f"Kafka {version} answers at {bootstrap} ({brokers} broker(s))")


def proxied_listener(bootstrap: str) -> Finding:
    from autograder.faults.session import FaultsUnavailable, find_routes

    try:
        routes = find_routes(bootstrap)
    except FaultsUnavailable as error:
        return Finding("proxied", False, "no PROXIED listener (lesson 04's faults)", str(error))
    except kafka_io.BrokerUnreachable:
        return Finding(
            "proxied", False, "cannot ask: the broker does not answer", "kafka-course broker up"
        )
    where = ", ".join(f"{r.listen_host}:{r.listen_port}" for r in routes)
    return Finding("proxied", True, f"PROXIED listener advertised at {where} (lesson 04's faults)")


def disk() -> Finding:
    folder = state_dir()
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    free_gb = shutil.disk_usage(existing).free / 1e9
    detail = f"{free_gb:.1f} GB free for {folder}"
    if free_gb < MIN_FREE_DISK_GB:
        return Finding("disk", False, detail, f"free at least {MIN_FREE_DISK_GB:.0f} GB there")
    return Finding("disk", True, detail)


def notebooks() -> Finding:
    """The learner's notebooks against a fresh release: locked cells match; edits are theirs."""
    from autograder.authoring.release import generate_release

    stale = []
    with tempfile.TemporaryDirectory() as scratch:
        try:
            generate_release(Path(scratch))
        except Exception as error:  # noqa: BLE001 (any failure of nbgrader is the finding)
            return Finding(
                "notebooks", False, f"could not generate the release: {error}", "make setup"
            )
        for lesson in manifest.load():
            mine = RELEASE_DIR / lesson.slug / lesson.notebook_name
            fresh = Path(scratch) / lesson.slug / lesson.notebook_name
            if not mine.is_file() or _locked_cells(mine) != _locked_cells(fresh):
                stale.append(lesson.id)
    if stale:
        return Finding(
            "notebooks",
            False,
            f"lesson(s) {', '.join(stale)} missing or older than the release",
            f"kafka-course reset {stale[0]} (your copy is kept in .state/backups)",
        )
    return Finding("notebooks", True, "every lesson's locked cells match the release")


def _locked_cells(path: Path) -> dict[str, str]:
    try:
        cells = json.loads(path.read_text())["cells"]
    except (OSError, ValueError, KeyError):
        return {}
    return {
        c.get("id", ""): "".join(c["source"])
        for c in cells
        if c.get("metadata", {}).get("nbgrader", {}).get("locked")
    }


def jupyter() -> Finding:
    lab = VENV / "bin" / "jupyter"
    if not lab.is_file():
        return Finding("jupyter", False, "no JupyterLab in .venv", "make setup")
    try:
        listed = subprocess.run(
            [str(lab), "kernelspec", "list", "--json"],
            capture_output=True,
            text=True,
            timeout=SUBPROCESS_TIMEOUT_S,
        )
        spec = json.loads(listed.stdout)["kernelspecs"]["python3"]
        argv0 = spec["spec"]["argv"][0]
        interpreter = shutil.which(argv0, path=str(VENV / "bin")) or shutil.which(argv0) or argv0
        imported = subprocess.run(
            [interpreter, "-c", "import autograder"],
            capture_output=True,
            text=True,
            timeout=SUBPROCESS_TIMEOUT_S,
        )
    except (OSError, ValueError, KeyError, subprocess.TimeoutExpired) as error:
        return Finding("jupyter", False, f"no python3 kernel ({error})", "make setup")
    if imported.returncode != 0:
        last = (imported.stderr.strip().splitlines() or ["?"])[-1]
        return Finding(
            "jupyter", False, f"the kernel cannot import autograder: {last}", "make setup"
        )
    return Finding(
        "jupyter", True, f"JupyterLab and the python3 kernel ({interpreter}) import autograder"
    )


def run_checks(bootstrap: str) -> list[Finding]:
    docker_finding, mode = docker_engine()
    checks: list[Callable[[], Finding]] = [
        python,
        lambda: java(mode),
        kafka_jars,
        lambda: docker_finding,
        lambda: port(bootstrap),
        lambda: broker(bootstrap),
        lambda: proxied_listener(bootstrap),
        disk,
        notebooks,
        jupyter,
    ]
    return [check() for check in checks]
