"""The Docker path: docker-compose.yml at the repository root, driven by `docker compose`."""

from __future__ import annotations

import os
import shutil
import subprocess

from autograder.broker.errors import BrokerError
from autograder.grading.paths import REPO_ROOT

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
SERVICE = "kafka"
PORT_VARIABLE = "KAFKA_COURSE_PORT"  # read by docker-compose.yml; 9092 when unset


def engine_answers(timeout: float = 5.0) -> bool:
    """True when `docker info` reaches a running Docker engine within `timeout` seconds."""
    if shutil.which("docker") is None:
        return False
    try:
        result = subprocess.run(["docker", "info"], capture_output=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def compose_command() -> list[str] | None:
    """`docker compose` (the plugin) or the older `docker-compose`, whichever is installed."""
    if shutil.which("docker"):
        result = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        if result.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def compose(*arguments: str, port: int | None = None, timeout: float = 600) -> str:
    """Run one compose command on the course's compose file; its output, or BrokerError."""
    command = compose_command()
    if command is None:
        raise BrokerError(
            "Docker Compose is not installed; install the `docker compose` plugin, "
            "or set KAFKA_COURSE_BROKER=jvm to run Kafka without Docker."
        )
    environment = dict(os.environ)
    if port is not None:
        environment[PORT_VARIABLE] = str(port)
    try:
        result = subprocess.run(
            [*command, "-f", str(COMPOSE_FILE), *arguments],
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
            f"`docker compose {' '.join(arguments)}` failed: {last[0]}; fix that, "
            "or set KAFKA_COURSE_BROKER=jvm to run Kafka without Docker."
        )
    return result.stdout + result.stderr
