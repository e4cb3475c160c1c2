"""Lesson 01's checks on the real broker, beyond what every exercise must do
(tests/lessons/test_every_exercise.py)."""

from __future__ import annotations


def test_untouched_stub_is_told_which_error_it_raised(verdicts):
    result = verdicts.starter("01", "create-topic").result
    assert not result.passed and result.summary == "not written yet"
    assert "NotImplementedError" in result.hint


def test_callbacks_that_read_the_loop_variable_late_are_told_about_late_binding(verdicts):
    result = verdicts.wrong(
        "01",
        "delivery-report",
        "callbacks that read the loop variable when they run (late binding)",
    ).result
    assert not result.passed and "wrong order ids" in result.summary
    assert "late binding" in result.hint and "default argument" in result.hint
