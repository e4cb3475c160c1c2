"""Each piece of the course's learner code checked once per test session, on the real broker.

The shared trio (tests/lessons/test_every_exercise.py) and a lesson's own tests ask about the
same runs: that the reference passes, and then what else it left on the broker; that a wrong
answer fails, and then which words its hint uses. Checking each once keeps the suite as fast as
when every lesson file ran its own copy, and every run still gets a fresh namespace of its own.

    judged = verdicts.wrong("05", "consume-all", "one poll, taken as everything")
    judged.result.summary, rejudge(bootstrap, judged.namespace, "consume-all")
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from autograder.grading.namespace import Namespace, new_run_id
from autograder.grading.result import CheckResult
from autograder.grading.verdict import run_check
from tests.learner_code import solution, starter, wrong_answer


class Judged(NamedTuple):
    """One check run: the namespace it ran in (for rejudge) and what it answered."""

    namespace: Namespace
    result: CheckResult


class Verdicts:
    """run_check on the reference, the starter or a wrong answer, remembered for the session."""

    def __init__(self, bootstrap: str):
        self.bootstrap = bootstrap
        self._done: dict[tuple[str, ...], Judged] = {}

    def reference(self, lesson_id: str, exercise_id: str) -> Judged:
        """The reference solution from the source notebook, checked."""
        return self._check(
            (lesson_id, exercise_id, "reference"), lambda: solution(exercise_id, lesson_id)
        )

    def starter(self, lesson_id: str, exercise_id: str) -> Judged:
        """The untouched stub of the released notebook, checked."""
        return self._check(
            (lesson_id, exercise_id, "starter"), lambda: starter(exercise_id, lesson_id)
        )

    def wrong(self, lesson_id: str, exercise_id: str, name: str) -> Judged:
        """One of the manifest's wrong answers, checked."""
        return self._check(
            (lesson_id, exercise_id, "wrong", name),
            lambda: wrong_answer(exercise_id, name, lesson_id),
        )

    def _check(self, key: tuple[str, ...], function: Callable[[], Callable]) -> Judged:
        if key not in self._done:
            lesson_id, exercise_id = key[:2]
            namespace = Namespace(new_run_id(), lesson_id)
            result = run_check(self.bootstrap, namespace, exercise_id, function())
            self._done[key] = Judged(namespace, result)
        return self._done[key]
