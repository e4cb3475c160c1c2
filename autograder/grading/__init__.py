"""Grading: the core. Everything here works without a notebook, and in any process.

An attempt gets fresh names on the broker (``namespace``), the learner's function runs bounded in
time (``harness``; ``crash_runner`` where it must really die), each exercise's judge reads what
the broker holds (``exercises``) through the one module that talks to Kafka for the grader
(``kafka_io``), and the verdict is a ``CheckResult`` (``result``). ``verdict`` ties these together
and judges again later from the broker alone. ``manifest`` and ``paths`` say what the course holds
and where.

Public API:

    run_check(bootstrap, namespace, exercise_id, function) -> CheckResult
    rejudge(bootstrap, namespace, exercise_id) -> CheckResult
    Namespace, new_run_id()           the names one run owns on the broker
    CheckResult, passed(), failed()   a verdict with expected, found and hint
    Exercise, Attempt, EXERCISES      what a lesson's judges are built on
    Outcome                           how the learner's function ended
    kafka_io, manifest                modules, imported as such

Nothing under grading/ imports from notebook/, authoring/, cli/ or demos/ (a test asserts it).

Example:
    >>> from autograder.grading import Namespace, new_run_id, run_check
    >>> result = run_check("localhost:9092", Namespace(new_run_id(), "01"), "create-topic", fn)
    >>> result.passed
    True
"""

from __future__ import annotations

import importlib
from typing import Any

# Imported on first use: broker/ and faults/ import grading's leaf modules (paths, quiet,
# kafka_io), and an eager import of the judges here would run back into them half-loaded.
_EXPORTS = {
    "run_check": "verdict",
    "rejudge": "verdict",
    "ensure_claims_topic": "verdict",
    "Namespace": "namespace",
    "new_run_id": "namespace",
    "CheckResult": "result",
    "passed": "result",
    "failed": "result",
    "Exercise": "exercises",
    "Attempt": "exercises",
    "EXERCISES": "exercises",
    "Outcome": "harness",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    if name in ("kafka_io", "manifest"):
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted([*_EXPORTS, "kafka_io", "manifest"])
