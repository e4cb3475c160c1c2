"""bench/producer_tuning.py runs to the end on the real broker and prints its JSON line last."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from autograder.grading.paths import REPO_ROOT


def test_the_producer_tuning_benchmark_prints_both_clients_figures_for_each_configuration(
    bootstrap,
):
    env = dict(os.environ, KAFKA_BOOTSTRAP_SERVERS=bootstrap)
    done = subprocess.run(
        [sys.executable, "bench/producer_tuning.py", "--quick"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["records"] == 300 and summary["baseline"] == "defaults"
    assert set(summary["configs"]) == {"defaults", "zstd, linger 200"}
    for figures in summary["configs"].values():
        assert figures["kafka_python_records_per_s"] > 0 and figures["java_records_per_s"] > 0
    zstd, plain = summary["configs"]["zstd, linger 200"], summary["configs"]["defaults"]
    # Both clients stored the same events; compressed, both stored fewer bytes.
    assert zstd["kafka_python_bytes_stored"] < plain["kafka_python_bytes_stored"]
    assert zstd["java_bytes_stored"] < plain["java_bytes_stored"]
