"""Lesson 03's producer tuning knobs: turn ``linger_ms``, ``batch_size`` or the codec and that
setting is measured at once, as a new point among the ones measured before.

Each measurement is lesson 03's own ``run``: the same events, a fresh ``KafkaProducer`` with the
knobs' settings, a fresh one-partition topic (``{topic_prefix}-{widget}-{n}``), one flush, then
records/s from the producer's clock and the bytes stored from the broker's log directory
(``describe_log_dirs``), never from the client. A fourth control sets how the events arrive:
all at once, or one every millisecond. At full speed every batch fills before any linger runs
out, so ``linger_ms`` changes nothing; only a trickle shows what it is for.

The chart puts every measurement at x = KiB stored, y = records/s, labelled with its number in
the table below it (the latest in orange). Every change of a control measures (the sliders
report only where they are let go, so a drag is one measurement, not one per step passed);
"Measure again" repeats the current setting, to see how much records/s jitters.

Headless: ``knobs(course)`` measures the default setting (kafka-python's defaults, events at
full speed) before it displays the widget, so under nbclient or nbgrader the cell shows that
first point in the chart and its row as text, with no click. Tests set the controls'
``.value`` (each change measures, as a learner's turn does) and read ``history``,
``table.value`` and ``chart.value``. A failure (the broker down, most often) shows in
``status``, never on stderr.

Public API: ``TuningKnobs(bootstrap, topic_prefix, values)`` with ``.linger``, ``.batch_size``,
``.codec``, ``.pace``, ``.measure_button``, ``.status``, ``.chart``, ``.table``, ``.history``
(list of lesson 03's ``Run``), ``.settings`` (the ``Setting`` of each), ``.measure()``,
``.text()``; ``available_codecs()``; ``knobs(course, values=None)``.

Example:
    >>> from autograder.demos.widgets.tuning_knobs import knobs
    >>> tuning = knobs(course)             # shows the default setting's point at once
    >>> tuning.codec.value = "zstd"       # measured at once: a second point
"""

from __future__ import annotations

import base64
import html
import io
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped]
from kafka import codec as kafka_codecs
from matplotlib.figure import Figure

from autograder.demos.lesson03 import Run, event_values, run
from autograder.grading import kafka_io
from autograder.grading.quiet import grader_busy

LINGER_MS = (0, 5, 20, 50, 100)
BATCH_SIZES = (4096, 8192, 16384, 32768, 65536, 131072, 262144)
# How the events reach send(): the gap between two sends, in seconds.
PACES = {"all at once": 0.0, "one every 1 ms": 0.001}
DEFAULT_EVENTS = 400  # about 0.3 s a measurement at full speed, 0.9 s as a trickle
POINT, LATEST = "#4c72b0", "#dd8452"


def available_codecs() -> list[str]:
    """ "none" and each codec whose library kafka-python finds in this environment: it imports
    snappy, lz4 and zstd lazily, and a producer asked for one it cannot import refuses to start,
    so offering only these means every choice measures."""
    found = {
        "gzip": kafka_codecs.has_gzip(),
        "snappy": kafka_codecs.has_snappy(),
        "lz4": kafka_codecs.has_lz4(),
        "zstd": kafka_codecs.has_zstd(),
    }
    return ["none", *(name for name, present in found.items() if present)]


@dataclass(frozen=True)
class Setting:
    """One position of the knobs."""

    linger_ms: int
    batch_size: int
    codec: str
    pace: str

    def producer_settings(self) -> dict[str, Any]:
        return {
            "linger_ms": self.linger_ms,
            "batch_size": self.batch_size,
            "compression_type": None if self.codec == "none" else self.codec,
        }

    def label(self) -> str:
        return f"{self.codec}, {self.batch_size // 1024} KiB, linger {self.linger_ms} ms"


