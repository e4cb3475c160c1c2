"""Lesson 02's partition explorer on the real broker, driven as a learner drives it: set the
slider and the keys box, then read the table and the summary it displays. The expected
partitions come from kafka-python's murmur2, computed here independently of the widget."""

from __future__ import annotations

from html.parser import HTMLParser

from kafka.partitioner import murmur2

from autograder.demos.widgets.partition_explorer import PartitionExplorer, explore
from autograder.notebook.lesson import Lesson

LESSON = "02"
KEYS = ["alice", "bob", "chen", "dana", "emeka", "farah", "gita", "hiro"]


def expected(key: str, partitions: int) -> int:
    return (murmur2(key.encode("utf-8")) & 0x7FFFFFFF) % partitions


class _Table(HTMLParser):
    """The rows of the displayed table: {key: (cells, highlighted)}."""

    def __init__(self, markup: str) -> None:
        super().__init__()
        self.rows: dict[str, tuple[list[str], bool]] = {}
        self._cells: list[str] | None = None
        self._highlighted = False
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self._cells, self._highlighted = [], "background" in (dict(attrs).get("style") or "")
        elif tag == "td" and self._cells is not None:
            self._cells.append("")

    def handle_data(self, data):
        if self._cells:
            self._cells[-1] += data

    def handle_endtag(self, tag):
        if tag == "tr" and self._cells:  # the header row has no <td>
            self.rows[self._cells[0]] = (self._cells[1:], self._highlighted)
        if tag == "tr":
            self._cells = None


def shown(explorer: PartitionExplorer) -> dict[str, tuple[list[str], bool]]:
    return _Table(explorer.table.value).rows


def test_every_key_lands_where_murmur2_puts_it_at_each_count(bootstrap, namespace):
    explorer = PartitionExplorer(bootstrap, namespace.topic("explorer"), KEYS, partitions=3)
    for count in (3, 5, 6):
        explorer.slider.value = count
        rows = shown(explorer)
        assert list(rows) == KEYS
        for key, ([computed, landed, _moved], _) in rows.items():
            assert int(computed) == int(landed) == expected(key, count), key
    # The mask shows: at six partitions, murmur2 % 6 without it is wrong for some key.
    assert any(murmur2(key.encode()) % 6 != int(rows[key][0][1]) for key in KEYS)


def test_the_highlighted_keys_are_those_whose_partition_changed_with_the_count(
    bootstrap, namespace
):
    explorer = PartitionExplorer(bootstrap, namespace.topic("explorer"), KEYS, partitions=3)
    explorer.slider.value = 6
    should_move = {key for key in KEYS if expected(key, 3) != expected(key, 6)}
    assert should_move and should_move != set(KEYS)  # some move, some stay: both must show
    rows = shown(explorer)
    assert {key for key, (_, highlighted) in rows.items() if highlighted} == should_move
    for key in should_move:
        assert rows[key][0][2] == f"{expected(key, 3)} → {expected(key, 6)}"
    assert f"{len(should_move)} of {len(KEYS)} keys moved going from 3 to 6 partitions" in (
        explorer.summary.value
    )


def test_keys_typed_in_the_box_replace_the_table_and_are_compared_too(bootstrap, namespace):
    explorer = PartitionExplorer(bootstrap, namespace.topic("explorer"), KEYS, partitions=6)
    explorer.slider.value = 4
    explorer.keys_box.value = "order-1, order-2,, order-3 , order-1"
    rows = shown(explorer)
    assert list(rows) == ["order-1", "order-2", "order-3"]
    for key, ([computed, landed, _], highlighted) in rows.items():
        assert int(computed) == int(landed) == expected(key, 4)
        assert highlighted == (expected(key, 6) != expected(key, 4))


def test_an_empty_key_box_shows_a_message_instead_of_raising(bootstrap, namespace):
    explorer = PartitionExplorer(bootstrap, namespace.topic("explorer"), KEYS, partitions=2)
    explorer.keys_box.value = " , "
    assert "No key given" in explorer.summary.value and explorer.table.value == ""
    explorer.keys_box.value = "alice"
    assert list(shown(explorer)) == ["alice"]


def test_the_notebook_helper_shows_the_default_table_with_no_interaction(bootstrap):
    explorer = explore(Lesson(LESSON, bootstrap), keys=KEYS, partitions=6, previous=3)
    rows = shown(explorer)
    assert list(rows) == KEYS
    assert {key for key, (_, highlighted) in rows.items() if highlighted} == {
        key for key in KEYS if expected(key, 3) != expected(key, 6)
    }
    text = explorer._repr_mimebundle_()["text/plain"]  # what a run without a browser shows
    assert "going from 3 to 6 partitions" in text and all(key in text for key in KEYS)


def test_a_failure_in_a_handler_is_shown_in_the_widget_not_raised(bootstrap, capfd):
    # The broker refuses to create a topic whose name has a space: a real error, and a quick one.
    explorer = PartitionExplorer(bootstrap, "no spaces allowed", [], partitions=2)
    explorer.keys_box.value = "alice, bob"
    assert "Could not place the keys" in explorer.summary.value
    assert explorer.table.value == ""
    assert capfd.readouterr().err == ""
