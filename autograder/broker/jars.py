"""The Kafka jars the JVM launcher runs, found or fetched once and then cached.

Sources, first that works: a distribution at KAFKA_HOME; the cache; the pinned jars straight
from Maven Central (central.py, the fastest first download); Maven Central through Maven and
the pom kept beside this module; the official release from the Apache archive.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from autograder.broker.central import download_pinned_jars, has_pinned_jars
from autograder.broker.download import download_release_libs, release_url
from autograder.broker.errors import BrokerError
from autograder.broker.versions import KAFKA_VERSION, SCALA_VERSION
from autograder.grading.paths import cache_dir

POM_FILE = Path(__file__).with_name("kafka-pom.xml")
MAVEN_TIMEOUT_SECONDS = 15 * 60
COMPLETE_MARKER = "COMPLETE"  # written last: its presence means libs/ is whole


@dataclass(frozen=True)
class KafkaJars:
    """A directory of Kafka jars and where it came from ("KAFKA_HOME", "cache", "maven", ...)."""

    version: str
    libs_dir: Path
    source: str

    def classpath(self) -> str:
        """Every jar by name, sorted: a stable classpath is what lets the CDS archive match."""
        return os.pathsep.join(str(jar) for jar in sorted(self.libs_dir.glob("*.jar")))

    @property
    def home(self) -> Path:
        """Per-version cache folder for what is derived from these jars (CDS, bootstrap file)."""
        return cache_dir() / f"kafka-{self.version}"


def kafka_jars(version: str = KAFKA_VERSION) -> KafkaJars:
    """The jars for `version`, downloading them only if neither KAFKA_HOME nor the cache has them.

    Example:
        >>> sources = {"KAFKA_HOME", "cache", "maven-central", "maven", "apache-archive"}
        >>> kafka_jars().source in sources
        True
    """
    from_home = _jars_from_kafka_home()
    if from_home is not None:
        return from_home
    home = cache_dir() / f"kafka-{version}"
    libs_dir, marker = home / "libs", home / COMPLETE_MARKER
    if marker.is_file() and libs_dir.is_dir():
        return KafkaJars(version, libs_dir, "cache")
    home.mkdir(parents=True, exist_ok=True)
    source = _fetch(version, libs_dir)
    marker.write_text(f"{source} {time.strftime('%Y-%m-%dT%H:%M:%S')}\n")
    return KafkaJars(version, libs_dir, source)


def cache_marker(version: str = KAFKA_VERSION) -> Path:
    """The file whose presence says the cached jars are complete (tests watch its mtime)."""
    return cache_dir() / f"kafka-{version}" / COMPLETE_MARKER


def _jars_from_kafka_home() -> KafkaJars | None:
    kafka_home = os.environ.get("KAFKA_HOME")
    if not kafka_home:
        return None
    libs_dir = Path(kafka_home) / "libs"
    cores = sorted(libs_dir.glob(f"kafka_{SCALA_VERSION}-*.jar"))
    if not cores:
        raise BrokerError(
            f"KAFKA_HOME={kafka_home} has no libs/kafka_{SCALA_VERSION}-*.jar; "
            "point it at an unpacked Kafka release, or unset it."
        )
    version = cores[0].name.removeprefix(f"kafka_{SCALA_VERSION}-").removesuffix(".jar")
    return KafkaJars(version, libs_dir, "KAFKA_HOME")


def _fetch(version: str, libs_dir: Path) -> str:
    problems: list[str] = []
    if has_pinned_jars(version):
        try:
            download_pinned_jars(version, libs_dir)
            return "maven-central"
        except BrokerError as error:
            problems.append(error.message)
        except OSError as error:  # URLError, timeouts
            problems.append(f"Maven Central did not serve the pinned jars ({error})")
    maven_problem = "Maven (`mvn`) is not installed"
    if shutil.which("mvn"):
        try:
            _resolve_with_maven(version, libs_dir)
            return "maven"
        except BrokerError as error:
            maven_problem = error.message
    try:
        download_release_libs(version, libs_dir)
        return "apache-archive"
    except BrokerError as error:
        download_problem = error.message
    except (OSError, tarfile.TarError, EOFError) as error:  # URLError, timeouts, bad gzip
        download_problem = f"downloading {release_url(version)} failed ({error})"
    raise BrokerError(
        f"Could not get the Kafka {version} jars: "
        f"{', '.join([*problems, maven_problem])}, and {download_problem}. "
        f"Check the network and run `up` again, or set KAFKA_HOME to an unpacked Kafka {version}."
    )


def _resolve_with_maven(version: str, libs_dir: Path) -> None:
    staging = libs_dir.with_name(f"libs.partial-{uuid.uuid4().hex[:8]}")
    command = [
        "mvn",
        "-q",
        "-B",
        "--no-transfer-progress",
        "-Dstyle.color=never",
        "-f",
        str(POM_FILE),
        "dependency:copy-dependencies",
        f"-Dkafka.version={version}",
        f"-DoutputDirectory={staging}",
        "-DincludeScope=runtime",
    ]
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=MAVEN_TIMEOUT_SECONDS
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise BrokerError(f"Maven could not resolve the jars ({error})") from error
    if result.returncode != 0 or not any(staging.glob("kafka_*.jar")):
        shutil.rmtree(staging, ignore_errors=True)
        last_line = (result.stdout + result.stderr).strip().splitlines()[-1:] or ["no output"]
        raise BrokerError(f"Maven could not resolve the jars ({last_line[0].strip()})")
    shutil.rmtree(libs_dir, ignore_errors=True)  # a half-finished earlier attempt
    os.replace(staging, libs_dir)
