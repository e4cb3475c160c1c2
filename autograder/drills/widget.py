"""The drills in JupyterLab: one question at a time, with ipywidgets.

Answer buttons (or a field for a number), the verdict, the model answer and the mistakes people
make, a "Prove it" button that runs the question's proof on the broker and shows its lines, its
table and its chart, a progress bar and a score. A fix question shows the clinic's broken
program; the learner defines the repaired function in a cell of their own and "Grade my fix" runs
the clinic exercise's check on it.

Nothing here waits for a click: displaying the widget shows the first question and returns, so
a headless run (nbclient, nbgrader) goes straight on. Tests drive it by setting ``answer`` and
calling ``.click()`` on its buttons, and read what it shows from the widgets' values.

Example:
    >>> from autograder.drills.widget import drill
    >>> drill(course.bootstrap, lesson="09")   # in a notebook cell
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped]

from autograder.drills import bank, session
from autograder.drills import proof as proofs
from autograder.drills.bank import Question
from autograder.drills.history import History
from autograder.drills.proof import Chart, Proof


def _user_namespace() -> Mapping[str, Any]:
    """Where the learner's repaired functions live: the kernel's namespace."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        shell = None
    if shell is not None:
        return shell.user_ns
    import __main__

    return vars(__main__)


def _inline(text: str) -> str:
    """Bank text as HTML: escaped, with `code` spans set as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def chart_png(chart: Chart) -> bytes:
    """The chart drawn with matplotlib (without a display), as PNG bytes."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 3), dpi=90)
    axes = figure.subplots()
    if chart.bars:
        axes.bar(list(chart.bars), list(chart.bars.values()), color="#4c72b0")
    for name, points in chart.series.items():
        axes.plot([x for x, _ in points], [y for _, y in points], marker="o", label=name)
    if chart.series:
        axes.legend()
    axes.set(title=chart.title, xlabel=chart.x_label, ylabel=chart.y_label)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def proof_html(shown: Proof) -> str:
    """A proof's lines and table as HTML (its chart goes into an image beside it)."""
    parts = ["<div><b>What the broker did:</b><ul>"]
    parts += [f"<li>{html.escape(line)}</li>" for line in shown.lines]
    parts.append("</ul>")
    if shown.table:
        columns = list(shown.table[0])
        parts.append(
            "<table><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in columns) + "</tr>"
        )
        for row in shown.table:
            cells = "".join(f"<td>{html.escape(str(row.get(c, '')))}</td>" for c in columns)
            parts.append(f"<tr>{cells}</tr>")
        parts.append("</table>")
    parts.append("</div>")
    return "".join(parts)


