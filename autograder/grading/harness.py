"""Runs a learner's function the way a check needs it: bounded in time, errors caught,
and nothing it says reaching stderr (where nbgrader would score the cell zero)."""

from __future__ import annotations

import contextlib
import io
import json
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Outcome:
    """How the learner's function ended.

    ``returned`` is the value after a JSON round trip, exactly as the grader will see it later.
    ``evidence`` is what the grader itself saw of the attempt from outside the learner's code
    (the fault proxy's counters, the crash runner's record of each run), JSON-safe: it is
    recorded in the claim with the rest, so a later rejudge judges the same evidence.
    """

    returned: Any = None
    error: str | None = None
    error_type: str | None = None
    timed_out: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)
    evidence: dict = field(default_factory=dict)

    @property
    def not_written(self) -> bool:
        return self.error_type == "NotImplementedError"

    def to_claim(self) -> dict:
        return {
            "returned": self.returned,
            "error": self.error,
            "error_type": self.error_type,
            "timed_out": self.timed_out,
            "evidence": self.evidence,
        }

    @classmethod
    def from_claim(cls, claim: dict) -> Outcome:
        evidence = claim.get("evidence")
        return cls(
            claim.get("returned"),
            claim.get("error"),
            claim.get("error_type"),
            bool(claim.get("timed_out")),
            evidence=evidence if isinstance(evidence, dict) else {},
        )


def json_safe(value: Any) -> Any:
    """What the value looks like after JSON: tuples become lists, keys become strings."""
    try:
        return json.loads(json.dumps(value, default=repr))
    except (TypeError, ValueError):
        return repr(value)


def run_learner_function(
    function: Callable[..., Any], kwargs: dict, time_limit_s: float
) -> Outcome:
    """Call ``function(**kwargs)`` in a worker thread and wait at most ``time_limit_s``.

    A function that loops forever is left behind as a daemon thread and reported as timed out;
    the notebook moves on.
    """
    box: dict[str, Any] = {}
    stderr = io.StringIO()

    def call() -> None:
        try:
            box["returned"] = function(**kwargs)
        except BaseException as error:  # the learner's code may raise anything, SystemExit included
            box["error"] = error

    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stderr(stderr):
        warnings.simplefilter("always")
        worker = threading.Thread(target=call, name="learner-function", daemon=True)
        worker.start()
        worker.join(time_limit_s)

    notes = [f"{w.category.__name__}: {w.message}" for w in caught]
    notes += [f"stderr: {line}" for line in stderr.getvalue().splitlines() if line.strip()]
    if worker.is_alive():
        return Outcome(timed_out=True, notes=tuple(notes))
    if "error" in box:
        error = box["error"]
        text = str(error) or type(error).__name__
        return Outcome(
            error=f"{type(error).__name__}: {text}",
            error_type=type(error).__name__,
            notes=tuple(notes),
        )
    return Outcome(returned=json_safe(box.get("returned")), notes=tuple(notes))
