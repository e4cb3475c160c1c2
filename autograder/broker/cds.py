"""Class Data Sharing: start the broker JVM from a memory-mapped archive of its loaded classes.

Loading and verifying ~6,000 classes from 90 jars is most of a cold broker start. The first
start records them (-XX:ArchiveClassesAtExit, written when the JVM exits after `down`); every
later start maps that archive (-XX:SharedArchiveFile) and comes up about twice as fast. The
official apache/kafka image does the same. An archive is only valid for the JVM build and
classpath it was made with, so its name carries both. KAFKA_COURSE_CDS=0 switches it off.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from pathlib import Path

from autograder.broker.jars import KafkaJars
from autograder.broker.java_runtime import JavaRuntime

SWITCH_VARIABLE = "KAFKA_COURSE_CDS"


def archive_path(java: JavaRuntime, jars: KafkaJars) -> Path:
    """Where the archive for this JVM build and these exact jar files lives in the cache."""
    # The JVM ignores an archive whose jars changed size or mtime; a new name avoids that trap.
    jar_stats = [
        (jar.name, jar.stat().st_size, jar.stat().st_mtime_ns)
        for jar in sorted(jars.libs_dir.glob("*.jar"))
    ]
    identity = f"{java.executable.resolve()}|{java.version}|{jars.classpath()}|{jar_stats}"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:12]
    label = re.sub(r"[^0-9A-Za-z.]+", "_", java.version)
    return jars.home / "cds" / f"broker-java{label}-{digest}.jsa"


def cds_options(java: JavaRuntime, jars: KafkaJars) -> tuple[list[str], Path | None]:
    """JVM flags for this start, and the file the JVM will write at exit (None if none).

    With an archive: map it. Without: ask the JVM to write one to a unique pending name, which
    `adopt_pending_archive` moves into place after a clean stop.
    """
    if os.environ.get(SWITCH_VARIABLE, "1") == "0":
        return [], None
    # The archive only saves time: the classes it skips, or a stale archive the JVM ignores,
    # are no business of the broker log.
    quiet = "-Xlog:cds*=off"
    archive = archive_path(java, jars)
    if archive.is_file():
        return [quiet, f"-XX:SharedArchiveFile={archive}"], None
    archive.parent.mkdir(parents=True, exist_ok=True)
    pending = archive.with_name(f"{archive.name}.{uuid.uuid4().hex[:8]}.pending")
    return [quiet, f"-XX:ArchiveClassesAtExit={pending}"], pending


def adopt_pending_archive(pending: str | Path | None) -> None:
    """After a clean stop, make the archive the JVM just wrote the one later starts use."""
    if not pending:
        return
    pending = Path(pending)
    final = pending.with_name(pending.name.split(".jsa.")[0] + ".jsa")
    if not (pending.is_file() and pending.stat().st_size > 0):
        pending.unlink(missing_ok=True)
        return
    os.replace(pending, final)
    # Archives of this JVM for jars since replaced are dead weight (~50 MB each).
    same_jvm = final.name.rsplit("-", 1)[0]
    for stale in final.parent.glob(f"{same_jvm}-*.jsa"):
        if stale != final:
            stale.unlink(missing_ok=True)


def discard_pending_archive(pending: str | Path | None) -> None:
    """A broker that died on start recorded too little to be worth keeping."""
    if pending:
        Path(pending).unlink(missing_ok=True)