class DrillWidget:
    """A drill over ``questions``; ``box`` is the widget to display."""

    def __init__(
        self,
        questions: Sequence[Question],
        bootstrap: str,
        namespace: Mapping[str, Any] | None = None,
        history: History | None = None,
    ) -> None:
        if not questions:
            raise ValueError("no question to drill: choose another lesson or kind")
        self.questions = list(questions)
        self.bootstrap = bootstrap
        self._namespace = namespace
        self._history = history
        self.index = 0
        self.results: dict[str, bool] = {}

        self.header = widgets.HTML()
        self.text = widgets.HTML()
        # Options are listed in the question's text; long labels do not wrap on radio buttons.
        self.choices = widgets.ToggleButtons(options=[], value=None, description="Answer")
        self.number = widgets.Text(placeholder="a number", layout={"width": "12em"})
        self.program = widgets.HTML()
        self.check = widgets.Button(description="Check", button_style="primary")
        self.prove = widgets.Button(description="Prove it", icon="flask")
        self.next = widgets.Button(description="Next", icon="arrow-right")
        self.verdict = widgets.HTML()
        self.explanation = widgets.HTML()
        self.proof = widgets.HTML()
        self.chart = widgets.Image(format="png", layout={"display": "none"})
        self.progress = widgets.IntProgress(min=0, max=len(self.questions), description="Done")
        self.score = widgets.HTML()
        self.check.on_click(lambda _: self._check())
        self.prove.on_click(lambda _: self._prove())
        self.next.on_click(lambda _: self.go(self.index + 1))
        self.box = widgets.VBox(
            [
                self.header,
                self.text,
                self.choices,
                self.number,
                self.program,
                widgets.HBox([self.check, self.prove, self.next]),
                self.verdict,
                self.explanation,
                self.proof,
                self.chart,
                widgets.HBox([self.progress, self.score]),
            ]
        )
        self.go(0)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.box)

    # ----- what the learner does ---------------------------------------------------------

    @property
    def question(self) -> Question:
        return self.questions[self.index]

    def go(self, index: int) -> None:
        """Show question ``index`` (wrapping round at the end), with its answer cleared."""
        self.index = index % len(self.questions)
        q = self.question
        self.header.value = (
            f"<b>Question {self.index + 1}/{len(self.questions)}</b> · {html.escape(q.topic)} · "
            f"{q.difficulty} · {q.kind}"
        )
        options = "".join(f"<li>{_inline(o)}</li>" for o in q.options)
        self.text.value = f"<p>{_inline(q.question)}</p>" + (
            f"<ol>{options}</ol>" if options else ""
        )
        self.choices.options = [str(n + 1) for n in range(len(q.options))]
        self.choices.value = None
        self.choices.layout.display = "flex" if q.options else "none"
        self.number.value = ""
        self.number.layout.display = "none" if q.options or q.kind == "fix" else "flex"
        self.program.value = self._program_html(q) if q.kind == "fix" else ""
        self.check.description = {"predict": "Predict", "fix": "Grade my fix"}.get(q.kind, "Check")
        self.prove.disabled = not q.proof
        self.prove.layout.display = "none" if q.kind == "fix" else "flex"
        for shown in (self.verdict, self.explanation, self.proof):
            shown.value = ""
        self.chart.layout.display = "none"

    def answer(self, value: int | float | str) -> None:
        """Set the answer as a learner would: an option's index, or the number's text."""
        if self.question.options:
            self.choices.index = int(value)
        else:
            self.number.value = str(value)

    def _given(self) -> tuple[int | float | None, str | None]:
        q = self.question
        if q.options:
            if self.choices.index is None:
                return None, "Pick one of the options first."
            return self.choices.index, None
        return session.parse(q, self.number.value)

    def _check(self) -> None:
        q = self.question
        if q.kind == "fix":
            self._grade_fix()
            return
        value, problem = self._given()
        if problem is not None or value is None:
            self.verdict.value = f"<span style='color:#b00'>✘ {html.escape(str(problem))}</span>"
            return
        right = q.is_right(value)
        self._record(q, right)
        if right:
            self.verdict.value = "<span style='color:#070'><b>✔ Right.</b></span>"
        else:
            self.verdict.value = (
                "<span style='color:#b00'><b>✘ Not quite.</b></span> The answer is "
                f"<b>{_inline(q.correct_text.rstrip('.'))}</b>."
            )
        self._explain(q)
        if q.kind == "predict":
            self._prove()

    def _grade_fix(self) -> None:
        q = self.question
        name = session.fix_exercise(q).function
        function = self.namespace.get(name)
        if not callable(function):
            self.verdict.value = (
                f"<span style='color:#b00'>✘ No function <code>{name}</code> yet: define your "
                "repaired program in a cell below, run that cell, then click again.</span>"
            )
            return
        self.verdict.value = "<i>Grading your repair on the broker…</i>"
        result = session.grade_fix(q, function, self.bootstrap)
        self._record(q, result.passed)
        self.verdict.value = result._repr_html_()
        if result.passed:
            self._explain(q)

    def _prove(self) -> None:
        q = self.question
        if not q.proof:
            return
        self.proof.value = "<i>Running the experiment on the broker…</i>"
        try:
            shown = proofs.run(q.proof, self.bootstrap)
        except Exception as error:  # the broker down, most often
            self.proof.value = (
                f"<span style='color:#b00'>The proof could not run: {html.escape(str(error))}. "
                "Is the broker up (<code>kafka-course broker up</code>)?</span>"
            )
            return
        self.proof.value = proof_html(shown)
        if shown.chart is not None:
            self.chart.value = chart_png(shown.chart)
            self.chart.layout.display = "flex"

    # ----- helpers -----------------------------------------------------------------------

    @property
    def namespace(self) -> Mapping[str, Any]:
        return self._namespace if self._namespace is not None else _user_namespace()

    @property
    def history(self) -> History:
        if self._history is None:
            self._history = History()
        return self._history

    def _program_html(self, q: Question) -> str:
        exercise = session.fix_exercise(q)
        code = html.escape(session.broken_program(q))
        return (
            f"<pre style='font-size:85%'>{code}</pre><p>Copy it into a cell below, repair it, "
            f"run that cell, then click <b>Grade my fix</b>: the check of "
            f"<code>{exercise.id}</code> runs your <code>{exercise.function}</code> on the "
            "broker.</p>"
        )

    def _explain(self, q: Question) -> None:
        mistakes = "".join(f"<li>{_inline(m)}</li>" for m in q.mistakes)
        self.explanation.value = (
            f"<p><b>Model answer.</b> {_inline(q.model_answer)}</p>"
            f"<p><b>Mistakes people make:</b></p><ul>{mistakes}</ul>"
        )

    def _record(self, q: Question, right: bool) -> None:
        self.results[q.id] = right
        self.progress.value = len(self.results)
        self.score.value = f"&nbsp;Score <b>{sum(self.results.values())}/{len(self.results)}</b>"
        try:
            self.history.record(q.id, q.lesson, right)
        except OSError:
            pass  # the history is a convenience: a read-only folder must not break a drill


def drill(
    bootstrap: str, lesson: str | None = None, kind: str | None = None, **options: Any
) -> DrillWidget:
    """A drill widget over the bank's questions of ``lesson`` and ``kind`` (default: all)."""
    return DrillWidget(bank.select(lesson, kind), bootstrap, **options)
