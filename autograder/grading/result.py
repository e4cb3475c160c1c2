"""The outcome of one check: passed or not, what was expected, what the broker held, a hint."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field


def _html(text: str) -> str:
    """Escaped text, with `backticks` shown as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


@dataclass(frozen=True, repr=False)
class CheckResult:
    """What a check found.

    Args:
        exercise: the exercise id from the manifest, e.g. ``"send-keyed"``.
        passed: True when the broker holds what the exercise asks for.
        summary: one sentence a learner reads first.
        expected: what the broker should hold, in words.
        found: what the broker held, in words.
        hint: a question pointing at the concept, ending with what to do next.
        notes: anything the learner's code said while it ran (warnings, stderr).

    Example:
        >>> CheckResult("x", False, "2 records missing", "5 records", "3 records", "Did you flush?")
    """

    exercise: str
    passed: bool
    summary: str
    expected: str = ""
    found: str = ""
    hint: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __repr__(self) -> str:
        return str(self)

    def __str__(self) -> str:
        mark = "PASS" if self.passed else "FAIL"
        lines = [f"[{mark}] {self.exercise}: {self.summary}"]
        if not self.passed:
            lines += [f"  expected: {self.expected}", f"  found:    {self.found}"]
            if self.hint:
                lines.append(f"  hint:     {self.hint}")
        lines += [f"  note:     {note}" for note in self.notes]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        colour, mark = ("#1a7f37", "✔ passed") if self.passed else ("#b42318", "✘ not yet")
        rows = ""
        if not self.passed:
            rows = "".join(
                f"<tr><th style='text-align:left;padding-right:1em'>{name}</th>"
                f"<td style='text-align:left'>{_html(value)}</td></tr>"
                for name, value in (
                    ("expected", self.expected),
                    ("found", self.found),
                    ("hint", self.hint),
                )
                if value
            )
        notes = "".join(f"<li>{_html(n)}</li>" for n in self.notes)
        return (
            f"<div style='border-left:4px solid {colour};padding:0.4em 0.8em;margin:0.3em 0'>"
            f"<b style='color:{colour}'>{mark}</b> <code>{html.escape(self.exercise)}</code>: "
            f"{_html(self.summary)}"
            + (f"<table style='margin-top:0.4em'>{rows}</table>" if rows else "")
            + (f"<ul style='margin:0.3em 0'>{notes}</ul>" if notes else "")
            + "</div>"
        )

    def with_notes(self, notes: list[str]) -> CheckResult:
        """The same result carrying what the learner's code said while it ran."""
        return CheckResult(
            self.exercise,
            self.passed,
            self.summary,
            self.expected,
            self.found,
            self.hint,
            tuple(self.notes) + tuple(notes),
        )


RUN_AGAIN = "then run this cell again"


def run_again(hint: str) -> str:
    """``hint`` (a question, then what to do) ending in the course's one closing instruction.

    Example:
        >>> run_again("Did you flush? Call producer.flush() before returning.")
        'Did you flush? Call producer.flush() before returning, then run this cell again.'
    """
    text = hint.rstrip()
    if text.endswith(f"{RUN_AGAIN}."):
        return text
    return f"{text.rstrip('.')}, {RUN_AGAIN}."


def passed(exercise: str, summary: str) -> CheckResult:
    return CheckResult(exercise, True, summary)


def failed(exercise: str, summary: str, expected: str, found: str, hint: str) -> CheckResult:
    return CheckResult(exercise, False, summary, expected, found, hint)
