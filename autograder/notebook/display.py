"""Showing results in a notebook: HTML for a person, a one-line error for nbgrader.

A failed check must leave an error in the cell's output (that is how nbgrader scores it zero),
but a learner should see guidance, not a traceback. IPython asks an exception for its own
rendering through ``_render_traceback_``; CheckFailed answers with one line.
"""

from __future__ import annotations

from autograder.grading.result import CheckResult


class CheckFailed(AssertionError):
    """Raised by a failed check; shown as one line, the details are in the result above it."""

    def _render_traceback_(self) -> list[str]:
        return [f"CheckFailed: {self}"]


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return hasattr(get_ipython(), "kernel")


def show(result: CheckResult) -> None:
    """Display a result as HTML in a notebook, as text in a terminal."""
    if _in_kernel():
        from IPython.display import display

        display(result)
    else:
        print(result)


def report(result: CheckResult) -> None:
    """Show the result; a failure also raises, so nbgrader scores the cell zero."""
    show(result)
    if not result.passed:
        raise CheckFailed(
            f"{result.exercise} is not solved yet — see expected, found and hint above"
        )
