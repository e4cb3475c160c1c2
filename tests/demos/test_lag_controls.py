"""Lesson 08's lag controls on the shared broker: driven through their buttons and slider, and
judged by what the broker says about the group, not only by what the widget shows."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from autograder.cli.group_admin import GroupAdmin, UnknownGroup
from autograder.demos.widgets.lag_controls import LagControls, lag_controls
from autograder.grading import kafka_io
from autograder.notebook.lesson import Lesson

LESSON = "08"
PARTITIONS = 4


def _eventually(condition: Callable[[], bool], deadline_s: float, what: str) -> None:
    stop_at = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > stop_at:
            raise AssertionError(f"{what} within {deadline_s:.0f} s")
        time.sleep(0.2)


def _client_ids(bootstrap: str, group: str) -> list[str]:
    """The group's members as its coordinator knows them (none for a group it forgot)."""
    with GroupAdmin(bootstrap) as groups:
        try:
            return sorted(m.client_id for m in groups.describe(group).members)
        except UnknownGroup:
            return []


@pytest.fixture
def make_controls(bootstrap, namespace):
    made: list[LagControls] = []

    def make(name: str, **options) -> LagControls:
        topic = namespace.topic(name)
        kafka_io.create_topic(bootstrap, topic, PARTITIONS)
        made.append(LagControls(bootstrap, topic, namespace.group(name), PARTITIONS, **options))
        return made[-1]

    yield make
    for controls in made:
        controls.stop()  # a failed assertion must not leave members in a group


def test_one_consumer_falls_behind_three_catch_up_and_stop_empties_the_group(
    make_controls, bootstrap
):
    controls = make_controls("lag-controls")
    blank_chart = bytes(controls.chart.value)
    controls.consumers.value = 1
    controls.start_button.click()
    assert controls.running and controls.start_button.disabled

    def behind() -> bool:
        alone = [s for s in controls.samples if s.members == 1]
        return len(alone) >= 2 and alone[-1].total >= alone[0].total + 30

    _eventually(behind, 10, "one consumer's lag did not grow by 30 records")
    assert _client_ids(bootstrap, controls.group) == ["lag-consumer-1"]

    controls.consumers.value = 3  # what letting go of the slider does: two members join
    _eventually(
        lambda: (
            _client_ids(bootstrap, controls.group)
            == ["lag-consumer-1", "lag-consumer-2", "lag-consumer-3"]
        ),
        15,
        "the group did not get three members",
    )
    peak = max(s.total for s in controls.samples)
    _eventually(
        lambda: controls.samples[-1].members == 3 and controls.samples[-1].total < peak / 2,
        12,
        f"three consumers did not halve the lag from {peak}",
    )
    assert "3 member(s) in the group (3 asked)" in controls.status.value

    controls.stop_button.click()
    assert not controls.running and controls.threads_alive() == 0
    assert _client_ids(bootstrap, controls.group) == []  # every member left the group on close
    assert "members left in the group: 0" in controls.status.value
    chart = bytes(controls.chart.value)
    assert chart != blank_chart and chart.startswith(b"\x89PNG")  # the run drawn over the blank
    assert [label for _, label in controls.marks] == ["1 consumer", "3 consumers"]
    assert controls.errors == []


def test_a_run_nobody_stops_stops_itself_at_its_deadline(make_controls, bootstrap):
    controls = make_controls("lag-deadline", max_run_s=2.5)
    controls.start()
    _eventually(lambda: not controls.running, 15, "the run did not stop itself")
    assert any(s.members == 1 for s in controls.samples)  # the broker had the member in
    assert controls.samples[-1].t < 2.5 + 0.5  # no sample after the deadline
    assert controls.threads_alive() == 0 and not controls.start_button.disabled
    assert _client_ids(bootstrap, controls.group) == []


def test_the_default_run_shows_one_consumer_then_two_without_a_click(bootstrap):
    began = time.monotonic()
    controls = lag_controls(Lesson(LESSON, bootstrap))  # what the notebook cell runs
    took = time.monotonic() - began
    try:
        assert not controls.running and controls.threads_alive() == 0
        assert [label for _, label in controls.marks] == ["1 consumer", "2 consumers"]
        seen = [s.members for s in controls.samples]
        assert 1 in seen and seen[-1] == 2  # both counts, as the broker reported the group
        assert controls.members_after == 0 and _client_ids(bootstrap, controls.group) == []
        assert controls.text().startswith("Stopped after 5 s: peak lag ")
        assert took < 9, f"the default run took {took:.1f} s"
    finally:
        controls.stop()
