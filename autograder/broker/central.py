"""Fetch the broker's pinned jars straight from Maven Central, many at once, each checked
against its pinned SHA-256.

Maven resolves the same jars, but on a first run it walks ~340 POMs one request after another
before the jars come; the list is fixed per Kafka version (pinned_jars.py), so this asks only
for the ~90 jars (~55 MB), side by side. KAFKA_COURSE_MAVEN_MIRROR names another repository
laid out like Central (a company mirror).

    if has_pinned_jars("4.3.1"):
        download_pinned_jars("4.3.1", Path("libs"))  # BrokerError: a jar missing or altered
"""

from __future__ import annotations

import hashlib
import http.client
import os
import queue
import shutil
import threading
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from autograder.broker.errors import BrokerError
from autograder.broker.pinned_jars import PINNED_JARS, PINNED_VERSION

CENTRAL_URL = "https://repo.maven.apache.org/maven2"
MIRROR_VARIABLE = "KAFKA_COURSE_MAVEN_MIRROR"
CONNECTIONS = 8  # kept alive: ~90 files, most small, wait on latency more than bandwidth
TIMEOUT_SECONDS = 60


def has_pinned_jars(version: str) -> bool:
    """True when pinned_jars.py lists the jars of this Kafka version."""
    return version == PINNED_VERSION


def jar_url(coordinate: str) -> str:
    """Where a `group:artifact:version` jar lives in the repository.

    Example:
        >>> jar_url("org.apache.kafka:kafka_2.13:4.3.1")
        'https://repo.maven.apache.org/maven2/org/apache/kafka/kafka_2.13/4.3.1/kafka_2.13-4.3.1.jar'
    """
    return os.environ.get(MIRROR_VARIABLE, CENTRAL_URL).rstrip("/") + jar_path(coordinate)


def jar_path(coordinate: str) -> str:
    """The jar's path in any repository laid out like Maven Central, from its first slash."""
    group, artifact, version = coordinate.split(":")
    return f"/{group.replace('.', '/')}/{artifact}/{version}/{artifact}-{version}.jar"


def download_pinned_jars(version: str, libs_dir: Path) -> None:
    """Download every pinned jar of `version` into `libs_dir`, all or nothing.

    Raises BrokerError for a jar whose bytes differ from its pin or that the repository does
    not serve (`libs_dir` is then left untouched), OSError when it cannot be reached.
    """
    if not has_pinned_jars(version):
        raise BrokerError(f"no pinned jar list for Kafka {version}")
    pending: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()
    for pin in PINNED_JARS:
        pending.put(pin)
    staging = libs_dir.with_name(f"libs.partial-{uuid.uuid4().hex[:8]}")
    staging.mkdir(parents=True)
    connecting = threading.Lock()
    try:
        with ThreadPoolExecutor(CONNECTIONS) as pool:
            workers = [
                pool.submit(_fetch_until_done, pending, staging, connecting)
                for _ in range(CONNECTIONS)
            ]
            for worker in workers:
                worker.result()  # re-raises a worker's failure
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(libs_dir, ignore_errors=True)  # a half-finished earlier attempt
    os.replace(staging, libs_dir)


def _fetch_until_done(
    pending: queue.SimpleQueue[tuple[str, str]], staging: Path, connecting: threading.Lock
) -> None:
    """Take pins off the queue and fetch them over one kept-alive connection."""
    base = urllib.parse.urlsplit(os.environ.get(MIRROR_VARIABLE, CENTRAL_URL).rstrip("/"))
    kind = http.client.HTTPSConnection if base.scheme == "https" else http.client.HTTPConnection
    connection = kind(base.netloc, timeout=TIMEOUT_SECONDS)
    try:
        # One at a time: a burst of parallel DNS lookups makes some resolvers stall for 5 s.
        with connecting:
            connection.connect()
        while True:
            try:
                coordinate, sha256 = pending.get_nowait()
            except queue.Empty:
                return
            _fetch_checked(connection, base.path + jar_path(coordinate), sha256, staging)
    except http.client.HTTPException as error:  # a garbled answer: as good as no network
        raise OSError(f"{base.netloc} answered garbage ({error!r})") from error
    finally:
        connection.close()


def _fetch_checked(
    connection: http.client.HTTPConnection, path: str, sha256: str, staging: Path
) -> None:
    url = f"{connection.host}:{connection.port}{path}"
    connection.request("GET", path)
    response = connection.getresponse()
    if response.status != 200:
        response.read()
        raise BrokerError(f"the Maven repository answered HTTP {response.status} for {url}")
    digest = hashlib.sha256()
    with open(staging / path.rsplit("/", 1)[1], "wb") as out:
        while chunk := response.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != sha256:
        raise BrokerError(
            f"{url} does not match its pinned SHA-256 (corrupt or tampered), so nothing was "
            "cached; run `up` again, or set KAFKA_HOME to a Kafka release you trust."
        )
