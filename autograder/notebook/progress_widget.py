"""``course.progress()``: the learner's progress across the lessons, as an ipywidgets widget.

One row per lesson with a bar of exercises passed; choosing a lesson lists its exercises with
when each last passed; "Refresh" reads the record again (after a check cell has run). It reads
only the learner's own record (notebook/progress.py) and writes nothing. Displaying it needs no
click, so a headless run (nbclient, nbgrader) shows the record as it stands and goes on.

Example:
    >>> course.progress()        # in any lesson's notebook, after its setup cell
"""

from __future__ import annotations

import html

import ipywidgets as widgets  # type: ignore[import-untyped]

from autograder.notebook import progress


class ProgressWidget:
    """The widget's parts (``bars``, ``lesson``, ``details``, ``refresh_button``) and its box."""

    def __init__(self, lesson_id: str | None = None) -> None:
        standing = progress.lessons()
        self.bars = {
            lesson.id: widgets.IntProgress(
                min=0,
                max=max(len(lesson.exercises), 1),
                description=f"Lesson {lesson.id}",
                style={"description_width": "6em"},
                layout=widgets.Layout(width="22em"),
            )
            for lesson in standing
        }
        self.counts = {lesson.id: widgets.Label() for lesson in standing}
        self.lesson = widgets.Dropdown(
            options=[(f"{lesson.id} · {lesson.title}", lesson.id) for lesson in standing],
            value=lesson_id if lesson_id in self.bars else standing[0].id,
            description="Exercises of",
            style={"description_width": "7em"},
        )
        self.details = widgets.HTML()
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.where = widgets.HTML(
            f"<small>Kept in <code>{html.escape(str(progress.progress_file()))}</code>; "
            "only your own check cells write it.</small>"
        )
        self.lesson.observe(lambda _: self.refresh(), names="value")
        self.refresh_button.on_click(lambda _: self.refresh())
        rows = [widgets.HBox([self.bars[k], self.counts[k]]) for k in self.bars]
        self.box = widgets.VBox(
            [*rows, widgets.HBox([self.lesson, self.refresh_button]), self.details, self.where]
        )
        self.refresh()

    def refresh(self) -> None:
        """Read the learner's record again and redraw every bar and the chosen lesson's list."""
        for lesson in progress.lessons():
            self.bars[lesson.id].value = lesson.passed
            self.bars[lesson.id].bar_style = (
                "success" if lesson.passed == len(lesson.exercises) else "info"
            )
            self.counts[
                lesson.id
            ].value = f"{lesson.passed}/{len(lesson.exercises)} · {lesson.title}"
            if lesson.id == self.lesson.value:
                self.details.value = _exercise_list(lesson)

    def text(self) -> str:
        """The bars as text: what a notebook run without a browser shows in the widget's place."""
        return "\n".join(f"Lesson {k}: {self.counts[k].value}" for k in self.bars)

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.box._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = self.text()
        return bundle


def _exercise_list(lesson: progress.LessonProgress) -> str:
    items = []
    for exercise in lesson.exercises:
        name = f"<code>{html.escape(exercise.id)}</code>"
        if exercise.passed:
            items.append(f"<li>✔ {name}: passed {html.escape(exercise.passed_at or '')}</li>")
        elif exercise.tried:
            items.append(f"<li>✘ {name}: tried, not passed yet</li>")
        else:
            items.append(f"<li>· {name}: not tried</li>")
    return f"<ul class='kc-progress'>{''.join(items)}</ul>"


def show(lesson_id: str | None = None) -> ProgressWidget:
    """Display the widget (and, as text, the same record for a headless run) and return it."""
    from IPython.display import display

    shown = ProgressWidget(lesson_id)
    display(shown)
    return shown
