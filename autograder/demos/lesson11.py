"""Lesson 11, the pitfalls clinic: a broken program put through its exercise's check.

``try_program`` runs the same check the graded cell runs, on the broker, and shows its verdict
without raising and without recording a claim: the broken program's failure is there to be
read, and it never stands in for the learner's own attempt when the notebook is graded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from autograder.grading.verdict import trial
from autograder.notebook.display import show
from autograder.notebook.lesson import Lesson


def try_program(course: Lesson, exercise_id: str, function: Callable[..., Any]) -> None:
    """Check ``function`` as exercise ``exercise_id`` would, and show what the broker holds."""
    course.spec.exercise(exercise_id)  # an unknown id is the course's bug: fail loudly
    show(trial(course.bootstrap, course.namespace, exercise_id, function))
