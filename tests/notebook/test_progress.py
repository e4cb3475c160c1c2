"""A self-paced learner's progress (notebook/progress.py): passes are kept with when they were
made, graded runs leave it alone, and the summary says where the record is."""

from __future__ import annotations

import re

from autograder.notebook import progress


def test_progress_remembers_passes_and_is_not_downgraded(tmp_path, monkeypatch):
    monkeypatch.setenv("KAFKA_COURSE_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("KAFKA_COURSE_RUN_ID", raising=False)
    progress.record("01", "create-topic", True)
    progress.record("01", "create-topic", False)
    progress.record("01", "send-keyed", False)
    text = progress.summary()
    assert "Producer basics: 1/3" in text
    assert re.search(r"✔ create-topic  \(passed \d{4}-\d\d-\d\d \d\d:\d\d\)", text)
    assert "✘ send-keyed  (tried, not passed yet)" in text
    assert "· delivery-report" in text


def test_the_summary_names_the_file_it_reads(tmp_path, monkeypatch):
    monkeypatch.setenv("KAFKA_COURSE_STATE_DIR", str(tmp_path))
    assert progress.summary().splitlines()[0] == f"Your progress ({tmp_path / 'progress.json'}):"


def test_a_later_fail_keeps_when_it_last_passed(tmp_path, monkeypatch):
    monkeypatch.setenv("KAFKA_COURSE_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("KAFKA_COURSE_RUN_ID", raising=False)
    progress.record("01", "create-topic", True)
    passed_at = progress.load()["01"]["create-topic"]["passed_at"]
    progress.record("01", "create-topic", False)
    (lesson,) = [s for s in progress.lessons() if s.id == "01"]
    assert lesson.exercises[0].passed and lesson.exercises[0].passed_at == passed_at


def test_graded_runs_do_not_touch_progress(tmp_path, monkeypatch):
    monkeypatch.setenv("KAFKA_COURSE_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("KAFKA_COURSE_RUN_ID", "rgrader")
    progress.record("01", "create-topic", True)
    assert progress.load() == {}
