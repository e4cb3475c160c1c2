"""Every exercise's judge, by the id the manifest gives it.

Each ``lessonNN`` module in this package lists its exercises in a module-level ``EXERCISES``
tuple; they are collected here, so adding a lesson never edits this file.
"""

from __future__ import annotations

import importlib
import pkgutil

from autograder.grading.exercises.base import Attempt, Exercise


def _collect() -> dict[str, Exercise]:
    found: dict[str, Exercise] = {}
    for module in sorted(
        m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith("lesson")
    ):
        for exercise in importlib.import_module(f"{__name__}.{module}").EXERCISES:
            if exercise.id in found:
                raise ValueError(f"two exercises share the id {exercise.id!r}")
            found[exercise.id] = exercise
    return found


EXERCISES: dict[str, Exercise] = _collect()

__all__ = ["Attempt", "Exercise", "EXERCISES"]
