"""Lesson 07's check on the real broker, beyond what every exercise must do
(tests/lessons/test_every_exercise.py): the learner's function really crashes in a child
process, and the verdict comes from the sink file and the group's committed offsets."""

from __future__ import annotations

import multiprocessing
import sqlite3
import subprocess
import sys
import time
from contextlib import closing

from kafka import KafkaAdminClient

from autograder.grading import kafka_io
from autograder.grading.exercises import EXERCISES, Attempt
from autograder.grading.exercises.lesson07 import sink_path
from autograder.grading.namespace import Namespace
from autograder.grading.paths import REPO_ROOT
from autograder.grading.verdict import ensure_claims_topic, rejudge, run_check
from tests.learner_code import solution

LESSON = "07"
EXERCISE = "crash-safe-sink"
CREATE = (
    "sink.execute('CREATE TABLE IF NOT EXISTS orders "
    "(order_id TEXT PRIMARY KEY, customer TEXT, amount INTEGER)')"
)


def _define(body: str):
    scope: dict = {"time": time}
    exec("def store_orders(consumer, sink):\n" + body, scope)
    return scope["store_orders"]


def _loop(insert: str, commits: str) -> str:
    """A learner loop: poll until empty, store each order with ``insert``, then ``commits``.
    (Stopping at an empty 1 s poll passes here: the check fetched the positions beforehand, and
    the topic is complete before the function runs.)"""
    return (
        f"    {CREATE}\n"
        "    deadline = time.monotonic() + 10\n"
        "    while time.monotonic() < deadline:\n"
        "        batch = consumer.poll(timeout_ms=1000)\n"
        "        if not batch:\n"
        "            return\n"
        "        for records in batch.values():\n"
        "            for r in records:\n"
        f"                sink.execute('{insert} INTO orders VALUES (?, ?, ?)', "
        "(r.value['order_id'], r.value['customer'], r.value['amount']))\n"
        f"        {commits}\n"
    )


def _latest_attempt(bootstrap: str, ns: Namespace) -> Attempt:
    claims = [r.value_json() for r in kafka_io.read_all(bootstrap, ns.claims_topic)]
    return Attempt(bootstrap, ns, EXERCISE, claims[-1]["attempt"])


def _members(bootstrap: str, group: str) -> list:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        return list(admin.describe_groups([group])[group].get("members") or [])
    finally:
        admin.close()


# This test runs the reference itself: a child process or a group member left behind shows only
# right after the check (a member times out of its group later).
def test_reference_solution_survives_both_crashes_and_leaves_nothing_behind(bootstrap, namespace):
    result = run_check(bootstrap, namespace, EXERCISE, solution(EXERCISE, LESSON))
    assert result.passed, str(result)
    assert "2 real crashes" in result.summary
    assert rejudge(bootstrap, namespace, EXERCISE).passed
    attempt = _latest_attempt(bootstrap, namespace)
    with closing(sqlite3.connect(sink_path(attempt))) as sink:
        assert sink.execute("SELECT count(DISTINCT order_id), count(*) FROM orders").fetchone() == (
            12,
            12,
        )
    assert multiprocessing.active_children() == [], "a child process outlived the check"
    assert _members(bootstrap, attempt.group()) == [], "the check left a group member behind"


def test_committing_before_storing_is_caught_as_lost_orders(bootstrap, namespace):
    at_most_once = _define(_loop("INSERT OR IGNORE", "consumer.commit(); sink.commit()"))
    result = run_check(bootstrap, namespace, EXERCISE, at_most_once)
    assert not result.passed and "lost" in result.summary


def test_a_sink_without_a_unique_key_is_caught_as_duplicates(bootstrap, namespace):
    no_key = _define(
        _loop("INSERT", "sink.commit(); consumer.commit()").replace("TEXT PRIMARY KEY", "TEXT")
    )
    result = run_check(bootstrap, namespace, EXERCISE, no_key)
    assert not result.passed and "more than once" in result.summary


def test_a_unique_key_with_a_plain_insert_fails_on_the_redelivery(bootstrap, namespace):
    loud = _define(_loop("INSERT", "sink.commit(); consumer.commit()"))
    result = run_check(bootstrap, namespace, EXERCISE, loud)
    assert not result.passed and "IntegrityError" in result.found
    assert "INSERT OR IGNORE" in result.hint


def test_offsets_never_committed_are_caught(bootstrap, namespace):
    forgetful = _define(_loop("INSERT OR IGNORE", "sink.commit()"))
    result = run_check(bootstrap, namespace, EXERCISE, forgetful)
    assert not result.passed and "committed offsets" in result.summary


def test_a_function_that_returns_before_the_end_is_told_about_empty_polls(bootstrap, namespace):
    one_poll = _define(
        f"    {CREATE}\n"
        "    for records in consumer.poll(timeout_ms=1000).values():\n"
        "        for r in records:\n"
        "            sink.execute('INSERT OR IGNORE INTO orders VALUES (?, ?, ?)', "
        "(r.value['order_id'], r.value['customer'], r.value['amount']))\n"
        "    sink.commit(); consumer.commit()\n"
    )
    result = run_check(bootstrap, namespace, EXERCISE, one_poll)
    assert not result.passed and "before reading everything" in result.summary, str(result)
    assert "empty poll" in result.hint and "end offset" in result.hint


def test_a_learner_loop_without_end_is_killed_at_the_time_limit(bootstrap, namespace, monkeypatch):
    monkeypatch.setattr(EXERCISES[EXERCISE], "time_limit_s", 3.0)
    endless = _define("    while True:\n        time.sleep(0.05)\n")
    started = time.monotonic()
    result = run_check(bootstrap, namespace, EXERCISE, endless)
    assert not result.passed and "did not finish" in result.summary
    assert time.monotonic() - started < 15
    assert multiprocessing.active_children() == []


def test_what_the_child_prints_becomes_notes_and_nothing_reaches_stderr(
    bootstrap, namespace, capfd
):
    noisy = _define(
        "    import sys\n    print('to stderr', file=sys.stderr)\n    raise RuntimeError('boom')\n"
    )
    result = run_check(bootstrap, namespace, EXERCISE, noisy)
    captured = capfd.readouterr()
    assert captured.err == ""
    assert not result.passed and "RuntimeError: boom" in result.found
    assert any("to stderr" in note for note in result.notes)
    assert multiprocessing.active_children() == []


def test_a_claim_without_the_sink_and_the_commits_behind_it_earns_nothing(bootstrap, namespace):
    ensure_claims_topic(bootstrap, namespace)
    kafka_io.append_json(
        bootstrap,
        namespace.claims_topic,
        EXERCISE,
        {
            "attempt": "forged",
            "returned": {"runs": [{"ended": "crashed"}]},
            "error": None,
            "error_type": None,
            "timed_out": False,
        },
    )
    assert not rejudge(bootstrap, namespace, EXERCISE).passed


def test_the_grader_reaches_the_same_verdict_in_another_process(bootstrap, verdicts):
    judged = verdicts.reference(LESSON, EXERCISE)
    assert judged.result.passed, str(judged.result)
    script = (
        "from autograder.grading.namespace import Namespace\n"
        "from autograder.grading.verdict import rejudge\n"
        f"namespace = Namespace({judged.namespace.run_id!r}, {LESSON!r})\n"
        f"print(rejudge({bootstrap!r}, namespace, {EXERCISE!r}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout.startswith("[PASS]"), done.stdout + done.stderr
