"""Lesson 04's demonstrations: acks, retries, duplicates, reordering and failed sends, with real
faults injected by the course's fault proxy (autograder.faults). Every producer is closed and
every fault undone before a function returns, also when it raises."""

from __future__ import annotations

import time
from collections import Counter

from kafka import KafkaProducer
from kafka.errors import KafkaError

from autograder.faults import fault_proxy
from autograder.grading import kafka_io
from autograder.grading.quiet import grader_busy

FAST = {"request_timeout_ms": 2000, "max_block_ms": 5000}  # a fault shows in seconds, not 30


def _outcome(future, timeout_s: float = 10) -> str:
    """What a future says: 'offset N' or the error's class name."""
    try:
        return f"offset {future.get(timeout=timeout_s).offset}"
    except KafkaError as error:
        return type(error).__name__


def _count(bootstrap: str, topic: str) -> int:
    return sum(kafka_io.end_offsets(bootstrap, topic).values())


def acks_answers(bootstrap: str, topic: str) -> dict[str, str]:
    """Send one record with acks=0, 1 and 'all': what each producer learns about it."""
    answers = {}
    for acks in (0, 1, "all"):
        producer = KafkaProducer(
            bootstrap_servers=bootstrap, acks=acks, enable_idempotence=acks == "all", **FAST
        )
        try:
            future = producer.send(topic, b"acks %s" % str(acks).encode())
            answers[f"acks={acks}"] = _outcome(future)
        finally:
            producer.close(timeout=5)
    return answers


def acks_with_a_lost_request(bootstrap: str, topic: str, acks) -> dict[str, object]:
    """One record through a connection that breaks before the request reaches the broker."""
    before = _count(bootstrap, topic)
    with fault_proxy(bootstrap) as proxy, grader_busy():
        producer = KafkaProducer(
            bootstrap_servers=proxy.bootstrap, acks=acks, enable_idempotence=False, **FAST
        )
        try:
            producer.partitions_for(topic)  # connect and learn the topic first
            with proxy.lose_requests("Produce", count=1) as fault:
                said = _outcome(producer.send(topic, b"maybe"))
                producer.flush(timeout=10)
                # acks=0: the future is done once the request is handed to the socket, perhaps
                # before the proxy read it; keep the fault on until it struck.
                deadline = time.monotonic() + 3
                while not fault.fired and time.monotonic() < deadline:
                    time.sleep(0.02)
        finally:
            producer.close(timeout=5)
    return {
        "producer says": said,
        "requests lost": fault.fired,
        "records on the broker": _count(bootstrap, topic) - before,
    }


def retries_after_lost_responses(
    bootstrap: str, topic: str, enable_idempotence: bool, count: int = 10, lost: int = 2, **settings
) -> dict[str, int]:
    """Send ``count`` records while the broker's first ``lost`` answers never arrive.

    The records are sent as one batch (a long linger, then flush), so every try carries all of
    them: without idempotence each record is stored once per try, ``lost + 1`` times, however
    fast or slow the machine is.
    """
    before = _count(bootstrap, topic)
    with fault_proxy(bootstrap) as proxy, grader_busy():
        producer = KafkaProducer(
            bootstrap_servers=proxy.bootstrap,
            enable_idempotence=enable_idempotence,
            **{"linger_ms": 10_000, **FAST, **settings},
        )
        try:
            producer.partitions_for(topic)
            with proxy.drop_responses("Produce", count=lost) as fault:
                futures = [
                    producer.send(topic, key=b"payment-%d" % n, value=b"%d" % n)
                    for n in range(count)
                ]
                producer.flush(timeout=30)  # ships the one batch now, waits for every try
            delivered = sum(1 for f in futures if _outcome(f).startswith("offset"))
        finally:
            producer.close(timeout=5)
    return {
        "sent": count,
        "delivered, says the producer": delivered,
        "answers lost": fault.fired,
        "records on the broker": _count(bootstrap, topic) - before,
    }


def copies_per_value(bootstrap: str, topic: str) -> dict[str, int]:
    """value -> how many records in the topic carry it."""
    counts = Counter(r.value_text for r in kafka_io.read_all(bootstrap, topic))
    return dict(sorted(counts.items(), key=lambda item: int(item[0])))


