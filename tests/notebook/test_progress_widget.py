"""`course.progress()` (notebook/progress_widget.py): the learner's record as a widget, driven
by setting its values and clicking its button as a learner would."""

from __future__ import annotations

import pytest

from autograder.notebook import progress
from autograder.notebook.progress_widget import ProgressWidget


@pytest.fixture
def learner(tmp_path, monkeypatch):
    monkeypatch.setenv("KAFKA_COURSE_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("KAFKA_COURSE_RUN_ID", raising=False)


def test_the_bars_show_what_passed_in_each_lesson(learner):
    progress.record("01", "create-topic", True)
    progress.record("02", "predict-partitions", True)
    progress.record("02", "region-partitioner", True)
    shown = ProgressWidget("01")
    assert (shown.bars["01"].value, shown.bars["01"].max) == (1, 3)
    assert shown.bars["02"].value == 2 and shown.bars["02"].bar_style == "success"
    assert shown.counts["01"].value == "1/3 · Producer basics"
    assert "✔ <code>create-topic</code>: passed" in shown.details.value
    assert "· <code>send-keyed</code>: not tried" in shown.details.value


def test_choosing_a_lesson_lists_its_exercises(learner):
    shown = ProgressWidget("01")
    shown.lesson.value = "10"
    assert "send-keyed" not in shown.details.value
    for exercise in ("atomic-transfer", "exactly-once-pipeline", "fence-the-zombie"):
        assert f"· <code>{exercise}</code>: not tried" in shown.details.value


def test_refresh_shows_a_pass_made_after_it_was_displayed(learner):
    shown = ProgressWidget("01")
    progress.record("01", "send-keyed", False)
    progress.record("01", "delivery-report", True)
    assert shown.bars["01"].value == 0  # nothing redraws by itself
    shown.refresh_button.click()
    assert shown.bars["01"].value == 1
    assert "✘ <code>send-keyed</code>: tried, not passed yet" in shown.details.value
    assert "✔ <code>delivery-report</code>" in shown.details.value


def test_without_a_browser_it_shows_the_record_as_text(learner):
    progress.record("01", "create-topic", True)
    bundle = ProgressWidget()._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"].splitlines()[0] == "Lesson 01: 1/3 · Producer basics"
