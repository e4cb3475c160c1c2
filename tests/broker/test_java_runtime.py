"""Finding Java for the broker (broker/java_runtime.py): a missing or unreadable Java is one
clear line, and both version numbering schemes are read."""

from __future__ import annotations

import pytest

from autograder import broker
from autograder.broker.java_runtime import parse_java_version
from autograder.broker.ports import free_port


def test_missing_java_asks_for_java_17(broker_state, monkeypatch, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setenv("JAVA_HOME", str(empty))
    with pytest.raises(broker.BrokerError) as caught:
        broker.up(port=free_port(), state_dir=broker_state)
    assert "No Java found" in str(caught.value) and "Java 17" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_java_versions_are_read_in_both_numbering_schemes():
    assert parse_java_version('openjdk version "17.0.15" 2025-04-15') == ("17.0.15", 17)
    assert parse_java_version('java version "1.8.0_392"') == ("1.8.0_392", 8)
    assert parse_java_version('openjdk version "25" 2025-09-16') == ("25", 25)
