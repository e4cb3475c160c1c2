"""What lesson 04 tells learners about acks, retries, idempotence and ordering, shown happening
on the real broker through the course's fault proxy."""

from __future__ import annotations

import pytest
from kafka import KafkaProducer
from kafka.errors import KafkaConfigurationError, KafkaError

from autograder.demos import lesson04 as demos
from autograder.grading import kafka_io

pytestmark = [pytest.mark.timeout(120)]

LESSON = "04"  # for the `namespace` fixture (tests/conftest.py)


def test_acks_0_reports_offset_0_for_every_record_whatever_the_partition_holds(bootstrap, topic):
    name = topic("acks0")
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks=0, enable_idempotence=False)
    try:
        offsets = [producer.send(name, b"%d" % n).get(timeout=10).offset for n in range(5)]
        producer.flush(timeout=10)
    finally:
        producer.close(timeout=5)
    assert offsets == [0] * 5
    assert sum(kafka_io.end_offsets(bootstrap, name).values()) == 5


def test_acks_0_reports_offset_0_plus_the_records_place_in_its_batch(bootstrap, topic):
    name = topic("acks0-batch")
    demos.acks_answers(bootstrap, name)  # three records first, as in the notebook
    assert demos.acks_0_offsets(bootstrap, name) == {
        "producer says": [0, 1, 2, 3, 4],
        "the broker stored them at": [3, 4, 5, 6, 7],
    }


def test_acks_1_and_all_report_the_offsets_the_broker_gave(bootstrap, topic):
    answers = demos.acks_answers(bootstrap, topic("acks"))
    assert answers == {"acks=0": "offset 0", "acks=1": "offset 1", "acks=all": "offset 2"}


def test_with_acks_0_a_lost_request_is_reported_sent_and_is_gone(bootstrap, topic):
    outcome = demos.acks_with_a_lost_request(bootstrap, topic("lost0"), 0)
    assert outcome == {"producer says": "offset 0", "requests lost": 1, "records on the broker": 0}


def test_with_acks_1_a_lost_request_is_retried_and_arrives(bootstrap, topic):
    outcome = demos.acks_with_a_lost_request(bootstrap, topic("lost1"), 1)
    assert outcome["requests lost"] == 1 and outcome["records on the broker"] == 1
    assert outcome["producer says"].startswith("offset")


def test_setting_acks_retries_or_in_flight_silently_turns_idempotence_off(bootstrap):
    assert demos.idempotence_in_effect(bootstrap) is True
    assert demos.idempotence_in_effect(bootstrap, acks="all") is True
    assert demos.idempotence_in_effect(bootstrap, acks=-1) is True
    assert demos.idempotence_in_effect(bootstrap, acks=0) is False
    assert demos.idempotence_in_effect(bootstrap, acks=1) is False
    assert demos.idempotence_in_effect(bootstrap, retries=0) is False
    assert demos.idempotence_in_effect(bootstrap, max_in_flight_requests_per_connection=10) is False


def test_explicit_idempotence_makes_a_conflicting_setting_an_error(bootstrap):
    with pytest.raises(KafkaConfigurationError):
        KafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks=1)


def test_lost_answers_make_retries_write_duplicates_without_idempotence(bootstrap, topic):
    name = topic("dup")
    outcome = demos.retries_after_lost_responses(bootstrap, name, enable_idempotence=False)
    assert outcome["answers lost"] == 2
    assert outcome["delivered, says the producer"] == 10
    assert outcome["records on the broker"] == 30
    # One batch, written once per try: every record exactly three times.
    assert set(demos.copies_per_value(bootstrap, name).values()) == {3}


def test_an_idempotent_producer_stores_each_record_once_despite_lost_answers(bootstrap, topic):
    name = topic("once")
    outcome = demos.retries_after_lost_responses(bootstrap, name, enable_idempotence=True)
    assert outcome["answers lost"] == 2 and outcome["records on the broker"] == 10
    assert set(demos.copies_per_value(bootstrap, name).values()) == {1}
    [[state]] = demos.producer_state(bootstrap, name).values()
    assert state["producer_id"] >= 0 and state["epoch"] == 0 and state["last_sequence"] == 9


def test_a_producer_without_idempotence_leaves_no_state_on_the_broker(bootstrap, topic):
    name = topic("no-state")
    demos.retries_after_lost_responses(bootstrap, name, enable_idempotence=False, lost=0)
    assert demos.producer_state(bootstrap, name) == {0: []}


