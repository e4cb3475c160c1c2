"""Lesson 02's partition explorer: where each key lands for a chosen partition count, and
which keys move when the count changes.

A slider picks the partition count (1 to 12) and a box takes comma-separated keys. For each
key the table shows the partition kafka-python's default partitioner computes (its own
``murmur2``, masked and taken modulo the count), the partition the broker stored it in after a
real send, and whether it moved against the count shown before. Partition counts can only
grow, so every count has its own topic (``{topic_prefix}-p{count}``), created the first time it
is needed and kept; each key is sent to a count's topic once and its placement cached.

Displaying it renders the default at once (no click), so a headless run (nbclient, nbgrader)
shows the default table, also as plain text. Tests drive it by setting ``slider.value`` and
``keys_box.value`` and reading ``table.value`` and ``summary.value``.

Public API: ``PartitionExplorer(bootstrap, topic_prefix, keys, partitions=3, previous=None)``
with ``.slider``, ``.keys_box``, ``.table``, ``.summary``, ``.refresh()``, ``.text()``, ``.rows``;
``computed_partition(key, count)``; ``explore(course, keys, partitions=3, previous=None)``.

Example:
    >>> from autograder.demos.widgets.partition_explorer import explore
    >>> explore(course, keys=["alice", "bob", "chen"], partitions=4, previous=3)
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped]
from kafka.partitioner.default import murmur2

from autograder.demos.lesson02 import broker_placement
from autograder.grading import kafka_io
from autograder.grading.quiet import silence_kafka_logs

MAX_PARTITIONS = 12
MOVED_STYLE = "background:#fff3b0"


def computed_partition(key: str, count: int) -> int:
    """The partition kafka-python's DefaultPartitioner picks for a UTF-8 string key."""
    return (murmur2(key.encode("utf-8")) & 0x7FFFFFFF) % count


def parse_keys(text: str) -> list[str]:
    """Comma-separated keys, stripped, blanks and repeats dropped, in the order given."""
    return list(dict.fromkeys(k.strip() for k in text.split(",") if k.strip()))


@dataclass(frozen=True)
class Row:
    """One key's line of the table; ``before`` is where the broker put it at the earlier count."""

    key: str
    computed: int
    landed: int
    before: int | None

    @property
    def moved(self) -> bool:
        return self.before is not None and self.before != self.landed