def producer_state(bootstrap: str, topic: str) -> dict[int, list[dict]]:
    """partition -> the producer ids, epochs and last sequence numbers the broker tracks."""
    return kafka_io.active_producers(bootstrap, topic)


def order_after_a_failed_request(
    bootstrap: str,
    topic: str,
    events: int = 8,
    overtakers: int = 4,
    hold_s: float = 1.0,
    **settings,
) -> list[int]:
    """Send ``events`` records of one key while the request carrying record 0 is refused
    (NOT_ENOUGH_REPLICAS, answered ``hold_s`` after it reached the proxy); the order the broker
    stored them in.

    No pacing by the clock: record 0 goes out alone, records 1 to ``overtakers`` follow once
    the proxy holds its request, and the rest once record 0's fate is settled. A producer that
    may overtake its own retry writes 1 to ``overtakers`` while record 0 waits; if the broker
    does not have them all before the refusal is answered (a very slow machine), the demo
    says so and the order shows what did happen.
    """
    with fault_proxy(bootstrap) as proxy, grader_busy():
        producer = KafkaProducer(bootstrap_servers=proxy.bootstrap, **FAST, **settings)
        try:
            producer.partitions_for(topic)
            before = _count(bootstrap, topic)
            with proxy.fail_requests("Produce", count=1, after_s=hold_s) as fault:
                first = producer.send(topic, key=b"account-7", value=b"0")
                _wait_until(lambda: fault.fired == 1, hold_s + 5)
                for n in range(1, overtakers + 1):
                    producer.send(topic, key=b"account-7", value=b"%d" % n)
                # Overtakers are written at once, or (one batch at a time) not before record 0.
                _wait_until(  # asks the broker: every 50 ms is plenty
                    lambda: first.is_done or _count(bootstrap, topic) - before >= overtakers,
                    hold_s,
                    every_s=0.05,
                )
                overtook = _count(bootstrap, topic) - before
                first.get(timeout=20)
                for n in range(overtakers + 1, events):
                    producer.send(topic, key=b"account-7", value=b"%d" % n)
                producer.flush(timeout=20)
        finally:
            producer.close(timeout=5)
    order = [int(r.value_text) for r in kafka_io.read_all(bootstrap, topic)]
    if 0 < overtook < overtakers and order.index(0) >= overtook:
        print(
            f"(only {overtook} of records 1-{overtakers} reached the broker within "
            f"{hold_s:g} s while record 0 was held: a busy machine; run the cell again)"
        )
    return order


def _wait_until(condition, timeout_s: float, every_s: float = 0.01) -> bool:
    """Poll ``condition`` every ``every_s`` until it holds or ``timeout_s`` passes; whether it
    held."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(every_s)
    return True


def acks_0_offsets(bootstrap: str, topic: str, count: int = 5) -> dict[str, list[int]]:
    """Send ``count`` records in one batch with acks=0: the offsets the producer reports, and
    the offsets the broker really gave them."""
    before = _count(bootstrap, topic)
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks=0, enable_idempotence=False, linger_ms=10_000, **FAST
    )
    try:
        futures = [producer.send(topic, b"acks0 %d" % n) for n in range(count)]
        producer.flush(timeout=10)  # one batch: the linger keeps the records together
        said = [f.get(timeout=10).offset for f in futures]
    finally:
        producer.close(timeout=5)
    _wait_until(lambda: _count(bootstrap, topic) >= before + count, 10, every_s=0.1)
    stored = [r.offset for r in kafka_io.read_all(bootstrap, topic) if r.offset >= before]
    return {"producer says": said, "the broker stored them at": stored}


def requests_in_flight(bootstrap: str, topic: str, events: int = 12, **settings) -> int:
    """The most Produce requests one connection had waiting for answers, for one partition."""
    with fault_proxy(bootstrap) as proxy, grader_busy():
        # Answers are held for a second below: give them longer than FAST's 2 s to come.
        patient = {**FAST, "request_timeout_ms": 10_000}
        producer = KafkaProducer(
            bootstrap_servers=proxy.bootstrap, batch_size=1, **patient, **settings
        )
        try:
            producer.partitions_for(topic)
            # Answers held back, so a fast broker cannot empty the pipeline before the producer
            # fills it: it sends all it allows itself, then stops until answers come.
            with proxy.withhold_responses("Produce"):
                for n in range(events):
                    producer.send(topic, value=b"%d" % n)
                _wait_until_steady(lambda: proxy.max_in_flight["Produce"])
            producer.flush(timeout=20)
        finally:
            producer.close(timeout=5)
    return proxy.max_in_flight["Produce"]


def _wait_until_steady(reading, quiet_s: float = 0.7, deadline_s: float = 10.0) -> None:
    """Wait until ``reading()`` has not grown for ``quiet_s`` (or the deadline passed)."""
    last, since = reading(), time.monotonic()
    stop_at = since + deadline_s
    while time.monotonic() < stop_at and time.monotonic() - since < quiet_s:
        time.sleep(0.05)
        now = reading()
        if now != last:
            last, since = now, time.monotonic()


def idempotence_in_effect(bootstrap: str, **settings) -> bool:
    """Whether a producer created with ``settings`` really is idempotent."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, **settings)
    try:
        return bool(producer.config["enable_idempotence"])
    finally:
        producer.close(timeout=5)


