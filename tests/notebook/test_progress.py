"""A self-paced learner's progress (notebook/progress.py): passes are kept, graded runs leave it
alone."""

from __future__ import annotations

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
