"""Proofs of lesson 04's drills (reliability): what acks, retries, idempotence and in-flight
requests do to a record when the network fails, shown through the course's fault proxy.

Each proof runs one or two of lesson 04's own demonstrations (autograder.demos.lesson04) on
fresh one-partition topics, so what the drill claims is what the lesson shows.
"""

from __future__ import annotations

import time
from collections import Counter

from kafka import KafkaProducer
from kafka.errors import KafkaConfigurationError

from autograder.demos import lesson04 as demos
from autograder.drills.proof import Chart, Proof
from autograder.faults import fault_proxy
from autograder.grading import kafka_io
from autograder.grading.namespace import Namespace
from autograder.grading.quiet import grader_busy


def _topic(bootstrap: str, namespace: Namespace, name: str, partitions: int = 1) -> str:
    topic = namespace.topic(name)
    kafka_io.create_topic(bootstrap, topic, partitions)
    return topic


def _in_order(order: list[int]) -> bool:
    return order == sorted(order)


def order_needs_a_key_and_idempotence(bootstrap: str, namespace: Namespace) -> Proof:
    """One account's events: a key keeps them in one partition, and only idempotence keeps a
    refused-then-retried batch from landing behind the ones sent after it."""
    spread = _topic(bootstrap, namespace, "accounts", partitions=3)
    kafka_io.append_keyed(bootstrap, spread, [("account-7", b"%d" % n) for n in range(12)])
    partitions = sorted({r.partition for r in kafka_io.read_all(bootstrap, spread)})
    plain = demos.order_after_a_failed_request(
        bootstrap,
        _topic(bootstrap, namespace, "order-plain"),
        enable_idempotence=False,
    )
    kept = demos.order_after_a_failed_request(bootstrap, _topic(bootstrap, namespace, "order-kept"))
    if len(partitions) > 1:
        observed = 3  # a key did not pin the account to one partition
    elif _in_order(plain):
        observed = 1  # the key alone was enough: retries did not reorder
    else:
        observed = 0 if _in_order(kept) else 2
    return Proof(
        observed=observed,
        lines=(
            f"12 events keyed account-7 into a 3-partition topic all went to partition(s) "
            f"{partitions}",
            f"idempotence off, 5 requests in flight, record 0 refused once: stored as {plain}",
            f"idempotence on (the default), same fault: stored as {kept}",
        ),
        chart=Chart(
            title="Send order against stored order, one key, record 0 refused once",
            x_label="place in the partition (offset order)",
            y_label="record number (send order)",
            series={
                "idempotence off": tuple(enumerate(plain)),
                "idempotence on": tuple(enumerate(kept)),
            },
        ),
    )


def refused_record_is_overtaken(bootstrap: str, namespace: Namespace) -> Proof:
    """Idempotence off, five requests in flight: a refused first request is retried behind the
    requests sent while it waited."""
    order = demos.order_after_a_failed_request(
        bootstrap,
        _topic(bootstrap, namespace, "overtaken"),
        enable_idempotence=False,
    )
    place = order.index(0) if 0 in order else -1
    if place < 0:
        observed = 3
    elif order.count(0) > 1:
        observed = 2
    else:
        observed = 0 if place == 0 else 1
    return Proof(
        observed=observed,
        lines=(
            "records 0-7 of key account-7 sent with enable_idempotence=False; the request with "
            "record 0 was refused once (NOT_ENOUGH_REPLICAS) and retried",
            f"the partition holds them in the order {order}: record 0 at offset {place}",
        ),
        table=tuple({"offset": n, "record": value} for n, value in enumerate(order)),
    )


def lost_answers_store_copies(bootstrap: str, namespace: Namespace) -> Proof:
    """Ten records in one batch, idempotence off, the broker's first two answers lost."""
    topic = _topic(bootstrap, namespace, "payments-plain")
    outcome = demos.retries_after_lost_responses(bootstrap, topic, enable_idempotence=False)
    copies = Counter(demos.copies_per_value(bootstrap, topic).values())
    stored = outcome["records on the broker"]
    return Proof(
        observed=stored,
        lines=(
            f"{outcome['sent']} records sent as one batch; {outcome['answers lost']} answers "
            f"lost; the producer says {outcome['delivered, says the producer']} delivered",
            f"the topic holds {stored} records; copies per value: "
            + ", ".join(f"{n} values {times}x" for times, n in sorted(copies.items())),
        ),
        chart=Chart(
            title="Records sent and records stored, idempotence off",
            x_label="",
            y_label="records",
            bars={"sent": outcome["sent"], "stored": stored},
        ),
    )


def idempotent_retry_is_stored_once(bootstrap: str, namespace: Namespace) -> Proof:
    """The same lost answers with enable_idempotence=True: each record once, and the producer
    id and last sequence number the broker tracks."""
    topic = _topic(bootstrap, namespace, "payments-idempotent")
    outcome = demos.retries_after_lost_responses(bootstrap, topic, enable_idempotence=True)
    copies = set(demos.copies_per_value(bootstrap, topic).values())
    tracked = demos.producer_state(bootstrap, topic).get(0, [])
    stored = outcome["records on the broker"]
    if stored == outcome["sent"] and copies == {1}:
        observed = 0
    elif stored == 0:
        observed = 3
    else:
        observed = 1 if stored == 3 * outcome["sent"] else 2
    return Proof(
        observed=observed,
        lines=(
            f"{outcome['sent']} records, {outcome['answers lost']} answers lost, "
            f"enable_idempotence=True: the topic holds {stored} records",
            f"the broker tracks {len(tracked)} producer id(s) on partition 0: "
            + ", ".join(
                f"id {p['producer_id']}, epoch {p['epoch']}, last sequence {p['last_sequence']}"
                for p in tracked
            ),
        ),
    )


