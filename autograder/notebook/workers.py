"""Child processes a lesson starts and always stops: consumers to crash, or to run side by side.

A real crash needs a real process: ``kill()`` sends SIGKILL, so the child gets no chance to
close its clients, commit or leave its group, exactly as when a machine dies.

Example:
    >>> from autograder.notebook.workers import Worker, running
    >>> with running(Worker(consume, bootstrap, topic)) as (worker,):
    ...     worker.wait(10)
    # leaving the block kills any worker still alive, even when the block raised
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

# A fresh interpreter per child: nothing of the kernel's Kafka clients or threads is copied.
# The target must live in an importable module (autograder.demos...), not in a notebook cell.
_SPAWN = multiprocessing.get_context("spawn")


class Worker:
    """One child process running ``target(*args, **kwargs)``."""

    def __init__(
        self, target: Callable[..., Any], *args: Any, name: str | None = None, **kwargs: Any
    ) -> None:
        self._process = _SPAWN.Process(
            target=target, args=args, kwargs=kwargs, name=name, daemon=True
        )

    def start(self) -> Worker:
        self._process.start()
        return self

    @property
    def pid(self) -> int | None:
        return self._process.pid

    @property
    def alive(self) -> bool:
        return self._process.is_alive()

    @property
    def exitcode(self) -> int | None:
        return self._process.exitcode

    def wait(self, timeout_s: float) -> int | None:
        """Wait up to ``timeout_s`` for the child to end; its exit code, or None if still alive."""
        self._process.join(timeout_s)
        return self._process.exitcode

    def kill(self) -> None:
        """SIGKILL: the child stops mid-instruction, as in a power cut."""
        if self._process.pid is not None and self._process.is_alive():
            self._process.kill()
        if self._process.pid is not None:
            self._process.join(5)

    def stop(self, grace_s: float = 5.0) -> None:
        """SIGTERM, then SIGKILL if the child has not ended after ``grace_s``."""
        if self._process.pid is not None and self._process.is_alive():
            self._process.terminate()
            self._process.join(grace_s)
        self.kill()


@contextmanager
def running(*workers: Worker) -> Iterator[tuple[Worker, ...]]:
    """Start the workers; on leaving, kill any still alive, even when the block raised."""
    started: list[Worker] = []
    try:
        for worker in workers:
            started.append(worker.start())
        yield tuple(workers)
    finally:
        for worker in started:
            worker.kill()
