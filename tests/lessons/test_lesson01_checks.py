"""Lesson 01's checks on the real broker, beyond what every exercise must do
(tests/lessons/test_every_exercise.py)."""

from __future__ import annotations


def test_untouched_stub_is_told_which_error_it_raised(verdicts):
    result = verdicts.starter("01", "create-topic").result
    assert not result.passed and result.summary == "not written yet"
    assert "NotImplementedError" in result.hint
