"""bench/transactions.py runs to the end on the real broker and prints its JSON line last."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from autograder.grading.paths import REPO_ROOT

pytestmark = pytest.mark.timeout(300)


def test_the_transactions_benchmark_prints_both_clients_figures_for_every_transaction_size(
    bootstrap,
):
    env = dict(os.environ, KAFKA_BOOTSTRAP_SERVERS=bootstrap)
    done = subprocess.run(
        [sys.executable, "bench/transactions.py", "--quick"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    summary = json.loads(lines[-1])
    assert list(summary) == ["txn_records_per_s"]
    figures = summary["txn_records_per_s"]
    assert list(figures) == ["python", "java"]
    for client in figures.values():
        assert list(client) == ["1", "10", "100", "1000", "none"]
        assert all(isinstance(rate, int) and rate > 0 for rate in client.values())
    # The table's kafka-python rows say each arm committed the transaction size it was given
    # (counted from the COMMIT markers in its topic).
    rows = {line.split()[0]: line.split() for line in lines if line.split()[:1] in [["1"], ["10"]]}
    assert rows["1"][3] == "1" and rows["10"][3] == "10"
