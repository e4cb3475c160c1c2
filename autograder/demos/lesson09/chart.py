"""The assignment timeline as a chart: one row per member, one colour per partition, grey bands
where some partition had no owner (nobody consumed it), dashed lines at each action."""

from __future__ import annotations

from dataclasses import dataclass

from autograder.demos.lesson09.timeline import Interval, Partition, gaps

COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"]


@dataclass(frozen=True)
class Recording:
    """What a run left behind for the chart: ownership intervals, the demo's actions, the
    partitions, and the moment the run started."""

    spans: list[Interval]
    marks: list[tuple[float, str]]
    partitions: set[Partition]
    t0: float
    t1: float


def unowned(recording: Recording) -> list[tuple[float, float]]:
    """Stretches after the first full assignment when at least one partition had no owner."""
    spans = recording.spans
    starts = [
        min((s.start for s in spans if s.partition == p), default=None)
        for p in recording.partitions
    ]
    if not spans or None in starts:
        return []
    since = max(s for s in starts if s is not None)
    holes = sorted(h for p in recording.partitions for h in gaps(spans, p, since, recording.t1))
    merged: list[tuple[float, float]] = []
    for start, end in holes:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _merged(marks: list[tuple[float, str]]) -> list[tuple[float, str]]:
    """Actions less than 0.3 s apart share one line and one label."""
    merged: list[tuple[float, str]] = []
    for t, what in sorted(marks):
        if merged and t - merged[-1][0] < 0.3:
            merged[-1] = (merged[-1][0], merged[-1][1] + ", " + what)
        else:
            merged.append((t, what))
    return merged


def draw(recording: Recording, title: str = ""):
    """The chart (a matplotlib Figure)."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    members = sorted({s.member for s in recording.spans})
    order = sorted(recording.partitions)
    colour = {p: COLOURS[i % len(COLOURS)] for i, p in enumerate(order)}
    lanes = {p: i for i, p in enumerate(order)}
    figure, ax = plt.subplots(figsize=(9, 0.6 + 0.55 * max(len(members), 1)))
    height = 0.8 / max(len(order), 1)
    for span in recording.spans:
        row = members.index(span.member)
        y = row - 0.4 + lanes[span.partition] * height
        ax.broken_barh(
            [(span.start - recording.t0, span.end - span.start)],
            (y, height),
            color=colour[span.partition],
        )
    for start, end in unowned(recording):
        ax.axvspan(start - recording.t0, end - recording.t0, color="grey", alpha=0.25, lw=0)
    for t, what in _merged(recording.marks):
        ax.axvline(t - recording.t0, color="black", linestyle="--", linewidth=0.8)
        ax.text(t - recording.t0, -0.55, " " + what, fontsize=8, va="bottom")
    ax.set_yticks(range(len(members)), members)
    ax.set_ylim(len(members) - 0.5, -0.9)
    ax.set_xlim(0, recording.t1 - recording.t0)
    ax.set_xlabel("seconds")
    handles = [Patch(color=colour[p], label=f"p{p[1]}") for p in order]
    handles.append(Patch(color="grey", alpha=0.25, label="a partition unowned"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    ax.set_title(title, fontsize=10)
    figure.tight_layout()
    return figure
