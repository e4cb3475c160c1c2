"""A self-paced learner's progress and reset."""

from __future__ import annotations

import shutil

from autograder.authoring.reset import reset_lesson
from autograder.grading import manifest
from autograder.grading.paths import RELEASE_DIR
from autograder.notebook import progress


def test_progress_remembers_passes_and_is_not_downgraded(tmp_path, monkeypatch):
    monkeypatch.setenv("KAFKA_COURSE_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("KAFKA_COURSE_RUN_ID", raising=False)
    progress.record("01", "create-topic", True)
    progress.record("01", "create-topic", False)
    progress.record("01", "send-keyed", False)
    text = progress.summary()
    assert "Producer basics: 1/3" in text
    assert "✔ create-topic" in text and "· send-keyed" in text


def test_graded_runs_do_not_touch_progress(tmp_path, monkeypatch):
    monkeypatch.setenv("KAFKA_COURSE_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("KAFKA_COURSE_RUN_ID", "rgrader")
    progress.record("01", "create-topic", True)
    assert progress.load() == {}


def test_reset_restores_the_released_notebook_and_keeps_the_old_one(tmp_path, monkeypatch):
    monkeypatch.setenv("KAFKA_COURSE_STATE_DIR", str(tmp_path / "state"))
    lesson = manifest.lesson("01")
    release = tmp_path / "notebooks"
    shutil.copytree(RELEASE_DIR / lesson.slug, release / lesson.slug)
    mine = release / lesson.slug / lesson.notebook_name
    mine.write_text(mine.read_text().replace("raise NotImplementedError()", "pass  # my try"))
    backup = reset_lesson("01", release_dir=release)
    assert mine.read_text() == (RELEASE_DIR / lesson.slug / lesson.notebook_name).read_text()
    assert "my try" in backup.read_text()
