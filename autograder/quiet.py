"""Keep kafka-python's logging off stderr.

nbgrader scores a test cell that wrote anything to stderr as zero, and kafka-python logs
warnings from its background threads at any moment. Its messages still reach the learner,
on stdout, where they help and cost nothing.
"""

from __future__ import annotations

import logging
import sys


class _CurrentStdout(logging.StreamHandler):
    """Writes to whatever sys.stdout is at emit time (Jupyter swaps it per cell)."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, _value) -> None:
        pass


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
