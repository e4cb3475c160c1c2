"""A self-paced learner's progress: which exercises passed, kept beside the broker's state.

Only interactive runs record here (the grader's runs carry a run id from nbgrader and do not);
it is a convenience for the learner, never an input to grading.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from autograder.grading import manifest
from autograder.grading.namespace import RUN_ID_ENV
from autograder.grading.paths import state_dir


def _file() -> Path:
    return state_dir() / "progress.json"


def load() -> dict:
    try:
        return json.loads(_file().read_text())
    except (OSError, ValueError):
        return {}


def record(lesson_id: str, exercise_id: str, passed: bool) -> None:
    """Remember the latest verdict of an exercise; a pass is never downgraded by a later fail."""
    if os.environ.get(RUN_ID_ENV):
        return
    data = load()
    entry = data.setdefault(lesson_id, {}).get(exercise_id, {})
    if passed or not entry.get("passed"):
        data[lesson_id][exercise_id] = {"passed": passed, "at": time.strftime("%Y-%m-%d %H:%M")}
    try:
        _file().parent.mkdir(parents=True, exist_ok=True)
        _file().write_text(json.dumps(data, indent=1))
    except OSError:
        pass  # progress is a convenience: a read-only folder must not break a check


def summary() -> str:
    """One block per lesson: how many exercises passed, and which."""
    data = load()
    lines = []
    for lesson in manifest.load():
        done = data.get(lesson.id, {})
        count = sum(1 for e in lesson.exercises if done.get(e.id, {}).get("passed"))
        lines.append(f"Lesson {lesson.id} · {lesson.title}: {count}/{len(lesson.exercises)}")
        for exercise in lesson.exercises:
            mark = "✔" if done.get(exercise.id, {}).get("passed") else "·"
            lines.append(f"  {mark} {exercise.id}")
    return "\n".join(lines)


def forget(lesson_id: str) -> None:
    """Drop a lesson's recorded verdicts (its notebook was put back as released)."""
    data = load()
    if data.pop(lesson_id, None) is not None:
        _file().write_text(json.dumps(data, indent=1))
