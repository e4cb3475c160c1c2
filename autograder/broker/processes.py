"""Start, find and stop the detached broker process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

# Brokers this Python process started: kept so they can be reaped (no zombies while a test
# session or notebook kernel lives on) and so Popen never warns about a child it lost.
_children: dict[int, subprocess.Popen] = {}


def spawn_detached(command: list[str], log_file: Path) -> int:
    """Run `command` in a new session (so it outlives us), appending its output to `log_file`."""
    with open(log_file, "ab") as log, open(os.devnull, "rb") as nothing:
        child = subprocess.Popen(
            command,
            stdin=nothing,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    _children[child.pid] = child
    return child.pid


def is_alive(pid: int) -> bool:
    """True while the process runs (a zombie counts as gone)."""
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive, and certainly not ours to stop
    return not _is_zombie(pid)


def exit_code(pid: int) -> int | None:
    """The exit code of a broker this process started and that has exited, else None."""
    child = _children.get(pid)
    return child.poll() if child is not None else None


def command_line(pid: int) -> str:
    """The process's command line, to tell our broker from a stranger that reused its pid."""
    proc = Path(f"/proc/{pid}/cmdline")
    if proc.exists():
        try:
            return proc.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            return ""
    result = subprocess.run(
        ["ps", "-o", "command=", "-p", str(pid)], capture_output=True, text=True, check=False
    )
    return result.stdout.strip()


def stop(pid: int, timeout: float) -> bool:
    """SIGTERM (Kafka's controlled shutdown), wait up to `timeout` s, then SIGKILL the group.

    Returns True when the process exited by itself, False when it had to be killed.
    """
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        _reap(pid)
        return True
    deadline = time.monotonic() + timeout
    while is_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    graceful = not is_alive(pid)
    if not graceful:
        try:
            os.killpg(pid, signal.SIGKILL)  # start_new_session made it a group leader
        except ProcessLookupError:
            pass
        while is_alive(pid):
            time.sleep(0.05)
    _reap(pid)
    return graceful


def _reap(pid: int) -> None:
    child = _children.pop(pid, None)
    if child is not None:
        child.wait()


def _is_zombie(pid: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]