def timed_out_send(bootstrap: str, topic: str, delivery_timeout_ms: int = 2500) -> dict:
    """One send while the broker's answers are held back: what the producer reports, when,
    and what the broker holds."""
    before = _count(bootstrap, topic)
    with fault_proxy(bootstrap) as proxy, grader_busy():
        producer = KafkaProducer(
            bootstrap_servers=proxy.bootstrap,
            request_timeout_ms=1000,
            delivery_timeout_ms=delivery_timeout_ms,
        )
        try:
            producer.partitions_for(topic)
            with proxy.withhold_responses("Produce"):
                started = time.monotonic()
                said = _outcome(producer.send(topic, b"late"), timeout_s=15)
                waited = time.monotonic() - started
        finally:
            producer.close(timeout=5)
    return {
        "producer says": said,
        "after (s)": round(waited, 1),
        "records on the broker": _count(bootstrap, topic) - before,
    }


def sends_after_a_refusal(bootstrap: str, topic: str, enable_idempotence: bool) -> list[str]:
    """Small, too large (3 KB against a topic's 2 KB limit), small, small: each send's outcome,
    waited on one by one."""
    sizes = (100, 3000, 100, 100)
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=enable_idempotence, **FAST
    )
    outcomes = []
    try:
        with grader_busy():
            for size in sizes:
                outcomes.append(f"{size} B: " + _outcome(producer.send(topic, b"x" * size)))
    finally:
        producer.close(timeout=5)
    return outcomes


def send_to_missing_topic(bootstrap: str, name: str) -> dict[str, object]:
    """Send to a topic that does not exist with allow_auto_create_topics=False."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, allow_auto_create_topics=False, max_block_ms=3000
    )
    try:
        with grader_busy():
            try:
                future = producer.send(name, b"typo")
            except KafkaError as error:  # no metadata within max_block_ms: send() itself raises
                said = f"send() raised {type(error).__name__}"
            else:
                said = _outcome(future)
    finally:
        producer.close(timeout=5)
    return {"producer says": said, "topic exists now": name in kafka_io.list_topics(bootstrap)}


def plot_stored_order(orders: dict[str, list[int]]) -> None:
    """One panel per producer: record number (send order) against its place in the partition."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(
        1, len(orders), figsize=(3.2 * len(orders), 2.8), sharey=True, squeeze=False
    )
    for axis, (label, order) in zip(axes[0], orders.items(), strict=True):
        in_place = [number == place for place, number in enumerate(order)]
        axis.scatter(
            range(len(order)), order, c=["#1a7f37" if ok else "#b42318" for ok in in_place]
        )
        axis.plot([0, len(order) - 1], [0, len(order) - 1], color="#999", linewidth=0.8)
        axis.set_title(label, fontsize=9)
        axis.set_xlabel("place in the partition (offset order)")
    axes[0, 0].set_ylabel("record number (send order)")
    figure.tight_layout()
    plt.show()
