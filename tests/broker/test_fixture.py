"""The test session's own broker (broker/fixture.py): it serves, then cleans up after itself."""

from __future__ import annotations

import pytest

from autograder.broker.fixture import test_broker as broker_for_tests
from autograder.broker.probe import probe

pytestmark = [pytest.mark.timeout(180)]


@pytest.mark.broker  # starts a JVM of its own
def test_test_broker_fixture_serves_then_cleans_up(monkeypatch):
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    with broker_for_tests() as bootstrap:
        assert probe(bootstrap) is not None
    assert probe(bootstrap) is None
