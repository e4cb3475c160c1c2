"""The doctor's checks: one small function each, in the order a newcomer meets them.

Each returns a Finding and never raises: what went wrong is the finding. Each is bounded in
time (one shared 2 s probe of the broker, subprocesses by ``timeout=``) and they run side by
side, so the doctor takes about a second. The release the notebooks are compared with is
generated once per version of course/source and cached (fresh_release).

    run_checks(bootstrap) -> [Finding]   every check
    stale_lessons(mine, fresh)           lessons whose locked cells differ from the release

Example:
    >>> [f.name for f in run_checks("localhost:9092") if not f.ok]
    []
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from autograder.broker import control, docker, jars, processes
from autograder.broker.errors import BrokerError
from autograder.broker.java_runtime import MINIMUM_JAVA, find_java
from autograder.broker.layout import layout_for
from autograder.broker.ports import port_is_free
from autograder.broker.probe import probe
from autograder.broker.versions import KAFKA_VERSION
from autograder.doctor.port_holder import course_broker_dir, listening_pid
from autograder.grading import kafka_io, manifest
from autograder.grading.paths import (
    COURSE_DIR,
    MANIFEST_FILE,
    PACKAGE_DIR,
    RELEASE_DIR,
    REPO_ROOT,
    SOURCE_DIR,
    cache_dir,
    state_dir,
)

MIN_FREE_DISK_GB = 2.0
MINIMUM_PYTHON = (3, 10)  # pyproject.toml's requires-python
SUBPROCESS_TIMEOUT_S = 10  # a cold `jupyter kernelspec list` on a busy 2-core machine
PROBE_TIMEOUT_S = 2.0
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
    if sys.version_info[:2] < MINIMUM_PYTHON:
        return Finding(
            "python",
            False,
            f"{version} is older than {'.'.join(map(str, MINIMUM_PYTHON))}",
            "install Python 3.10 or newer, then `make clean setup`",
        )
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
    """Java is needed unless `broker up` would run Kafka in Docker (also with an external
    cluster: `broker up` and lesson 04's throw-away cluster run on this machine's JVM)."""
    try:
        runtime = find_java()
    except BrokerError as error:
        if mode == "docker":
            return Finding(
                "java", True, f"no Java {MINIMUM_JAVA}+", "not needed: Kafka runs in Docker"
            )
        return Finding("java", False, f"no usable Java {MINIMUM_JAVA}+", str(error))
    return Finding("java", True, f"{runtime.version} ({runtime.executable})")


def kafka_jars() -> Finding:
    """Maven, and the jars `broker up` runs: from KAFKA_HOME, the cache, or fetched on first up."""
    maven = shutil.which("mvn")
    with_maven = f"Maven at {maven}" if maven else "no Maven"
    if os.environ.get("KAFKA_HOME"):
        try:  # with KAFKA_HOME set this only reads that folder, it never downloads
            found = jars.kafka_jars()
        except BrokerError as error:
            return Finding("jars", False, "KAFKA_HOME has no Kafka jars", str(error))
        return Finding("jars", True, f"Kafka {found.version} jars in {found.libs_dir}")
    if jars.cache_marker().is_file():
        return Finding(
            "jars", True, f"Kafka {KAFKA_VERSION} jars cached in {cache_dir()}; {with_maven}"
        )
    return Finding(
        "jars",
        True,
        f"Kafka {KAFKA_VERSION} jars not cached yet; {with_maven}",
        "the first `kafka-course broker up` fetches them from Maven Central (about 55 MB; "
        "Maven or the Apache archive if that fails)",
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


def port(bootstrap: str, answers: bool) -> Finding:
    """The port of the bootstrap address: free, the course's broker, another Kafka, or a
    stranger. `answers`: whether a Kafka broker answers there (the broker check's probe)."""
    host, _, number = bootstrap.split(",")[0].rpartition(":")
    if host.strip("[]") not in ("localhost", "127.0.0.1", "::1") or not number.isdigit():
        return Finding("port", True, f"{bootstrap} is not on this machine: nothing to check")
    if port_is_free(int(number)):
        return Finding("port", True, f"{number} is free for `kafka-course broker up`")
    pid = listening_pid(int(number))
    state = course_broker_dir(pid, int(number)) if pid is not None else None
    if state is not None:
        return Finding(
            "port", True, f"{number} is held by the course's broker (pid {pid}, {state})"
        )
    record = layout_for(None).read_record()  # what the learner's `broker up` last recorded
    if record.get("mode") == "docker" and record.get("port") == int(number) and answers:
        return Finding("port", True, f"{number} is held by the course's broker (Docker)")
    holder = f"pid {pid}: {_short(processes.command_line(pid))}" if pid else "pid unknown"
    if answers:
        return Finding("port", True, f"{number} is held by a Kafka broker that answers ({holder})")
    return Finding(
        "port",
        False,
        f"{number} is held by another program, not a Kafka broker ({holder})",
        "stop that program, or run `kafka-course broker up --port N` on a free port N "
        "and set KAFKA_BOOTSTRAP_SERVERS=localhost:N",
    )


def _short(command: str, limit: int = 60) -> str:
    return command if len(command) <= limit else command[: limit - 1] + "…"


def broker(bootstrap: str, answers: bool) -> Finding:
    if not answers:
        return Finding("broker", False, f"nothing answers on {bootstrap}", "kafka-course broker up")
    try:
        version = kafka_io.broker_version(bootstrap)
        brokers = kafka_io.ping(bootstrap)
    except kafka_io.BrokerUnreachable as error:
        return Finding(
            "broker", False, f"{bootstrap} half answers: {error}", "kafka-course broker logs"
        )
    return Finding("broker", True, f"Kafka {version} answers on {bootstrap} ({brokers} broker(s))")


def proxied_listener(bootstrap: str, answers: bool) -> Finding:
    from autograder.faults.session import FaultsUnavailable, find_routes

    if not answers:  # asking a silent address would only wait for kafka-python's timeouts
        return Finding(
            "proxied", False, "cannot ask: the broker does not answer", "kafka-course broker up"
        )
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
    """The learner's notebooks against the release: locked cells match; edits are theirs."""
    try:
        fresh = fresh_release()
    except Exception as error:  # noqa: BLE001 (any failure of nbgrader is the finding)
        return Finding("notebooks", False, f"could not generate the release: {error}", "make setup")
    stale = stale_lessons(RELEASE_DIR, fresh)
    if stale:
        return Finding(
            "notebooks",
            False,
            f"lesson(s) {', '.join(stale)} missing or older than the release",
            f"kafka-course reset {stale[0]} (your copy is kept in .state/backups)",
        )
    return Finding("notebooks", True, "every lesson's locked cells match the release")


def stale_lessons(mine: Path, fresh: Path) -> list[str]:
    """Lessons whose notebook in `mine` is missing or whose locked cells differ from `fresh`'s
    (the learner's answers, in unlocked cells, never count)."""
    stale = []
    for lesson in manifest.load():
        relative = Path(lesson.slug) / lesson.notebook_name
        if not (mine / relative).is_file() or _locked_cells(mine / relative) != _locked_cells(
            fresh / relative
        ):
            stale.append(lesson.id)
    return stale


def fresh_release() -> Path:
    """The release as course/source generates it now, cached by the sources' fingerprint:
    nbgrader takes ~10 s for all lessons, so only the first doctor after a change pays it."""
    folder = cache_dir() / "release" / _source_fingerprint()
    if not folder.is_dir():
        from autograder.authoring.release import generate_release  # nbgrader: seconds to import

        folder.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=folder.parent) as scratch:
            generate_release(Path(scratch) / "out")
            with contextlib.suppress(OSError):  # another doctor got there first: same content
                os.replace(Path(scratch) / "out", folder)
        for older in folder.parent.iterdir():  # releases of sources that are gone
            if older.name != folder.name and not older.name.startswith("tmp"):
                shutil.rmtree(older, ignore_errors=True)
    return folder


