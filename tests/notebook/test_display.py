"""What a learner sees of a check in the notebook (notebook/display.py)."""

from __future__ import annotations

from autograder.notebook.display import CheckFailed


def test_a_failed_check_renders_as_one_line_not_a_traceback():
    assert CheckFailed("x is not solved yet")._render_traceback_() == [
        "CheckFailed: x is not solved yet"
    ]
