"""bench/rebalance_pause.py runs to the end on the real broker and prints its JSON line last."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from autograder.grading.paths import REPO_ROOT

pytestmark = pytest.mark.timeout(180)

EVENTS = {
    "eager": {"join", "leave"},
    "cooperative": {"join", "leave"},
    "static_restart": {"restart"},
    "consumer_protocol": {"join", "leave"},
}


def test_the_rebalance_benchmark_prints_a_pause_for_every_protocol_and_event(bootstrap):
    env = dict(os.environ, KAFKA_BOOTSTRAP_SERVERS=bootstrap)
    done = subprocess.run(
        [sys.executable, "bench/rebalance_pause.py", "--quick"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=170,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    summary = json.loads(lines[-1])
    assert list(summary) == ["rebalance_pause_ms", "runs", "by_event_ms"] and summary["runs"] == 1
    assert set(summary["rebalance_pause_ms"]) == set(EVENTS)
    assert all(isinstance(ms, int) and ms > 0 for ms in summary["rebalance_pause_ms"].values())
    pauses = summary["by_event_ms"]
    assert {arm: set(events) for arm, events in pauses.items()} == EVENTS
    for arm, events in pauses.items():
        for event, pause in events.items():
            # Measured from the members' own receptions: never zero (the stream's interval is
            # the floor), never absent (a run that did not settle would leave null here).
            assert isinstance(pause, int) and pause > 0, (arm, event, lines)
    # The table above the JSON line names every arm.
    table = "\n".join(lines[:-1])
    assert all(arm in table for arm in EVENTS)