def _source_fingerprint() -> str:
    """A digest of everything the release is generated from (sources, config, generator)."""
    digest = hashlib.sha256()
    inputs = sorted(SOURCE_DIR.rglob("*.ipynb")) + [
        MANIFEST_FILE,
        COURSE_DIR / "nbgrader_config.py",
        PACKAGE_DIR / "authoring" / "release.py",
    ]
    for path in inputs:
        if ".ipynb_checkpoints" not in path.parts:
            digest.update(str(path.relative_to(REPO_ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


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
    """Every check, in the order a newcomer meets them; they run side by side, so the doctor
    takes about as long as its slowest check."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        answering = pool.submit(probe, bootstrap, PROBE_TIMEOUT_S)
        docker_check = pool.submit(docker_engine)

        def answers() -> bool:  # the one probe the port, broker and PROXIED checks share
            return answering.result() is not None

        def mode() -> str:
            return docker_check.result()[1]

        checks: list[Callable[[], Finding]] = [
            python,
            lambda: java(mode()),
            kafka_jars,
            lambda: docker_check.result()[0],
            lambda: port(bootstrap, answers()),
            lambda: broker(bootstrap, answers()),
            lambda: proxied_listener(bootstrap, answers()),
            disk,
            notebooks,
            jupyter,
        ]
        return [future.result() for future in [pool.submit(check) for check in checks]]
