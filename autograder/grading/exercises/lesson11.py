"""Lesson 11, the pitfalls clinic: the exercises of ``autograder.grading.exercises.clinic``.

Each pitfall of a production consumer (auto-commit with slow handlers, a rebalance that loses
uncommitted work, a slow stream handled one record at a time, batches too large for the poll
interval, lag nobody watches) is a broken program the learner repairs; its check runs real
crashes, real group members and real lag, and judges what the broker holds.
"""

from __future__ import annotations

import importlib
import pkgutil

from autograder.grading.exercises import clinic
from autograder.grading.exercises.base import Exercise


def _gather() -> tuple[Exercise, ...]:
    found: list[Exercise] = []
    for module in sorted(m.name for m in pkgutil.iter_modules(clinic.__path__)):
        found += importlib.import_module(f"{clinic.__name__}.{module}").EXERCISES
    return tuple(found)


EXERCISES = _gather()
