"""What every exercise provides: resources prepared on the broker, and a judge of the result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from autograder.grading.harness import Outcome, run_learner_function
from autograder.grading.namespace import Namespace
from autograder.grading.result import CheckResult, failed


@dataclass(frozen=True)
class Attempt:
    """One run of one check: where it happens and the names it may use."""

    bootstrap: str
    namespace: Namespace
    exercise: str
    attempt_id: str

    def topic(self, suffix: str = "") -> str:
        """This attempt's own topic; a fresh name every attempt, so re-running starts clean."""
        name = self.namespace.attempt_topic(self.exercise, self.attempt_id)
        return f"{name}-{suffix}" if suffix else name

    def group(self, suffix: str = "") -> str:
        """This attempt's own consumer group id; fresh every attempt, like its topic."""
        name = self.namespace.group(f"{self.exercise}-{self.attempt_id}")
        return f"{name}-{suffix}" if suffix else name


class Exercise:
    """Subclasses set ``id`` and implement ``prepare`` and ``judge``.

    ``prepare`` runs before the learner's function and returns the keyword arguments it is
    called with. ``judge`` looks only at the broker (through ``kafka_io``) and at the
    learner's returned value, and it must give the same verdict wherever it runs: in the
    learner's kernel or later in the grader's own process.
    """

    id: str = ""
    time_limit_s: float = 10.0

    def prepare(self, attempt: Attempt) -> dict:
        raise NotImplementedError

    def judge(self, attempt: Attempt, outcome: Outcome) -> CheckResult:
        raise NotImplementedError

    def run_learner(self, function: Callable[..., Any], kwargs: dict) -> Outcome:
        """Call the learner's function with ``prepare``'s arguments, bounded in time.

        An exercise that must run the function elsewhere (lesson 07 crashes it in a child
        process) overrides this; the judge still sees only an Outcome and the broker.
        """
        return run_learner_function(function, kwargs, self.time_limit_s)


def judge_outcome_first(
    exercise: Exercise,
    attempt: Attempt,
    outcome: Outcome,
    function_name: str,
    hint: str,
    error_hints: dict[str, str] | None = None,
) -> CheckResult | None:
    """The verdict when the learner's function did not finish normally, else None.

    ``error_hints`` maps an exception's class name to the hint for that mistake.
    """
    if outcome.not_written:
        return failed(
            exercise.id,
            "not written yet",
            f"your `{function_name}` doing the work",
            "`raise NotImplementedError()` still in place",
            f"{hint} Replace `raise NotImplementedError()` with your code, then run "
            "this cell again.",
        )
    if outcome.timed_out:
        limit = f"{exercise.time_limit_s:.0f} s"
        return failed(
            exercise.id,
            f"`{function_name}` did not finish in {limit}",
            "the function returns within the time limit",
            "it was still running",
            "Is there a loop without a deadline, or a call that waits forever (a "
            "`.get()` without timeout)? Bound every wait, then run this cell again.",
        )
    if outcome.error:
        return failed(
            exercise.id,
            f"`{function_name}` raised an error",
            "the function returns normally",
            outcome.error,
            (error_hints or {}).get(
                outcome.error_type or "",
                "What does the error say about your code? Fix that line, then run this cell again.",
            ),
        )
    return None
