"""`kafka-course reset LESSON`: a learner's notebook back as released, their copy kept."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from autograder.authoring.release import generate_release
from autograder.grading import manifest
from autograder.grading.paths import RELEASE_DIR, state_dir
from autograder.notebook import progress


def reset_lesson(lesson_key: str, release_dir: Path = RELEASE_DIR) -> Path:
    """Put a lesson's notebook back as released; the old one is kept; returns its backup path."""
    lesson = manifest.lesson(lesson_key)
    current = release_dir / lesson.slug / lesson.notebook_name
    backups = state_dir() / "backups"
    backups.mkdir(parents=True, exist_ok=True)
    backup = backups / f"{lesson.slug}-{time.strftime('%Y%m%d-%H%M%S')}.ipynb"
    if current.exists():
        shutil.copy2(current, backup)
    with tempfile.TemporaryDirectory() as scratch:
        generate_release(Path(scratch), [lesson.id])
        shutil.copy2(Path(scratch) / lesson.slug / lesson.notebook_name, current)
    progress.forget(lesson.id)
    return backup
