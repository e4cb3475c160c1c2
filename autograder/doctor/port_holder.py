"""Who listens on a local TCP port: its pid, and whether it is a broker the course launched.

Linux only (read from /proc); elsewhere, or for another user's process, the holder is unknown
and the doctor falls back to asking the port whether it speaks Kafka.

    listening_pid(port)       the pid of the process listening on localhost:port, or None
    course_broker_dir(pid, port)
                              the state dir of the course's JVM broker with that pid and port

Example:
    >>> pid = listening_pid(9092)
    >>> course_broker_dir(pid, 9092)
    PosixPath('/work/main/.state')
"""

from __future__ import annotations

import os
from pathlib import Path

from autograder.broker import jvm, processes
from autograder.broker.layout import StateLayout

LISTEN = "0A"  # the TCP state column of /proc/net/tcp for a listening socket


def listening_pid(port: int) -> int | None:
    """The pid whose socket listens on `port` (IPv4 or IPv6), or None when it cannot be seen."""
    inodes = _listening_inodes(port)
    if not inodes:
        return None
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            descriptors = list((entry / "fd").iterdir())
        except OSError:  # gone meanwhile, or another user's process
            continue
        for fd in descriptors:
            try:
                target = os.readlink(fd)
            except OSError:  # a busy process (a broker) closes files while we look
                continue
            if target in wanted:
                return int(entry.name)
    return None


def course_broker_dir(pid: int, port: int) -> Path | None:
    """The state dir of the course launcher's broker `pid` on `port`, whichever dir it is
    (the learner's .state, or the test suite's throw-away one); None for any other process."""
    words = processes.command_line(pid).split()
    if "kafka.Kafka" not in words or not words[-1].endswith("server.properties"):
        return None
    layout = StateLayout(Path(words[-1]).parent)
    # The launcher records its port beside server.properties; running_pid rules out reuse.
    if layout.read_record().get("port") != port or jvm.running_pid(layout) != pid:
        return None
    return layout.root


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) > 9 and fields[3] == LISTEN and fields[1].endswith(f":{port:04X}"):
                inodes.add(fields[9])
    return inodes
