"""Lesson 10's checks on the real broker, beyond what every exercise must do
(tests/lessons/test_every_exercise.py): each wrong answer fails with the hint for its own
mistake; a plain producer cannot pass the transfer; the refusal, the crashes and the takeover
really happened, and left in the log what the judges say they look for; and kafka-python
raises what the hints name."""

from __future__ import annotations

import json
import multiprocessing
import time
import uuid

import pytest
from kafka import KafkaProducer
from kafka.errors import IllegalStateError, KafkaError, ProducerFencedError

from autograder.grading import kafka_io
from autograder.grading.exercises import Attempt
from autograder.grading.exercises.eos_pipeline import make_readings
from autograder.grading.exercises.eos_pipeline import to_fahrenheit as graders_conversion
from autograder.grading.exercises.transfers import make_transfers
from autograder.grading.namespace import Namespace
from autograder.grading.verdict import ensure_claims_topic, rejudge, run_check
from tests.learner_code import for_lesson

LESSON = "10"
define, solution, wrong_answers = for_lesson(LESSON)

# What each wrong answer's hint must talk about: the mistake it made, not a generic one.
HINT_FOR = {
    (
        "atomic-transfer",
        "a plain producer, each transfer sent as two records, trusting that both get through",
    ): "transactional_id",
    (
        "atomic-transfer",
        "the refusal caught, and the transaction committed anyway: it only holds the debit",
    ): "abort_transaction() instead",
    (
        "atomic-transfer",
        "the refused transfer skipped without abort_transaction(), its transaction left open",
    ): "still open",
    (
        "atomic-transfer",
        "one transaction around the whole batch, aborted when one transfer is refused",
    ): "its own transaction",
    (
        "exactly-once-pipeline",
        "a consumer left at its default isolation level, read_uncommitted",
    ): 'isolation_level="read_committed"',
    (
        "exactly-once-pipeline",
        "offsets committed by the consumer once the transaction committed, outside it",
    ): "never call consumer.commit()",
    (
        "exactly-once-pipeline",
        "offsets committed by the consumer as soon as the batch is sent, before the commit",
    ): "stay committed when the transaction is aborted",
    (
        "exactly-once-pipeline",
        "a transactional producer used like a plain one: sends and a flush, no begin_transaction()",
    ): "begin_transaction() before",
    (
        "fence-the-zombie",
        "a new transactional id at every start, so that instances never get in each other's way",
    ): "pick its own transactional id",
    (
        "fence-the-zombie",
        "fenced, so the processor retries with a fresh producer under a new transactional id",
    ): "never retry under another id",
    (
        "fence-the-zombie",
        "a fencing error taken for a passing glitch: logged, and the loop polls on",
    ): "Stop at the first fencing error",
    (
        "fence-the-zombie",
        "fencing left to escape as an error, as if the processor had crashed",
    ): "did you let the error escape",
}


def _latest_attempt(bootstrap: str, namespace: Namespace, exercise: str) -> tuple[Attempt, dict]:
    """The attempt the run's last claim for ``exercise`` names, and the claim itself."""
    claims = [
        r.value_json()
        for r in kafka_io.read_all(bootstrap, namespace.claims_topic)
        if r.key_text == exercise
    ]
    return Attempt(bootstrap, namespace, exercise, claims[-1]["attempt"]), claims[-1]


def test_every_wrong_answer_in_the_manifest_has_its_own_hint_here():
    assert {(exercise, name) for exercise, name, _ in wrong_answers()} == set(HINT_FOR)


@pytest.mark.parametrize("exercise, name", sorted(HINT_FOR), ids=lambda value: value[:40])
def test_plausible_wrong_answer_fails_with_the_hint_for_its_mistake(verdicts, exercise, name):
    result = verdicts.wrong(LESSON, exercise, name).result
    assert not result.passed, str(result)
    assert HINT_FOR[(exercise, name)] in result.hint, str(result)


def test_the_notebooks_conversion_is_the_one_the_grader_expects():
    convert = define("", "to_fahrenheit")
    for reading in make_readings("a1b2c3", "r", 12):
        assert convert(dict(reading)) == graders_conversion(reading)


# ----- atomic-transfer ----------------------------------------------------------------------


