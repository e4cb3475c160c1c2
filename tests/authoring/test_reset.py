"""`kafka-course reset` (authoring/reset.py): a lesson back to its released notebook, the
learner's own kept beside it."""

from __future__ import annotations

import shutil

import pytest

from autograder.authoring.reset import reset_lesson
from autograder.grading import manifest
from autograder.grading.paths import RELEASE_DIR


@pytest.mark.slow  # reset regenerates the release with nbgrader
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
