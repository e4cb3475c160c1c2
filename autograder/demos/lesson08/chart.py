"""A lag chart redrawn in place in the notebook while the race runs.

It is a PNG re-rendered at each sample and swapped into one display slot (IPython's
``display_id``), so it needs no interactive widget backend and also works when the notebook is
executed without a browser (nbgrader): the last picture simply stays in the output.
``lag_chart_png(samples, marks)`` is the drawing itself, shared with the lag controls widget
(autograder/demos/widgets/lag_controls.py).
"""

from __future__ import annotations

import io
import time
from collections.abc import Sequence

from matplotlib.figure import Figure

from autograder.demos.lesson08.race import Sample

COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
MIN_REDRAW_S = 0.9


def lag_chart_png(
    samples: Sequence[Sample], marks: Sequence[tuple[float, str]] = (), max_s: float = 13.0
) -> bytes:
    """Each partition's lag and the total over time, as PNG bytes, with a dashed line and a
    label at each ``(t, label)`` of ``marks`` (a consumer joining, say). The x axis spans at
    least ``max_s`` seconds, and widens rather than let a longer run leave the chart."""
    figure = Figure(figsize=(7.5, 3.2))
    figure.subplots_adjust(left=0.08, right=0.98, top=0.9, bottom=0.16)  # cheaper than tight
    axes = figure.subplots()
    times = [s.t for s in samples]
    partitions = sorted({p for s in samples for p in s.lags})
    for colour, partition in zip(COLOURS, partitions, strict=False):
        axes.plot(
            times,
            [s.lags.get(partition, 0) for s in samples],
            color=colour,
            label=f"partition {partition}",
        )
    axes.plot(times, [s.total for s in samples], color="black", linewidth=2, label="total lag")
    for n, (at, label) in enumerate(marks):
        axes.axvline(at, color="grey", linestyle="--", linewidth=1)
        axes.annotate(
            label,
            (at, 1),
            xycoords=("data", "axes fraction"),
            xytext=(4, -12 - 11 * (n % 3)),  # staggered: close marks do not overprint
            textcoords="offset points",
            fontsize=8,
            color="dimgrey",
        )
    axes.set_xlim(0, max([max_s, *(t + 0.5 for t in times)]))
    axes.set_ylim(bottom=0)
    axes.set_xlabel("seconds since the producer started")
    axes.set_ylabel("lag (records)")
    axes.set_title("Lag of the group, read through the admin API", fontsize=10)
    axes.legend(loc="upper right", fontsize=8)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=72)
    return buffer.getvalue()


class LiveLagChart:
    """Call ``update(result)`` with a RaceResult as often as it changes."""

    def __init__(self, topic: str, max_s: float = 13.0) -> None:
        from IPython.display import display

        self.topic = topic
        self.max_s = max_s
        self._drawn_at = float("-inf")
        self._cost_s = 0.0
        self._handle = display(
            {"text/plain": "waiting for the first sample…"}, raw=True, display_id=True
        )

    def render(self, result) -> bytes:
        """The chart of ``result`` as PNG bytes."""
        marks = []
        if result.second_started_at is not None:
            marks.append((result.second_started_at, "second consumer starts"))
        return lag_chart_png(result.samples, marks, self.max_s)

    def update(self, result) -> None:
        """Redraw, unless the last drawing was so recent that drawing again would take CPU
        time from the consumers being watched (the finished race is always drawn)."""
        from IPython.display import Image

        now = time.monotonic()
        if not result.finished and now - self._drawn_at < max(MIN_REDRAW_S, 3 * self._cost_s):
            return
        picture = self.render(result)
        self._drawn_at = time.monotonic()
        self._cost_s = self._drawn_at - now
        self._handle.update(Image(data=picture))