def test_a_refused_request_reorders_a_key_with_requests_in_flight_and_no_idempotence(
    bootstrap, topic
):
    order = demos.order_after_a_failed_request(
        bootstrap, topic("reorder"), enable_idempotence=False
    )
    # Records 1-4 are sent while record 0's request is held, and written at once.
    assert order == [1, 2, 3, 4, 0, 5, 6, 7]


def test_idempotence_keeps_a_keys_order_through_a_refused_request(bootstrap, topic):
    assert demos.order_after_a_failed_request(bootstrap, topic("kept")) == list(range(8))


def test_one_request_in_flight_keeps_order_without_idempotence(bootstrap, topic):
    order = demos.order_after_a_failed_request(
        bootstrap, topic("one"), enable_idempotence=False, max_in_flight_requests_per_connection=1
    )
    assert order == list(range(8))


def test_one_request_in_flight_still_writes_duplicates_when_answers_are_lost(bootstrap, topic):
    outcome = demos.retries_after_lost_responses(
        bootstrap,
        topic("one-dup"),
        enable_idempotence=False,
        max_in_flight_requests_per_connection=1,
    )
    assert outcome["records on the broker"] > outcome["sent"]


def test_idempotent_kafka_python_sends_one_batch_per_partition_at_a_time(bootstrap, topic):
    assert demos.requests_in_flight(bootstrap, topic("inflight-on")) == 1
    assert demos.requests_in_flight(bootstrap, topic("inflight-off"), enable_idempotence=False) == 5


def test_a_timed_out_send_may_have_been_written(bootstrap, topic):
    outcome = demos.timed_out_send(bootstrap, topic("timeout"))
    assert outcome["producer says"] == "KafkaTimeoutError"
    assert 2.0 <= outcome["after (s)"] <= 4.0
    assert outcome["records on the broker"] == 1


def test_a_broker_refusal_is_fatal_for_kafka_pythons_idempotent_producer(bootstrap, topic):
    name = topic("fatal", configs={"max.message.bytes": "2048"})
    assert demos.sends_after_a_refusal(bootstrap, name, enable_idempotence=True) == [
        "100 B: offset 0",
        "3000 B: MessageSizeTooLargeError",
        "100 B: MessageSizeTooLargeError",
        "100 B: MessageSizeTooLargeError",
    ]


def test_without_idempotence_only_the_refused_record_fails(bootstrap, topic):
    name = topic("not-fatal", configs={"max.message.bytes": "2048"})
    assert demos.sends_after_a_refusal(bootstrap, name, enable_idempotence=False) == [
        "100 B: offset 0",
        "3000 B: MessageSizeTooLargeError",
        "100 B: offset 1",
        "100 B: offset 2",
    ]


def test_max_request_size_refuses_the_record_in_send_and_keeps_the_producer_healthy(
    bootstrap, topic
):
    name = topic("refused-early", configs={"max.message.bytes": "2048"})
    producer = KafkaProducer(bootstrap_servers=bootstrap, max_request_size=2048)
    try:
        with pytest.raises(KafkaError) as raised:
            producer.send(name, b"x" * 3000)
        after = producer.send(name, b"small").get(timeout=10)
    finally:
        producer.close(timeout=5)
    assert type(raised.value).__name__ == "MessageSizeTooLargeError" and after.offset == 0


def test_allow_auto_create_topics_false_does_not_stop_the_broker_creating_a_topic(
    bootstrap, namespace
):
    name = namespace.topic("typo")
    assert name not in kafka_io.list_topics(bootstrap)
    outcome = demos.send_to_missing_topic(bootstrap, name)
    assert outcome == {"producer says": "offset 0", "topic exists now": True}


def test_flush_can_raise_future_not_done_while_kafka_python_splits_a_refused_batch(
    bootstrap, topic
):
    name = topic("split", configs={"max.message.bytes": "2048"})
    producer = KafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False)
    errors = []
    try:
        for _attempt in range(5):  # batching decides whether a split happens: a few tries
            for n in range(8):
                producer.send(name, b"y" * (3000 if n == 3 else 100))
            try:
                producer.flush(timeout=10)
            except KafkaError as error:
                errors.append(type(error).__name__ + ": " + str(error))
                break
    finally:
        for _try in range(5):  # close() flushes too, and may trip over the same split
            try:
                producer.close(timeout=5)
                break
            except KafkaError:
                continue
    assert errors and "Future not done" in errors[0]
