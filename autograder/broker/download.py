"""Fetch the official Kafka binary release from the Apache archive, checked against its SHA-512.

Used only when Maven is missing or fails: the release is ~120 MB, Maven fetches ~55 MB.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tarfile
import tempfile
import urllib.request
from pathlib import Path

from autograder.broker.errors import BrokerError
from autograder.broker.versions import SCALA_VERSION

ARCHIVE_URL = "https://archive.apache.org/dist/kafka"
MIRROR_VARIABLE = "KAFKA_COURSE_KAFKA_MIRROR"  # another base URL laid out like the archive
TIMEOUT_SECONDS = 60


def release_url(version: str) -> str:
    """The .tgz URL, e.g. https://archive.apache.org/dist/kafka/4.3.1/kafka_2.13-4.3.1.tgz."""
    base = os.environ.get(MIRROR_VARIABLE, ARCHIVE_URL).rstrip("/")
    return f"{base}/{version}/kafka_{SCALA_VERSION}-{version}.tgz"


def download_release_libs(version: str, libs_dir: Path) -> None:
    """Download the release, verify its SHA-512, and copy its libs/*.jar into `libs_dir`.

    Raises BrokerError when the download fails or the checksum does not match; `libs_dir`
    is then left untouched.
    """
    url = release_url(version)
    expected = parse_sha512(_fetch_text(url + ".sha512"))
    with tempfile.TemporaryDirectory(prefix="kafka-download-") as scratch:
        archive = Path(scratch) / Path(url).name
        actual = _fetch_to_file(url, archive)
        if actual != expected:
            raise BrokerError(
                f"The download of {url} does not match its published SHA-512 "
                "(corrupt or tampered), so nothing was cached; run `up` again, or "
                "set KAFKA_HOME to a Kafka release you trust."
            )
        staging = Path(scratch) / "libs"
        _extract_jars(archive, staging)
        if not any(staging.glob("kafka_*.jar")):
            raise BrokerError(
                f"{url} holds no libs/kafka_*.jar; set KAFKA_HOME to an unpacked "
                f"Kafka {version} instead."
            )
        shutil.rmtree(libs_dir, ignore_errors=True)
        libs_dir.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staging), libs_dir)


def parse_sha512(text: str) -> str:
    """The hex digest from a .sha512 file, in `sha512sum` or in Apache's `gpg --print-md` form.

    Example:
        >>> parse_sha512("kafka.tgz: AB12 CD34\\n  EF56") == "ab12cd34ef56"
        True
    """
    leading = re.match(r"\s*([0-9a-fA-F]{128})\b", text)
    if leading:  # sha512sum: "<hex>  kafka_2.13-x.tgz"
        return leading.group(1).lower()
    _, _, digest = text.partition(":")  # gpg: "kafka_2.13-x.tgz: 1A2B 3C4D ..." over lines
    digest = "".join(digest.split()).lower()
    if not re.fullmatch(r"[0-9a-f]{128}", digest):
        raise BrokerError(
            "The published .sha512 file is not a SHA-512 digest; run `up` again "
            "later, or set KAFKA_HOME to an unpacked Kafka release."
        )
    return digest


def _fetch_text(url: str) -> str:
    with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
        return response.read().decode("ascii", errors="replace")


def _fetch_to_file(url: str, target: Path) -> str:
    digest = hashlib.sha512()
    with (
        urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response,
        open(target, "wb") as out,
    ):  # noqa: S310
        while chunk := response.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def _extract_jars(archive: Path, libs_dir: Path) -> None:
    """Copy kafka_x/libs/*.jar out of the release; nothing else is needed, nothing else lands."""
    libs_dir.mkdir(parents=True)
    with tarfile.open(archive, "r:gz") as release:
        for member in release:
            parts = Path(member.name).parts
            if (
                member.isfile()
                and len(parts) == 3
                and parts[1] == "libs"
                and parts[2].endswith(".jar")
            ):
                source = release.extractfile(member)
                assert source is not None  # a regular file always has content
                with source, open(libs_dir / parts[2], "wb") as out:
                    shutil.copyfileobj(source, out)