def test_the_reference_transfer_leaves_the_refused_debit_aborted_in_the_log(bootstrap, verdicts):
    judged = verdicts.reference(LESSON, "atomic-transfer")
    assert judged.result.passed, str(judged.result)
    attempt, claim = _latest_attempt(bootstrap, judged.namespace, "atomic-transfer")
    desk = claim["evidence"]["credit desk"]
    assert desk["refusals"] == 1 and desk["debit_in_log_at_refusal"] is True
    _, refused = make_transfers(attempt.attempt_id)
    log = kafka_io.read_log(bootstrap, attempt.topic("debits"))
    outcomes = kafka_io.transaction_outcomes(log)
    refused_debits = [
        e for e in log if e.control is None and json.loads(e.value)["transfer"] == refused
    ]
    assert [outcomes[(e.partition, e.offset)] for e in refused_debits] == ["aborted"]
    assert {e.control for e in log if e.control} == {"COMMIT", "ABORT"}
    invisible = kafka_io.read_all(bootstrap, attempt.topic("debits"), isolation="read_committed")
    assert refused not in {json.loads(r.value)["transfer"] for r in invisible}
    assert len(invisible) == 5


def test_a_plain_producer_that_asks_first_and_skips_the_refused_transfer_cannot_pass(
    bootstrap, namespace
):
    """The transfers a read_committed consumer sees are all correct here; the raw log still
    shows no transaction at all."""

    def transfer_funds(bootstrap, transactional_id, transfers, debits, credits, credit_for):
        producer = KafkaProducer(bootstrap_servers=bootstrap)
        try:
            for transfer in transfers:
                try:
                    credit = credit_for(transfer)
                except Exception:
                    continue
                debit = {
                    "transfer": transfer["id"],
                    "account": transfer["from"],
                    "amount": -transfer["amount"],
                }
                producer.send(
                    debits, key=transfer["from"].encode(), value=json.dumps(debit).encode()
                )
                producer.send(
                    credits, key=transfer["to"].encode(), value=json.dumps(credit).encode()
                )
            producer.flush()
        finally:
            producer.close()

    result = run_check(bootstrap, namespace, "atomic-transfer", transfer_funds)
    assert not result.passed
    assert result.summary == "transfers were written outside any transaction", str(result)


def test_a_transaction_that_never_asks_credit_for_is_told_so(bootstrap, namespace):
    def transfer_funds(bootstrap, transactional_id, transfers, debits, credits, credit_for):
        return None

    result = run_check(bootstrap, namespace, "atomic-transfer", transfer_funds)
    assert result.summary == "credit_for never refused a transfer", str(result)


# ----- exactly-once-pipeline ----------------------------------------------------------------


def test_the_pipeline_really_crashed_twice_and_left_an_aborted_transaction(bootstrap, verdicts):
    judged = verdicts.reference(LESSON, "exactly-once-pipeline")
    assert judged.result.passed, str(judged.result)
    assert "2 real crashes" in judged.result.summary
    attempt, claim = _latest_attempt(bootstrap, judged.namespace, "exactly-once-pipeline")
    runs = claim["evidence"]["runs"]
    crashed = [run["crash planned"] for run in runs if run["ended"] == "crashed"]
    assert crashed == ["before commit", "after commit"]
    assert runs[-1] == {"run": len(runs), "crash planned": "none", "ended": "returned"}
    log = kafka_io.read_log(bootstrap, attempt.topic("fahrenheit"))
    outcomes = kafka_io.transaction_outcomes(log)
    # The first run's transaction reached the log and was aborted by the restart's
    # init_transactions(); what read_committed shows is one output per committed reading.
    assert "aborted" in outcomes.values() and "open" not in outcomes.values()
    assert "ABORT" in {e.control for e in log}
    visible = kafka_io.read_all(bootstrap, attempt.topic("fahrenheit"), isolation="read_committed")
    assert sorted(json.loads(r.value)["id"] for r in visible) == sorted(
        r["id"] for r in make_readings(attempt.attempt_id, "r", 12)
    )
    assert multiprocessing.active_children() == [], "a child process outlived the check"


def test_the_pipelines_input_holds_an_aborted_transaction(bootstrap, verdicts):
    judged = verdicts.reference(LESSON, "exactly-once-pipeline")
    attempt, _ = _latest_attempt(bootstrap, judged.namespace, "exactly-once-pipeline")
    log = kafka_io.read_log(bootstrap, attempt.topic("readings"))
    aborted = [
        json.loads(e.value)["id"]
        for e in log
        if kafka_io.transaction_outcomes(log).get((e.partition, e.offset)) == "aborted"
    ]
    assert sorted(aborted) == sorted(r["id"] for r in make_readings(attempt.attempt_id, "x", 3))


