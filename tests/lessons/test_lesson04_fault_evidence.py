"""Checks that inject a fault judge only what met it (issue 15), on the real broker.

The fault proxy counts what it saw and what it did; lesson 04's checks record that count with
the claim and fail a producer the fault never struck (one that ignored `bootstrap`, one with
acks=0), in the learner's kernel and again when nbgrader rejudges from the broker alone.
"""

from __future__ import annotations

import pytest
from kafka import KafkaProducer

from autograder.faults import fault_proxy, start_timed, stop_timed
from autograder.grading import kafka_io
from autograder.grading.harness import Outcome
from autograder.grading.namespace import Namespace, new_run_id
from autograder.grading.paths import SOURCE_DIR
from autograder.grading.verdict import rejudge, run_check
from autograder.notebook.lesson import start

from ..learner_code import prelude, solution

pytestmark = [pytest.mark.timeout(120)]

WRONG_ANSWERS = SOURCE_DIR / "04_reliability" / "wrong_answers"
FUNCTIONS = {"no-duplicates": "send_payments", "keep-order": "send_account_events"}
BYPASS = "the_demos_broker_address_instead_of_bootstrap"


@pytest.fixture
def ns04():
    return Namespace(new_run_id(), "04")


def _wrong_answer(bootstrap: str, exercise: str, name: str):
    """The wrong answer file's function, defined after what lesson 04's notebook defines
    before the exercise: its imports and the setup cell's `course`, on the test broker."""
    scope: dict = {}
    exec(prelude("04"), scope)
    scope["course"] = start("04", bootstrap)
    exec((WRONG_ANSWERS / exercise / f"{name}.py").read_text(), scope)
    return scope[FUNCTIONS[exercise]]


def _latest_claim(bootstrap: str, ns: Namespace) -> dict:
    return kafka_io.read_all(bootstrap, ns.claims_topic)[-1].value_json()


# ----- the proxy's own counters ---------------------------------------------------------------


def test_the_proxy_counts_requests_by_api_and_every_fault_it_fires(bootstrap, topic):
    name = topic("counted")
    with fault_proxy(bootstrap) as proxy:
        producer = KafkaProducer(bootstrap_servers=proxy.bootstrap, enable_idempotence=False)
        try:
            with proxy.drop_responses("Produce", count=1):
                producer.send(name, b"once?").get(timeout=15)
        finally:
            producer.close(timeout=5)
    report = proxy.report()  # still readable once the proxy stopped
    assert report["requests"]["Produce"] >= 2  # the first try and its retry
    assert report["requests"]["Metadata"] >= 1
    assert report["faults fired"] == {"drop-response": 1}
    assert report["Produce"]["dropped"] == 1
    assert report["connections"] >= 2  # the dropped answer cost the producer its connection


def test_a_producer_that_bypasses_the_proxy_leaves_its_counters_at_zero(bootstrap, topic):
    name = topic("bypassed")
    with fault_proxy(bootstrap) as proxy, proxy.drop_responses("Produce", count=1):
        producer = KafkaProducer(bootstrap_servers=bootstrap)
        try:
            producer.send(name, b"straight to the broker").get(timeout=15)
        finally:
            producer.close(timeout=5)
    assert proxy.report()["requests"] == {} and proxy.report()["faults fired"] == {}
    assert sum(kafka_io.end_offsets(bootstrap, name).values()) == 1


def test_requests_sent_with_acks_0_are_counted_and_no_answer_fault_strikes_them(bootstrap, topic):
    name = topic("fire-and-forget")
    with fault_proxy(bootstrap) as proxy, proxy.drop_responses("Produce", count=5):
        producer = KafkaProducer(bootstrap_servers=proxy.bootstrap, acks=0)
        try:
            producer.send(name, b"nobody answers")
            producer.flush(timeout=15)
        finally:
            producer.close(timeout=5)
    report = proxy.report()
    assert report["Produce"]["sent without waiting for an answer"] >= 1
    assert report["faults fired"] == {}


def test_a_timed_proxy_hands_back_its_counters_when_stopped(bootstrap, topic):
    name = topic("timed")
    proxy = start_timed(
        "evidence-test", bootstrap, lambda p: [p.fail_requests(count=1)], lifetime_s=30
    )
    producer = KafkaProducer(bootstrap_servers=proxy.bootstrap, enable_idempotence=False)
    try:
        producer.send(name, b"refused, then retried").get(timeout=15)
    finally:
        producer.close(timeout=5)
    stopped = stop_timed("evidence-test")
    assert stopped is proxy and stopped.report()["faults fired"] == {"fail-request": 1}
    assert stop_timed("evidence-test") is None  # nothing runs under the key any more


# ----- lesson 04's checks judge only what met the fault --------------------------------------


@pytest.mark.parametrize("exercise", sorted(FUNCTIONS))
def test_a_producer_that_ignores_bootstrap_fails_in_the_kernel_and_on_rejudge(
    bootstrap, ns04, exercise
):
    result = run_check(bootstrap, ns04, exercise, _wrong_answer(bootstrap, exercise, BYPASS))
    assert not result.passed, str(result)
    assert result.summary == "your producer never went through the fault the check set up"
    assert "use the `bootstrap` argument" in result.hint and "?" in result.hint
    assert result.hint.endswith("then run this cell again.")
    assert _latest_claim(bootstrap, ns04)["evidence"]["proxy"]["requests"].get("Produce", 0) == 0
    again = rejudge(bootstrap, ns04, exercise)
    assert not again.passed and again.summary == result.summary


# keep-order's story asks for acks=1, so its acks=0 answer gets a hint of its own
# (tests/lessons/test_lesson04_checks.py); no-duplicates is the exercise that needs acks='all'.
def test_a_producer_with_acks_0_never_meets_the_fault_and_fails(bootstrap, ns04):
    exercise, name = "no-duplicates", "acks_0_so_no_answer_can_be_lost"
    result = run_check(bootstrap, ns04, exercise, _wrong_answer(bootstrap, exercise, name))
    assert not result.passed, str(result)
    assert result.summary == "the injected fault never met your producer"
    assert "acks='all'" in result.hint and "?" in result.hint
    assert not rejudge(bootstrap, ns04, exercise).passed


@pytest.mark.parametrize("exercise", sorted(FUNCTIONS))
def test_the_honest_solution_passes_with_the_fault_on_record(bootstrap, ns04, exercise):
    result = run_check(bootstrap, ns04, exercise, solution(exercise, "04"))
    assert result.passed, str(result)
    evidence = _latest_claim(bootstrap, ns04)["evidence"]["proxy"]
    assert evidence["requests"]["Produce"] >= 1
    assert sum(evidence["faults fired"].values()) >= 1
    assert rejudge(bootstrap, ns04, exercise).passed


def test_a_claim_without_the_proxys_evidence_earns_nothing(bootstrap, ns04):
    assert run_check(bootstrap, ns04, "no-duplicates", solution("no-duplicates", "04")).passed
    claim = _latest_claim(bootstrap, ns04)
    kafka_io.append_json(bootstrap, ns04.claims_topic, "no-duplicates", {**claim, "evidence": {}})
    result = rejudge(bootstrap, ns04, "no-duplicates")
    assert not result.passed and "`bootstrap` argument" in result.hint


def test_the_evidence_survives_the_claims_round_trip():
    outcome = Outcome(returned=[1], evidence={"runs": [{"run": 1, "ended": "crashed"}]})
    assert Outcome.from_claim(outcome.to_claim()).evidence == outcome.evidence
    assert Outcome.from_claim({"returned": None}).evidence == {}
