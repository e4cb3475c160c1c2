"""What every exercise provides: resources prepared on the broker, and a judge of the result.

``Exercise.judge`` is a template. It answers first what every exercise answers alike (the
function is not written yet, did not finish in time, or raised), then asks the exercise whether
the attempt met the condition it exists to create (``unmet_condition``: a fault or a crash the
learner's code must have gone through), and only then calls the exercise's own ``verdict``. The
function's name and the not-written hint come from the manifest, and every failure is built by
``failure``, which ends its hint with the course's one closing instruction.

A lesson's exercise therefore writes only what is special to it:

    class CreateTopic(Exercise):
        id = "create-topic"

        def prepare(self, attempt):
            return {"bootstrap": attempt.bootstrap, "name": attempt.topic()}

        def verdict(self, attempt, outcome):
            if kafka_io.describe_topic(attempt.bootstrap, attempt.topic()) is None:
                return self.failure("no such topic", "a topic", "none", "Which call? Call it.")
            return self.success("the topic exists")
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from autograder.grading import manifest
from autograder.grading.harness import Outcome, run_learner_function
from autograder.grading.namespace import Namespace
from autograder.grading.result import CheckResult, failed, passed, run_again

REPLACE_THE_STUB = "Replace `raise NotImplementedError()` with your code."
TIMED_OUT_HINT = (
    "Is there a loop without a deadline, or a call that waits forever (a `.get()` without "
    "timeout)? Bound every wait."
)
RAISED_HINT = "What does the error say about your code? Fix that line."


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


def exercise_spec(exercise_id: str) -> manifest.ExerciseSpec:
    """The manifest's entry for ``exercise_id``: its function name, points and hint."""
    for lesson in manifest.load():
        for spec in lesson.exercises:
            if spec.id == exercise_id:
                return spec
    raise KeyError(f"the manifest has no exercise {exercise_id!r}")


class Exercise:
    """Subclasses set ``id`` and implement ``prepare`` and ``verdict``.

    ``prepare`` runs before the learner's function and returns the keyword arguments it is
    called with. ``verdict`` runs once the function returned normally; it looks only at the
    broker (through ``kafka_io``), at the learner's returned value and at the grader's own
    evidence in the Outcome, and it must give the same verdict wherever it runs: in the
    learner's kernel or later in the grader's own process.

    ``error_hints`` maps an exception's class name to the hint for that mistake (without the
    closing instruction, which ``failure`` adds).
    """

    id: str = ""
    time_limit_s: float = 10.0
    error_hints: ClassVar[Mapping[str, str]] = {}

    # ----- what a lesson's exercise implements ----------------------------------------------

    def prepare(self, attempt: Attempt) -> dict:
        raise NotImplementedError

    def verdict(self, attempt: Attempt, outcome: Outcome) -> CheckResult:
        """The exercise's own judgement of a function that returned normally."""
        raise NotImplementedError

    def unmet_condition(self, attempt: Attempt, outcome: Outcome) -> CheckResult | None:
        """A failure when the attempt never met the condition the exercise exists to create
        (the injected fault, the crash), judged from ``outcome.evidence``; None otherwise."""
        return None

    def run_learner(self, function: Callable[..., Any], kwargs: dict) -> Outcome:
        """Call the learner's function with ``prepare``'s arguments, bounded in time.

        An exercise that must run the function elsewhere (lesson 07 crashes it in a child
        process) or watch it from outside (lesson 04's fault proxy) overrides this; what it
        saw goes into ``Outcome.evidence``, and the judge still sees only an Outcome and the
        broker.
        """
        return run_learner_function(function, kwargs, self.time_limit_s)

    # ----- the template -------------------------------------------------------------------

    def judge(self, attempt: Attempt, outcome: Outcome) -> CheckResult:
        """The verdict on one attempt: the shared opening, the condition, then ``verdict``."""
        return (
            self._unfinished(outcome)
            or self.unmet_condition(attempt, outcome)
            or self.verdict(attempt, outcome)
        )

    @property
    def function_name(self) -> str:
        """The name of the learner's function, as the manifest declares it."""
        return exercise_spec(self.id).function

    def failure(self, summary: str, expected: str, found: str, hint: str) -> CheckResult:
        """A failed result whose hint (a question, then what to do) ends in the closing
        instruction: run this cell again."""
        return failed(self.id, summary, expected, found, run_again(hint))

    def success(self, summary: str) -> CheckResult:
        return passed(self.id, summary)

    def _unfinished(self, outcome: Outcome) -> CheckResult | None:
        """The verdict when the learner's function did not finish normally, else None."""
        name = self.function_name
        if outcome.not_written:
            return self.failure(
                "not written yet",
                f"your `{name}` doing the work",
                "`raise NotImplementedError()` still in place",
                f"{exercise_spec(self.id).hint} {REPLACE_THE_STUB}",
            )
        if outcome.timed_out:
            return self.failure(
                f"`{name}` did not finish in {self.time_limit_s:.0f} s",
                "the function returns within the time limit",
                "it was still running",
                TIMED_OUT_HINT,
            )
        if outcome.error:
            return self.failure(
                f"`{name}` raised an error",
                "the function returns normally",
                outcome.error,
                self.error_hints.get(outcome.error_type or "", RAISED_HINT),
            )
        return None