class TuningKnobs:
    """The knobs (``linger``, ``batch_size``, ``codec``, ``pace``), the ``measure_button``, and
    what the measurements show (``status``, ``chart``, ``table``); ``box`` is the widget."""

    def __init__(self, bootstrap: str, topic_prefix: str, values: list[bytes]) -> None:
        self.bootstrap = bootstrap
        # Each widget numbers its own topics; the token keeps a second widget (the cell run
        # again) off the first one's topics, which must stay fresh to measure only one run.
        self.topic_prefix = f"{topic_prefix}-{secrets.token_hex(3)}"
        self.values = values
        self.history: list[Run] = []
        self.settings: list[Setting] = []
        self.linger = widgets.SelectionSlider(
            options=[(f"{ms} ms", ms) for ms in LINGER_MS],
            value=0,
            description="linger_ms",
            continuous_update=False,  # one measurement where the slider is let go
        )
        self.batch_size = widgets.SelectionSlider(
            options=[(f"{size // 1024} KiB", size) for size in BATCH_SIZES],
            value=16384,
            description="batch_size",
            continuous_update=False,
        )
        self.codec = widgets.Dropdown(
            options=available_codecs(), value="none", description="compression"
        )
        self.pace = widgets.ToggleButtons(options=list(PACES), description="events")
        self.measure_button = widgets.Button(description="Measure again", icon="tachometer")
        self.status = widgets.HTML(
            f"<i>Turn a knob: each setting sends the same {len(values)} events with a fresh "
            "producer to a fresh topic.</i>"
        )
        self.chart = widgets.Image(format="png", value=self._render())
        self.table = widgets.HTML()
        self.measure_button.on_click(lambda _: self.measure())
        self._controls = (self.linger, self.batch_size, self.codec, self.pace, self.measure_button)
        for control in self._controls[:-1]:
            control.observe(lambda _: self.measure(), names="value")
        knobs = widgets.VBox([self.linger, self.batch_size, self.codec, self.pace])
        self.box = widgets.VBox(
            [knobs, self.measure_button, self.status, self.chart, self.table],
        )

    # ----- what the learner does ---------------------------------------------------------

    @property
    def setting(self) -> Setting:
        """The setting the knobs show now."""
        return Setting(self.linger.value, self.batch_size.value, self.codec.value, self.pace.value)

    def measure(self) -> Run | None:
        """Measure the knobs' setting, add it to the history and redraw; None if it failed
        (the reason is then in ``status``: a failure in a click handler would reach stderr)."""
        setting = self.setting
        for control in self._controls:  # greyed out while the broker is busy with this one
            control.disabled = True
        self.status.value = f"<i>Measuring {html.escape(setting.label())}…</i>"
        started = time.perf_counter()
        try:
            measured = self._run(setting)
        except Exception as error:  # the broker down, most often
            self.status.value = (
                f"<span style='color:#b00'>Could not measure: {html.escape(_error_text(error))}."
                " Is the broker up (<code>kafka-course broker up</code>)?</span>"
            )
            return None
        finally:
            for control in self._controls:
                control.disabled = False
        self.history.append(measured)
        self.settings.append(setting)
        self.status.value = (
            f"#{len(self.history)} {html.escape(setting.label())}: "
            f"{measured.records_per_s:,.0f} records/s, {measured.bytes_stored:,} bytes stored "
            f"(measured in {time.perf_counter() - started:.1f} s)."
        )
        self.chart.value = self._render()
        self.table.value = self._table_html()
        return measured

    def _run(self, setting: Setting) -> Run:
        topic = f"{self.topic_prefix}-{len(self.history) + 1}"
        with grader_busy():  # kafka-python's own messages would only repeat the status line
            kafka_io.create_topic(self.bootstrap, topic, 1)
            return run(
                self.bootstrap,
                topic,
                self.values,
                label=f"#{len(self.history) + 1}",
                gap_s=PACES[setting.pace],
                **setting.producer_settings(),
            )

    # ----- what it shows -----------------------------------------------------------------

    def _render(self) -> bytes:
        """The history as PNG bytes: one labelled point per measurement."""
        figure = Figure(figsize=(6.5, 3.2))
        figure.subplots_adjust(left=0.12, right=0.97, top=0.9, bottom=0.16)
        axes = figure.subplots()
        kib = [r.bytes_stored / 1024 for r in self.history]
        rates = [r.records_per_s for r in self.history]
        colours = [POINT] * (len(kib) - 1) + [LATEST] if kib else []
        axes.scatter(kib, rates, c=colours, s=40, zorder=2)
        for n, (x, y, setting) in enumerate(zip(kib, rates, self.settings, strict=True), start=1):
            axes.annotate(
                f"#{n} {setting.codec}",
                (x, y),
                xytext=(5, 4),
                textcoords="offset points",
                fontsize=8,
            )
        # From zero, so the distance between two points is their ratio, as the eye reads it.
        axes.set_xlim(0, max([*kib, 1.0]) * 1.15)
        axes.set_ylim(0, max([*rates, 1.0]) * 1.2)
        axes.grid(alpha=0.3)
        axes.set_xlabel("KiB stored on the broker (less is better)")
        axes.set_ylabel("records per second")
        axes.set_title(
            "Each measurement (the latest in orange)" if kib else "No measurement yet",
            fontsize=10,
        )
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=80)
        return buffer.getvalue()

    COLUMNS = (
        "#",
        "linger_ms",
        "batch_size",
        "compression",
        "events",
        "records/s",
        "requests",
        "batches",
        "bytes stored",
        "stored codec",
    )

    def rows(self) -> list[tuple[str, ...]]:
        """The table's rows as text, one per measurement, in the order of ``COLUMNS``."""
        return [
            (
                str(n),
                str(s.linger_ms),
                f"{s.batch_size // 1024} KiB",
                s.codec,
                s.pace,
                f"{r.records_per_s:,.0f}",
                str(r.requests),
                str(r.batches),
                f"{r.bytes_stored:,}",
                ", ".join(r.codecs),
            )
            for n, (s, r) in enumerate(zip(self.settings, self.history, strict=True), start=1)
        ]

    def _table_html(self) -> str:
        cell = "<{0} style='padding:2px 8px;text-align:right'>{1}</{0}>"
        head = "".join(cell.format("th", html.escape(c)) for c in self.COLUMNS)
        lines = [f"<table class='kc-tuning'><tr>{head}</tr>"]
        for row in self.rows():
            lines.append("<tr>" + "".join(cell.format("td", html.escape(c)) for c in row) + "</tr>")
        lines.append("</table>")
        return "".join(lines)

    def text(self) -> str:
        """The status and the table as text: what a run without a browser shows in its place."""
        lines = [html.unescape(_strip_tags(self.status.value))]
        table = [self.COLUMNS, *self.rows()]
        if len(table) > 1:
            widths = [max(len(row[i]) for row in table) for i in range(len(self.COLUMNS))]
            lines += [
                "  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in table
            ]
        return "\n".join(lines)

    def _repr_mimebundle_(self, **kwargs):
        # A front end with widgets shows the box; a saved notebook without widget state (the
        # headless runs') falls back to the chart as an image and the table as text.
        bundle = self.box._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = self.text()
        bundle["image/png"] = base64.b64encode(self.chart.value).decode("ascii")  # JSON-safe
        return bundle


def _error_text(error: Exception) -> str:
    """The error's class and the broker's own message, without kafka-python's request dump."""
    said = re.search(r"error_message=(['\"])(.*?)\1", str(error))
    return f"{type(error).__name__}: {said.group(2) if said else error}"


def _strip_tags(text: str) -> str:
    return re.sub(r"<[^>]+>", "", text)


def knobs(course, values: list[bytes] | None = None) -> TuningKnobs:
    """Display the knobs over this lesson run's topics with the default setting already
    measured (``values``: the lesson's events, 400 of them unless given); returns the widget
    (end the cell with ``;`` or an assignment, or it shows twice)."""
    from IPython.display import display

    shown = TuningKnobs(
        course.bootstrap, course.name("knobs"), values or event_values(DEFAULT_EVENTS)
    )
    shown.measure()  # before display: the output a headless run saves holds the first point
    display(shown)
    return shown
