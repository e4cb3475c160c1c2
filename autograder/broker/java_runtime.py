"""Find the `java` that will run the broker and make sure it is Java 17 or newer."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from autograder.broker.errors import BrokerError
from autograder.broker.versions import KAFKA_VERSION

MINIMUM_JAVA = 17
INSTALL_HINT = (
    "install Java 17 (`sudo apt-get install openjdk-17-jre-headless`, `brew install openjdk@17`, "
    "or Temurin 17 from https://adoptium.net) and put it on PATH or point JAVA_HOME at it"
)


@dataclass(frozen=True)
class JavaRuntime:
    """A usable `java`: where it is and which version it reports."""

    executable: Path
    version: str
    major: int


def find_java() -> JavaRuntime:
    """The `java` from JAVA_HOME, else from PATH; raises BrokerError if missing or older than 17.

    Example:
        >>> find_java().major >= 17
        True
    """
    executable = _locate_java()
    if executable is None:
        raise BrokerError(
            f"No Java found (looked in JAVA_HOME and on PATH); "
            f"Kafka {KAFKA_VERSION} needs Java {MINIMUM_JAVA}+: {INSTALL_HINT}."
        )
    try:
        result = subprocess.run(
            [str(executable), "-version"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise BrokerError(f"Could not run {executable} ({error}); {INSTALL_HINT}.") from error
    version, major = parse_java_version(result.stderr + result.stdout)
    if major < MINIMUM_JAVA:
        raise BrokerError(
            f"Found Java {version or 'of unknown version'} at {executable}, but "
            f"Kafka {KAFKA_VERSION} needs Java {MINIMUM_JAVA}+: {INSTALL_HINT}."
        )
    return JavaRuntime(executable, version, major)


def parse_java_version(text: str) -> tuple[str, int]:
    """('17.0.15', 17) from `java -version` output; ('1.8.0_392', 8) for the old scheme.

    Example:
        >>> parse_java_version('openjdk version "1.8.0_392"')
        ('1.8.0_392', 8)
    """
    match = re.search(r'version "([^"]+)"', text)
    if not match:
        return "", 0
    version = match.group(1)
    numbers = [int(part) for part in re.findall(r"\d+", version)[:2]] or [0]
    major = numbers[1] if numbers[0] == 1 and len(numbers) > 1 else numbers[0]
    return version, major


def _locate_java() -> Path | None:
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("java")
    return Path(found) if found else None
