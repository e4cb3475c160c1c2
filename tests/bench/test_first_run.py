"""bench/first_run.py's cheap parts: its JSON line, the clone's isolated environment, and the
first-cell timer on the real broker. The whole bench (a clone, `make setup`, a cold jar
download) takes minutes and runs only in `make bench`."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from autograder.grading.paths import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "bench"))

import first_run  # noqa: E402

pytestmark = pytest.mark.timeout(120)


def test_json_line_holds_the_four_figures_in_the_issue_order_rounded_to_centiseconds():
    line = first_run.figures_line(
        {"first_cell_s": 2.345678, "broker_warm_s": 2, "broker_cold_s": 14.5, "setup_s": 98.7654}
    )
    assert list(json.loads(line)) == ["setup_s", "broker_cold_s", "broker_warm_s", "first_cell_s"]
    assert json.loads(line) == {
        "setup_s": 98.77,
        "broker_cold_s": 14.5,
        "broker_warm_s": 2.0,
        "first_cell_s": 2.35,
    }


def test_clone_steps_use_their_own_state_jar_cache_and_maven_repo_never_the_shared_broker(
    monkeypatch, tmp_path
):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092")
    monkeypatch.setenv("MAVEN_OPTS", "-Xmx1g")
    env = first_run.clone_environment(tmp_path, cold_pip=True)
    assert "KAFKA_BOOTSTRAP_SERVERS" not in env
    assert env["KAFKA_COURSE_STATE_DIR"] == str(tmp_path / "state")
    assert env["KAFKA_COURSE_CACHE"] == str(tmp_path / "jar-cache")
    assert env["MAVEN_OPTS"] == f"-Xmx1g -Dmaven.repo.local={tmp_path / 'm2'}"
    assert env["PIP_NO_CACHE_DIR"] == "1"
    assert "PIP_NO_CACHE_DIR" not in first_run.clone_environment(tmp_path)


def test_first_cell_timer_runs_lesson_01s_setup_cell_against_the_broker(bootstrap):
    env = dict(os.environ, KAFKA_BOOTSTRAP_SERVERS=bootstrap)
    notebook = REPO_ROOT / first_run.FIRST_LESSON
    seconds = first_run.measure_first_cell(Path(sys.executable), notebook, env)
    assert 0 < seconds < first_run.CELL_TIMEOUT_SECONDS
