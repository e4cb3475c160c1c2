"""How long one check takes on a warm broker (target: median at most 300 ms).

Measures the full check cell of lesson 01's `send-keyed` (prepare a topic, run the reference
solution, record the claim, judge) and the judge alone (`rejudge`, what the grader repeats).
Run it on its own against a running broker, or through bench/broker_start.py, which adds its
figures to the benchmark's JSON line.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder.grading.namespace import Namespace, new_run_id  # noqa: E402
from autograder.grading.quiet import silence_kafka_logs  # noqa: E402
from autograder.grading.verdict import ensure_claims_topic, rejudge, run_check  # noqa: E402
from tests.learner_code import solution  # noqa: E402

EXERCISE = "send-keyed"


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 1)


def measure(bootstrap: str, runs: int = 7) -> dict:
    """Median milliseconds of a full check and of a re-judgement, after one warm-up each."""
    silence_kafka_logs()
    namespace = Namespace(new_run_id(), "01")
    ensure_claims_topic(bootstrap, namespace)
    function = solution(EXERCISE)
    full, judge = [], []
    for n in range(runs + 1):
        started = time.perf_counter()
        result = run_check(bootstrap, namespace, EXERCISE, function)
        elapsed = time.perf_counter() - started
        assert result.passed, str(result)
        started = time.perf_counter()
        assert rejudge(bootstrap, namespace, EXERCISE).passed
        if n:  # the first round warms imports and connections
            full.append(elapsed)
            judge.append(time.perf_counter() - started)
    return {
        "check_median_ms": _median_ms(full),
        "rejudge_median_ms": _median_ms(judge),
        "check_target_ms": 300,
    }


if __name__ == "__main__":
    from autograder.broker import bootstrap_servers

    figures = measure(bootstrap_servers())
    print(
        f"one check (full cell): {figures['check_median_ms']} ms median; "
        f"judge alone: {figures['rejudge_median_ms']} ms"
    )
    print(json.dumps(figures))