def acks_1_switches_idempotence_off(bootstrap: str, namespace: Namespace) -> Proof:
    """What kafka-python 3 makes of acks=1 with enable_idempotence left alone, and with it set."""
    default = demos.idempotence_in_effect(bootstrap)
    try:
        with grader_busy():  # kafka-python's warning about turning idempotence off
            with_acks_1: bool | None = demos.idempotence_in_effect(bootstrap, acks=1)
    except KafkaConfigurationError:
        with_acks_1 = None
    try:
        demos.idempotence_in_effect(bootstrap, acks=1, enable_idempotence=True)
        explicit = "accepted"
    except KafkaConfigurationError as error:  # asking for both is a conflict it refuses
        explicit = f"refused: {type(error).__name__}"
    if with_acks_1 is None:
        observed = 0  # acks=1 alone was refused
    elif with_acks_1:
        observed = 3  # still idempotent with acks=1
    else:
        observed = 1 if explicit.startswith("refused") else -1
    return Proof(
        observed=observed,
        lines=(
            f"defaults: idempotent = {default}; acks=1 alone: idempotent = {with_acks_1}",
            f"acks=1 with enable_idempotence=True: {explicit}",
        ),
    )


def timed_out_send_was_written(bootstrap: str, namespace: Namespace) -> Proof:
    """Every answer withheld, request_timeout_ms=1000, delivery_timeout_ms=2500."""
    outcome = demos.timed_out_send(bootstrap, _topic(bootstrap, namespace, "timeout"))
    failed = not str(outcome["producer says"]).startswith("offset")
    stored = outcome["records on the broker"]
    if failed:
        observed = 1 if stored else 0
    else:
        observed = 2
    return Proof(
        observed=observed,
        lines=(
            f"the producer said {outcome['producer says']} after {outcome['after (s)']} s",
            f"the broker holds {stored} record(s) from that send",
        ),
    )


def acks_0_loses_silently(bootstrap: str, namespace: Namespace) -> Proof:
    """One record with acks=0 through a connection that breaks before the request arrives."""
    outcome = demos.acks_with_a_lost_request(bootstrap, _topic(bootstrap, namespace, "acks0"), 0)
    succeeded = str(outcome["producer says"]).startswith("offset")
    stored = outcome["records on the broker"]
    if succeeded:
        observed = 0 if stored == 0 else 2
    else:
        observed = 1
    return Proof(
        observed=observed,
        lines=(
            f"acks=0, {outcome['requests lost']} Produce request lost on the way: the future "
            f"says {outcome['producer says']}",
            f"the broker holds {stored} record(s)",
        ),
    )


def _requests_sent_unanswered(bootstrap: str, topic: str, events: int = 12, **settings) -> int:
    """How many Produce requests a producer sends before it stops to wait for answers: the
    requests it lets one connection have in flight. ``events`` one-record batches go to one
    partition while the proxy holds every answer back.

    Counted as the requests the proxy forwarded while no answer came back, not with
    demos.requests_in_flight's proxy-side count, which drops a request as soon as the broker
    has answered it (held back or not), so a fast broker can make it read 3 or 4 instead of 5.
    It waits until that count reaches the producer's own limit (then 0.3 s more, in case it
    goes past), or has not grown for 1.5 s, at most 8 s.
    """
    sent = ("Produce", "forwarded")
    with fault_proxy(bootstrap) as proxy, grader_busy():
        producer = KafkaProducer(
            bootstrap_servers=proxy.bootstrap,
            batch_size=1,  # one record per batch, so each send is its own request
            request_timeout_ms=10_000,  # longer than the answers are held back
            max_block_ms=5000,
            **settings,
        )
        try:
            producer.partitions_for(topic)
            limit = producer.config["max_in_flight_requests_per_connection"]
            with proxy.withhold_responses("Produce"):
                before = proxy.counts[sent]
                for n in range(events):
                    producer.send(topic, value=b"%d" % n)
                last, since = 0, time.monotonic()
                stop_at = since + 8
                while time.monotonic() < stop_at and time.monotonic() - since < 1.5:
                    now = proxy.counts[sent] - before
                    if now != last:
                        last, since = now, time.monotonic()
                    if now >= limit:
                        time.sleep(0.3)
                        break
                    time.sleep(0.05)
                unanswered = proxy.counts[sent] - before
            producer.flush(timeout=20)
        finally:
            producer.close(timeout=5)
    return unanswered


def in_flight_without_idempotence(bootstrap: str, namespace: Namespace) -> Proof:
    """The most Produce requests waiting for answers on one connection, idempotence off."""
    most = _requests_sent_unanswered(
        bootstrap, _topic(bootstrap, namespace, "inflight"), enable_idempotence=False
    )
    return Proof(
        observed=most,
        lines=(
            "12 one-record batches to one partition while the broker's answers were held back, "
            "enable_idempotence=False, max_in_flight_requests_per_connection left at its default",
            f"the producer sent {most} Produce requests, then waited: none of them was answered",
        ),
    )


PROOFS = {
    "order_needs_a_key_and_idempotence": order_needs_a_key_and_idempotence,
    "refused_record_is_overtaken": refused_record_is_overtaken,
    "lost_answers_store_copies": lost_answers_store_copies,
    "idempotent_retry_is_stored_once": idempotent_retry_is_stored_once,
    "acks_1_switches_idempotence_off": acks_1_switches_idempotence_off,
    "timed_out_send_was_written": timed_out_send_was_written,
    "acks_0_loses_silently": acks_0_loses_silently,
    "in_flight_without_idempotence": in_flight_without_idempotence,
}
