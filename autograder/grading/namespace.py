"""Per-run names: every notebook run gets its own topics and groups on a shared broker.

The run id comes from KAFKA_COURSE_RUN_ID when the grader sets it (so it can find the run's
topics afterwards), otherwise a fresh random one each time a lesson's setup cell runs.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

RUN_ID_ENV = "KAFKA_COURSE_RUN_ID"


def new_run_id() -> str:
    return "r" + secrets.token_hex(4)


@dataclass(frozen=True)
class Namespace:
    """Names for one run of one lesson.

    Example:
        >>> ns = Namespace("r1a2b3c4d", "01")
        >>> ns.topic("orders")
        'kc-r1a2b3c4d-01-orders'
    """

    run_id: str
    lesson: str

    @classmethod
    def for_lesson(cls, lesson: str) -> Namespace:
        return cls(os.environ.get(RUN_ID_ENV) or new_run_id(), lesson)

    @property
    def prefix(self) -> str:
        return f"kc-{self.run_id}-{self.lesson}"

    def topic(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    def group(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    @property
    def claims_topic(self) -> str:
        """Where each check records what it ran and what the learner's function returned."""
        return self.topic("claims")

    def attempt_topic(self, exercise: str, attempt: str) -> str:
        return self.topic(f"{exercise}-{attempt}")


def new_attempt_id() -> str:
    return secrets.token_hex(3)
