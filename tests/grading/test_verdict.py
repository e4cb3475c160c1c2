"""run_check and rejudge (grading/verdict.py) on the real broker: the verdict comes from what
the broker holds, never from what the kernel claimed; runs in their own namespaces never
collide; a broker that does not answer gives one clear message, quickly."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

from autograder.grading import kafka_io
from autograder.grading.namespace import Namespace, new_run_id
from autograder.grading.paths import REPO_ROOT
from autograder.grading.verdict import ensure_claims_topic, rejudge, run_check
from tests.learner_code import solution


def test_the_broker_verdict_ignores_what_the_kernel_claimed(bootstrap, namespace):
    """A claim written by hand, without the records behind it, earns nothing."""
    ensure_claims_topic(bootstrap, namespace)
    kafka_io.append_json(
        bootstrap,
        namespace.claims_topic,
        "send-keyed",
        {
            "attempt": "forged",
            "returned": None,
            "error": None,
            "error_type": None,
            "timed_out": False,
        },
    )
    assert not rejudge(bootstrap, namespace, "send-keyed").passed


def test_rejudge_without_any_claim_fails_with_guidance(bootstrap, namespace):
    result = rejudge(bootstrap, namespace, "create-topic")
    assert not result.passed and "never ran" in result.summary


def test_two_runs_at_once_on_one_broker_do_not_collide(bootstrap):
    runs = [Namespace(new_run_id(), "01") for _ in range(3)]
    results = {}

    def grade(ns):
        results[ns.run_id] = run_check(bootstrap, ns, "send-keyed", solution("send-keyed"))

    threads = [threading.Thread(target=grade, args=(ns,)) for ns in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == 3 and all(r.passed for r in results.values()), results
    assert all(rejudge(bootstrap, ns, "send-keyed").passed for ns in runs)


def test_an_unreachable_broker_gives_one_clear_message_quickly_and_nothing_on_stderr():
    # In a child process: kafka-python leaves sockets of failed connects for the GC to find.
    script = (
        "from autograder.grading.namespace import Namespace\n"
        "from autograder.grading.verdict import run_check\n"
        "from tests.learner_code import solution\n"
        "result = run_check('localhost:1', Namespace('rdown', '01'), 'create-topic',"
        " solution('create-topic'))\n"
        "print(result)\n"
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert time.monotonic() - started < 30
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout.startswith("[FAIL] create-topic: the broker did not answer")
    assert "kafka-course broker up" in done.stdout
    assert "kafka-python" not in done.stdout, "connection noise reached the learner"