class PartitionExplorer:
    """The explorer's controls (``slider``, ``keys_box``), its output (``table``, ``summary``)
    and its box. ``previous`` is the count the first table compares with (None: nothing)."""

    def __init__(
        self,
        bootstrap: str,
        topic_prefix: str,
        keys: list[str],
        partitions: int = 3,
        previous: int | None = None,
    ) -> None:
        self.bootstrap = bootstrap
        self.topic_prefix = topic_prefix
        self._landed: dict[int, dict[str, int]] = {}  # count -> {key: partition on the broker}
        self.compared_with = previous
        self.rows: list[Row] = []
        self.slider = widgets.IntSlider(
            value=partitions,
            min=1,
            max=MAX_PARTITIONS,
            description="Partitions",
            continuous_update=False,  # one send per release, not one per step of a drag
        )
        self.keys_box = widgets.Text(
            value=", ".join(keys),
            description="Keys",
            placeholder="comma-separated keys",
            continuous_update=False,
            layout=widgets.Layout(width="40em"),
        )
        self.summary = widgets.HTML()
        self.table = widgets.HTML()
        self.slider.observe(self._count_changed, names="value")
        self.keys_box.observe(self._keys_changed, names="value")
        self.box = widgets.VBox([self.slider, self.keys_box, self.summary, self.table])
        self.refresh()

    # ----- what the learner changes ------------------------------------------------------

    def _count_changed(self, change: dict[str, Any]) -> None:
        self.compared_with = change["old"]
        self._safely(self.refresh)

    def _keys_changed(self, _change: dict[str, Any]) -> None:
        self._safely(self.refresh)

    def _safely(self, action) -> None:
        """Run a handler's work; a failure is shown in the widget, never raised (a raised
        error in a widget callback lands on stderr, or nowhere visible)."""
        try:
            action()
        except Exception as error:  # the broker down, most often
            self.summary.value = (
                f"<span style='color:#b00'>Could not place the keys: "
                f"{html.escape(_error_text(error))}. Is the broker up "
                "(<code>kafka-course broker up</code>)?</span>"
            )
            self.table.value = ""

    # ----- what it shows -----------------------------------------------------------------

    def refresh(self) -> None:
        """Place the keys at the slider's count (sending those not yet sent) and redraw."""
        keys = parse_keys(self.keys_box.value)
        count = self.slider.value
        if not keys:
            self.rows = []
            self.summary.value = "<i>No key given: type some keys, separated by commas.</i>"
            self.table.value = ""
            return
        landed = self._placed(count, keys)
        earlier = self.compared_with if self.compared_with not in (None, count) else None
        before = self._placed(earlier, keys) if earlier is not None else {}
        self.rows = [
            Row(key, computed_partition(key, count), landed[key], before.get(key)) for key in keys
        ]
        self.summary.value = html.escape(self._summary_text(count, earlier))
        self.table.value = self._table_html(earlier)

    def _placed(self, count: int, keys: list[str]) -> dict[str, int]:
        """{key: partition} as the broker stores them in the topic of ``count`` partitions."""
        known = self._landed.setdefault(count, {})
        missing = [key for key in keys if key not in known]
        if missing:
            known.update(broker_placement(self.bootstrap, self._topic(count), missing))
        return {key: known[key] for key in keys}

    def _topic(self, count: int) -> str:
        name = f"{self.topic_prefix}-p{count}"
        if kafka_io.describe_topic(self.bootstrap, name) is None:
            kafka_io.create_topic(self.bootstrap, name, count)
        return name

    @property
    def moved(self) -> list[str]:
        return [row.key for row in self.rows if row.moved]

    def _summary_text(self, count: int, earlier: int | None) -> str:
        mismatched = sum(row.computed != row.landed for row in self.rows)
        agree = (
            "computed and broker agree on every key"
            if not mismatched
            else f"computed and broker disagree on {mismatched} key(s)"
        )
        if earlier is None:
            return (
                f"{len(self.rows)} keys over {count} partitions; {agree}. "
                "Move the slider to see which keys move."
            )
        return (
            f"{len(self.moved)} of {len(self.rows)} keys moved going from {earlier} to {count} "
            f"partitions; {agree}."
        )

    def _table_html(self, earlier: int | None) -> str:
        moved_heading = f"moved (vs {earlier})" if earlier is not None else "moved"
        head = "".join(
            f"<th style='padding:2px 10px'>{html.escape(h)}</th>"
            for h in ("key", "computed", "landed (broker)", moved_heading)
        )
        lines = [f"<table class='kc-partitions'><tr>{head}</tr>"]
        for row in self.rows:
            style = f" style='{MOVED_STYLE}'" if row.moved else ""
            cells = "".join(
                f"<td style='padding:2px 10px'>{html.escape(str(c))}</td>"
                for c in (row.key, row.computed, row.landed, _moved_cell(row))
            )
            lines.append(f"<tr class='{'moved' if row.moved else 'stayed'}'{style}>{cells}</tr>")
        lines.append("</table>")
        return "".join(lines)

    def text(self) -> str:
        """The summary and table as text: what a run without a browser shows in its place."""
        if not self.rows:
            return html.unescape(_strip_tags(self.summary.value))
        width = max(len("key"), *(len(row.key) for row in self.rows))
        lines = [
            html.unescape(_strip_tags(self.summary.value)),
            f"{'key':<{width}}  computed  landed (broker)  moved",
        ]
        for row in self.rows:
            lines.append(
                f"{row.key:<{width}}  {row.computed:>8}  {row.landed:>15}  {_moved_cell(row)}"
            )
        return "\n".join(lines)

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.box._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = self.text()
        return bundle


def _moved_cell(row: Row) -> str:
    if row.before is None:
        return "–"
    return f"{row.before} → {row.landed}" if row.moved else "no"


def _error_text(error: Exception) -> str:
    """The error's class and the broker's own message, without kafka-python's request dump."""
    said = re.search(r"error_message=(['\"])(.*?)\1", str(error))
    return f"{type(error).__name__}: {said.group(2) if said else error}"


def _strip_tags(text: str) -> str:
    return re.sub(r"<[^>]+>", "", text)


def explore(
    course, keys: list[str], partitions: int = 3, previous: int | None = None
) -> PartitionExplorer:
    """Display an explorer over this lesson run's topics, its default table already drawn;
    returns it (so end the cell with a ``;`` or an assignment, or it shows twice)."""
    from IPython.display import display

    silence_kafka_logs()
    shown = PartitionExplorer(course.bootstrap, course.name("explorer"), keys, partitions, previous)
    display(shown)
    return shown