def test_a_pipeline_claim_without_outputs_behind_it_earns_nothing(bootstrap, namespace):
    ensure_claims_topic(bootstrap, namespace)
    runs = [{"run": n, "ended": "crashed"} for n in (1, 2)] + [{"run": 3, "ended": "returned"}]
    kafka_io.append_json(
        bootstrap,
        namespace.claims_topic,
        "exactly-once-pipeline",
        {
            "attempt": "forged",
            "returned": None,
            "error": None,
            "error_type": None,
            "timed_out": False,
            "evidence": {"runs": runs},
        },
    )
    assert not rejudge(bootstrap, namespace, "exactly-once-pipeline").passed


# ----- fence-the-zombie ---------------------------------------------------------------------


def test_the_second_instance_really_fenced_the_first_mid_stream(bootstrap, verdicts):
    judged = verdicts.reference(LESSON, "fence-the-zombie")
    assert judged.result.passed, str(judged.result)
    attempt, claim = _latest_attempt(bootstrap, judged.namespace, "fence-the-zombie")
    first, second = (
        claim["evidence"]["instances"]["first"],
        claim["evidence"]["instances"]["second"],
    )
    assert first["started"] < second["started"] < first["ended"]
    assert (first["returned"], second["returned"]) == ("fenced", "done")
    log = kafka_io.read_log(bootstrap, attempt.topic("fahrenheit"))
    data = [e for e in log if e.control is None]
    # One transactional id, so one producer id; the takeover bumped its epoch.
    assert len({e.producer_id for e in data}) == 1
    assert len({e.producer_epoch for e in data}) == 2
    newest = max(e.producer_epoch for e in data)
    takeover: dict[int, int] = {}  # partition -> the newer instance's first record there
    for entry in data:
        if entry.producer_epoch == newest:
            takeover[entry.partition] = min(
                takeover.get(entry.partition, entry.offset), entry.offset
            )
    outcomes = kafka_io.transaction_outcomes(log)
    zombie_visible = [
        e
        for e in data
        if e.producer_epoch < newest
        and e.offset > takeover.get(e.partition, len(log))
        and outcomes[(e.partition, e.offset)] == "committed"
    ]
    assert zombie_visible == []
    assert multiprocessing.active_children() == []


# ----- what kafka-python raises (the hints name it) -----------------------------------------


def test_kafka_python_names_each_misuse_of_a_transactional_producer(bootstrap, topic):
    target = topic("misuse")
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, transactional_id=f"misuse-{uuid.uuid4().hex}"
    )
    try:
        with pytest.raises(
            IllegalStateError, match="before completing a call to init_transactions"
        ):
            producer.send(target, b"too early")
        producer.init_transactions()
        with pytest.raises(IllegalStateError, match="in state READY"):
            producer.send(target, b"no transaction")
        producer.begin_transaction()
        producer.send(target, b"inside")
        with pytest.raises(KafkaError, match="IN_TRANSACTION to state IN_TRANSACTION"):
            producer.begin_transaction()
        producer.abort_transaction()
    finally:
        producer.close(timeout=5)


def test_a_fenced_producer_raises_producer_fenced_then_a_plain_kafka_error(bootstrap, topic):
    target = topic("fenced", partitions=2)
    transactional_id = f"fenced-{uuid.uuid4().hex}"
    older = KafkaProducer(bootstrap_servers=bootstrap, transactional_id=transactional_id)
    newer = KafkaProducer(bootstrap_servers=bootstrap, transactional_id=transactional_id)
    is_fenced = define("", "is_fenced")
    try:
        older.init_transactions()
        older.begin_transaction()
        older.send(target, b"before the takeover", partition=0).get(timeout=5)
        newer.init_transactions()  # bumps the epoch and aborts the older one's transaction
        with pytest.raises(ProducerFencedError) as at_the_send:
            older.send(target, b"after the takeover", partition=1).get(timeout=5)
        with pytest.raises(KafkaError) as at_the_commit:
            older.commit_transaction()
        assert type(at_the_commit.value) is KafkaError
        assert "ProducerFencedError" in str(at_the_commit.value)
        assert is_fenced(at_the_send.value) and is_fenced(at_the_commit.value)
        assert not is_fenced(KafkaError("something else"))
    finally:
        older.close(timeout=5)
        newer.close(timeout=5)
    stop_at = time.monotonic() + 10
    while kafka_io.end_offsets(bootstrap, target, "read_committed") != kafka_io.end_offsets(
        bootstrap, target
    ):
        assert time.monotonic() < stop_at, "the aborted transaction never ended"
        time.sleep(0.2)
    assert kafka_io.read_all(bootstrap, target, isolation="read_committed") == []
