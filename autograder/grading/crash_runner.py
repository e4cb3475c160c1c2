"""Running any function, even one defined in a notebook cell, in a child process that can crash.

``autograder.notebook.workers`` spawns a fresh interpreter, so its target must be importable. A
learner's function lives in the kernel's memory only, so this module forks the kernel instead: the
child starts as a copy of it, with every notebook global in place, and runs the function there. When
the child is killed with SIGKILL, the kernel carries on untouched.

What the child must not do is use anything the kernel had open: a fork copies memory, not
threads, so the kernel's Kafka clients are husks in the child. Everything the child needs
(consumers, database connections) is made inside ``body``, after the fork.

Example:
    >>> result = run_forked(lambda: 6 * 7, time_limit_s=10)
    >>> result.returned, result.crashed
    (42, False)
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.grading.harness import json_safe

_FORK = multiprocessing.get_context("fork")

# Python 3.12+ warns whenever a process with threads forks (the kernel always has some). The
# child only runs code that makes its own clients, so the warning does not apply; left alone,
# it would reach stderr, and nbgrader scores a cell with stderr output as zero.
_FORK_WARNING = r".*use of fork\(\) may lead to deadlocks.*"


FORK_SETTLE_S = 0.5


def _settle_before_fork() -> None:
    """Wait (at most FORK_SETTLE_S) until no native thread is left that Python has forgotten.

    A fork copies the C library's locks as they are but not the threads holding them. A Kafka
    client's IO thread that ``close()`` has just joined still tears down its resolver state for
    a few milliseconds; a child forked then can wait forever in its first getaddrinfo() (seen
    about one fork in twenty under a busy test run). Linux's /proc/self/task lists the native
    threads; elsewhere there is nothing to wait for.
    """
    tasks = Path("/proc/self/task")
    if not tasks.is_dir():
        return
    settle_by = time.monotonic() + FORK_SETTLE_S
    while len(list(tasks.iterdir())) > threading.active_count() and time.monotonic() < settle_by:
        time.sleep(0.005)


def crash_now() -> None:
    """End this process with SIGKILL, at once: no finally, no atexit, no close, no commit."""
    os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True)
class ChildResult:
    """How a forked child ended.

    ``returned`` is the body's return value after a JSON round trip; ``output`` is everything
    the child wrote to stdout and stderr.
    """

    exitcode: int | None
    returned: Any = None
    error: str | None = None
    error_type: str | None = None
    timed_out: bool = False
    output: str = ""

    @property
    def crashed(self) -> bool:
        """The child was killed by SIGKILL (and did not merely run out of time)."""
        return self.exitcode == -signal.SIGKILL and not self.timed_out


def _child(body: Callable[[], Any], sender, log_path: str) -> None:
    # Nothing the child says may travel through the kernel's output channels (they belong to
    # threads that did not survive the fork): both streams go to a file the parent reads.
    log = open(log_path, "w", buffering=1, errors="replace")  # noqa: SIM115 (lives until exit)
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    sys.stdout = sys.stderr = log
    warnings.simplefilter("always")
    try:
        message = {"returned": json_safe(body())}
    except BaseException as error:  # the learner's code may raise anything, SystemExit included
        text = str(error) or type(error).__name__
        message = {"error": f"{type(error).__name__}: {text}", "error_type": type(error).__name__}
    sender.send(message)
    sender.close()
    log.flush()


def run_forked(body: Callable[[], Any], time_limit_s: float) -> ChildResult:
    """Run ``body()`` in a forked child; wait at most ``time_limit_s``, then kill it.

    The child is always gone when this returns, however it ended.
    """
    receiver, sender = _FORK.Pipe(duplex=False)
    with tempfile.NamedTemporaryFile("r", suffix=".log", errors="replace") as log:
        process = _FORK.Process(
            target=_child, args=(body, sender, log.name), daemon=True, name="crashable-child"
        )
        try:
            _settle_before_fork()
            with warnings.catch_warnings():
                warnings.filterwarnings(
                    "ignore", message=_FORK_WARNING, category=DeprecationWarning
                )
                process.start()
            sender.close()  # the parent's copy: once the child dies, the pipe reports its end
            message = None
            ended = receiver.poll(time_limit_s)  # an answer, or the end of a dead child's pipe
            if ended:
                try:
                    message = receiver.recv()
                except EOFError:  # killed before it could answer: a crash
                    message = None
                process.join(5)
            timed_out = not ended or process.is_alive()
        finally:
            if process.is_alive():
                process.kill()
            process.join(5)
            receiver.close()
        output = log.read()
    message = message or {}
    return ChildResult(
        exitcode=process.exitcode,
        returned=message.get("returned"),
        error=message.get("error"),
        error_type=message.get("error_type"),
        timed_out=timed_out,
        output=output,
    )
