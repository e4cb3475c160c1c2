"""A self-paced learner's progress: which exercises passed and when, kept beside the broker's state.

Only a learner's own check cells record here: the grader's runs, the dev check and the test
suite carry a run id (``KAFKA_COURSE_RUN_ID``) and do not. It is a convenience for the learner,
never an input to grading.

Public API:

    record(lesson_id, exercise_id, passed)   remember a check's verdict
    load() -> dict                           {lesson: {exercise: {"passed", "at", "passed_at"}}}
    progress_file() -> Path                  where the record lives
    lessons() -> list[LessonProgress]        per lesson of the manifest: what passed and when
    summary() -> str                         the text `kafka-course progress` prints
    forget(lesson_id)                        drop a lesson's verdicts (its notebook was reset)
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from autograder.grading import manifest
from autograder.grading.namespace import RUN_ID_ENV
from autograder.grading.paths import state_dir


def progress_file() -> Path:
    return state_dir() / "progress.json"


def load() -> dict:
    try:
        return json.loads(progress_file().read_text())
    except (OSError, ValueError):
        return {}


def _save(data: dict) -> None:
    try:
        progress_file().parent.mkdir(parents=True, exist_ok=True)
        progress_file().write_text(json.dumps(data, indent=1))
    except OSError:
        pass  # progress is a convenience: a read-only folder must not break a check


def record(lesson_id: str, exercise_id: str, passed: bool) -> None:
    """Remember the latest verdict of an exercise; a pass is never downgraded by a later fail."""
    if os.environ.get(RUN_ID_ENV):
        return
    data = load()
    entry = data.setdefault(lesson_id, {}).get(exercise_id, {})
    now = time.strftime("%Y-%m-%d %H:%M")
    if passed:
        entry = {"passed": True, "at": now, "passed_at": now}
    elif not entry.get("passed"):
        entry = {"passed": False, "at": now}
    data[lesson_id][exercise_id] = entry
    _save(data)


@dataclass(frozen=True)
class ExerciseProgress:
    id: str
    passed: bool
    passed_at: str | None  # when it last passed ("YYYY-MM-DD HH:MM"), None if never
    tried: bool


@dataclass(frozen=True)
class LessonProgress:
    id: str
    title: str
    exercises: list[ExerciseProgress]

    @property
    def passed(self) -> int:
        return sum(1 for e in self.exercises if e.passed)


def lessons() -> list[LessonProgress]:
    """Every lesson of the manifest with each exercise's standing, from the learner's record."""
    data = load()
    found = []
    for lesson in manifest.load():
        done = data.get(lesson.id, {})
        exercises = []
        for exercise in lesson.exercises:
            entry = done.get(exercise.id, {})
            passed_at = entry.get("passed_at") or (entry.get("at") if entry.get("passed") else None)
            exercises.append(
                ExerciseProgress(exercise.id, bool(entry.get("passed")), passed_at, bool(entry))
            )
        found.append(LessonProgress(lesson.id, lesson.title, exercises))
    return found


def summary() -> str:
    """Where the record is, then one block per lesson: how many passed, which, and when."""
    lines = [f"Your progress ({progress_file()}):"]
    for lesson in lessons():
        lines.append(
            f"Lesson {lesson.id} · {lesson.title}: {lesson.passed}/{len(lesson.exercises)}"
        )
        for exercise in lesson.exercises:
            if exercise.passed:
                lines.append(f"  ✔ {exercise.id}  (passed {exercise.passed_at})")
            elif exercise.tried:
                lines.append(f"  ✘ {exercise.id}  (tried, not passed yet)")
            else:
                lines.append(f"  · {exercise.id}")
    return "\n".join(lines)


def forget(lesson_id: str) -> None:
    """Drop a lesson's recorded verdicts (its notebook was put back as released)."""
    data = load()
    if data.pop(lesson_id, None) is not None:
        _save(data)
