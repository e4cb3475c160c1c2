"""Keep kafka-python's logging off stderr, and the grader's own connection noise out of sight.

nbgrader scores a test cell that wrote anything to stderr as zero, and kafka-python logs
warnings from its background threads at any moment. Its messages still reach the learner,
on stdout, where they help and cost nothing. While the grader itself talks to the broker
(`grader_busy`), kafka-python's messages are dropped: when the broker is down the learner gets
the grader's one clear sentence instead of a screenful of connection errors.
"""

from __future__ import annotations

import logging
import sys
import threading
from contextlib import contextmanager

_busy = 0
_busy_guard = threading.Lock()


@contextmanager
def grader_busy():
    """While inside, kafka-python's log messages are not shown."""
    global _busy
    with _busy_guard:
        _busy += 1
    try:
        yield
    finally:
        with _busy_guard:
            _busy -= 1


class _CurrentStdout(logging.StreamHandler):
    """Writes to whatever sys.stdout is at emit time (Jupyter swaps it per cell)."""

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, _value) -> None:
        pass

    def filter(self, record) -> bool:
        return _busy == 0 and super().filter(record)


_MARK = "_kafka_course_quiet"


def route_kafka_logs_to_stdout(level: int = logging.WARNING) -> None:
    """Idempotent: send the 'kafka' loggers to stdout only, at `level` and above."""
    logger = logging.getLogger("kafka")
    if any(getattr(h, _MARK, False) for h in logger.handlers):
        return
    handler = _CurrentStdout()
    setattr(handler, _MARK, True)
    handler.setFormatter(logging.Formatter("kafka-python %(levelname)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


def silence_kafka_logs() -> None:
    """For the grader's own processes: kafka-python says nothing at all."""
    logger = logging.getLogger("kafka")
    logger.handlers[:] = [logging.NullHandler()]
    logger.propagate = False
