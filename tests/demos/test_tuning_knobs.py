"""Lesson 03's tuning knobs on the real broker, driven as a learner drives them: turn the knobs
(each turn measures), read the history, the table and the chart the widget shows. What each setting
must do (a codec shrinks the stored bytes, linger gathers a trickle into fewer requests) is
asserted from the broker's figures, not from the settings."""

from __future__ import annotations

import base64
from html.parser import HTMLParser

from autograder.demos.lesson03 import event_values
from autograder.demos.widgets.tuning_knobs import TuningKnobs, available_codecs, knobs
from autograder.notebook.lesson import Lesson

LESSON = "03"
VALUES = event_values(300)


class _Table(HTMLParser):
    """The displayed table as a list of {column: cell}."""

    def __init__(self, markup: str) -> None:
        super().__init__()
        self.head: list[str] = []
        self.rows: list[dict[str, str]] = []
        self._cells: list[str] | None = None
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self._cells = []
        elif tag in ("td", "th") and self._cells is not None:
            self._cells.append("")

    def handle_data(self, data):
        if self._cells:
            self._cells[-1] += data

    def handle_endtag(self, tag):
        if tag == "tr" and self._cells is not None:
            if self.head:
                self.rows.append(dict(zip(self.head, self._cells, strict=True)))
            else:
                self.head = self._cells
            self._cells = None


def shown(tuning: TuningKnobs) -> list[dict[str, str]]:
    return _Table(tuning.table.value).rows


def test_turning_the_codec_adds_a_point_that_stores_the_events_in_fewer_bytes(bootstrap, namespace):
    tuning = TuningKnobs(bootstrap, namespace.topic("knobs"), VALUES)
    empty_chart = tuning.chart.value
    tuning.measure_button.click()  # the knobs as they open: no compression
    first_chart = tuning.chart.value
    tuning.codec.value = "gzip"  # the turn alone measures

    none, gzip = tuning.history
    rows = shown(tuning)
    assert [(r["compression"], r["batch_size"], r["stored codec"]) for r in rows] == [
        ("none", "16 KiB", "none"),
        ("gzip", "16 KiB", "gzip"),
    ]
    # The events repeat their field names and values: gzip stores them in under a third.
    assert gzip.bytes_stored * 3 < none.bytes_stored
    assert [r["bytes stored"] for r in rows] == [f"{none.bytes_stored:,}", f"{gzip.bytes_stored:,}"]
    assert all(r.records == len(VALUES) and r.records_per_s > 0 for r in tuning.history)
    assert len({empty_chart, first_chart, tuning.chart.value}) == 3  # redrawn at every turn
    assert "#2 gzip, 16 KiB" in tuning.status.value


def test_a_slider_moved_measures_once_where_it_is_let_go(bootstrap, namespace):
    tuning = TuningKnobs(bootstrap, namespace.topic("knobs"), VALUES[:50])
    assert not tuning.batch_size.continuous_update  # the front end reports only the release
    tuning.batch_size.value = 65536
    [measured] = tuning.history
    assert [r["batch_size"] for r in shown(tuning)] == ["64 KiB"] and measured.records == 50


def test_linger_gathers_events_that_trickle_in_into_fewer_requests(bootstrap, namespace):
    tuning = TuningKnobs(bootstrap, namespace.topic("knobs"), VALUES[:150])
    tuning.pace.value = "one every 1 ms"  # measured with linger_ms=0
    tuning.linger.value = 50
    eager, lingering = tuning.history
    # 150 events over ~0.2 s: a 50 ms linger closes a batch only every 50 ms or so.
    assert lingering.requests * 3 < eager.requests
    assert [r["linger_ms"] for r in shown(tuning)] == ["0", "50"]


def test_every_codec_offered_is_one_the_broker_then_stores(bootstrap, namespace):
    tuning = TuningKnobs(bootstrap, namespace.topic("knobs"), VALUES[:50])
    offered = list(tuning.codec.options)
    assert offered == available_codecs() and offered[0] == "none" and "gzip" in offered
    tuning.measure_button.click()  # "none", as the knobs open
    for codec in offered[1:]:
        tuning.codec.value = codec
    assert [r["stored codec"] for r in shown(tuning)] == offered


def test_the_notebook_helper_shows_the_default_setting_measured_without_a_click(bootstrap):
    tuning = knobs(Lesson(LESSON, bootstrap))  # what the notebook cell runs
    [default] = tuning.history
    assert tuning.setting.producer_settings() == {
        "linger_ms": 0,
        "batch_size": 16384,
        "compression_type": None,
    }
    assert default.codecs == ("none",) and default.bytes_stored > 0
    bundle = tuning._repr_mimebundle_()  # what a run without a browser saves
    assert base64.b64decode(bundle["image/png"]) == tuning.chart.value
    assert f"{default.bytes_stored:,}" in bundle["text/plain"]
    assert len(shown(tuning)) == 1


def test_a_failed_measurement_is_shown_in_the_widget_not_raised(bootstrap, capfd):
    # The broker refuses a topic whose name has a space: a real error, and a quick one.
    tuning = TuningKnobs(bootstrap, "no spaces allowed", VALUES[:10])
    tuning.measure_button.click()
    assert "Could not measure" in tuning.status.value
    assert tuning.history == [] and not tuning.measure_button.disabled
    assert capfd.readouterr().err == ""
