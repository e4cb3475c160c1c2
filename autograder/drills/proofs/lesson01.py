"""Proofs of lesson 01's drills (producer basics): what send() waits for, where its errors
surface, what a producer still holds in memory, and what a serializer makes of ``None``.

Each proof runs lesson 01's own demonstrations (autograder.demos.lesson01) on fresh topics, and
reads the answer back from the broker: end offsets, stored records, stored batches.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from kafka.serializer import JsonSerializer as KafkaPythonJson

from autograder.demos import lesson01 as demos
from autograder.demos.lesson02 import JsonSerializer as JsonDumps
from autograder.drills.proof import Chart, Proof
from autograder.grading import kafka_io
from autograder.grading.namespace import Namespace
from autograder.grading.quiet import grader_busy


def _topic(
    bootstrap: str,
    namespace: Namespace,
    name: str,
    partitions: int = 1,
    configs: dict[str, str] | None = None,
) -> str:
    topic = namespace.topic(name)
    kafka_io.create_topic(bootstrap, topic, partitions, configs)
    return topic


def _stored(bootstrap: str, topic: str) -> int:
    return sum(kafka_io.end_offsets(bootstrap, topic).values())


def crashed_producer_loses_its_buffer(bootstrap: str, namespace: Namespace) -> Proof:
    """A process sends 100 records with linger_ms=5000 and dies before they leave its memory;
    the same with a flush() before the end, for comparison."""
    topics = {ending: _topic(bootstrap, namespace, ending) for ending in ("crash", "flush")}
    # The two child processes run side by side: each spends most of its time starting Python.
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = {
            e: pool.submit(demos.short_lived_producer, bootstrap, t, e) for e, t in topics.items()
        }
        crashed, flushed = runs["crash"].result(), runs["flush"].result()
    observed = 0 if crashed == 0 else 1 if crashed == 100 else 2
    return Proof(
        observed=observed,
        lines=(
            f"sent 100 with linger_ms=5000, then os._exit(): the broker holds {crashed}",
            f"the same, with flush() before os._exit(): the broker holds {flushed}",
        ),
        chart=Chart(
            title="Records on the broker after the process ended",
            x_label="how the process ended",
            y_label="records stored",
            bars={"crash, no flush": crashed, "flush, then crash": flushed},
        ),
    )


def broker_refusal_reaches_only_the_future(bootstrap: str, namespace: Namespace) -> Proof:
    """A keyless record to a compacted topic: send, flush, close raise nothing, the broker
    refuses it, and only an errback hears about it."""
    topic = _topic(bootstrap, namespace, "compacted", configs={"cleanup.policy": "compact"})
    raised = None
    errors: list[BaseException] = []
    # kafka-python logs the refusal as a WARNING; the proof's lines report it instead.
    with grader_busy():
        try:
            demos.send_and_forget(bootstrap, topic, key=None, value=b"42.0")
        except Exception as error:  # the point is whether anything reaches the caller
            raised = type(error).__name__
        demos.send_and_forget(bootstrap, topic, key=None, value=b"42.0", errback=errors.append)
    stored = _stored(bootstrap, topic)
    heard = [type(e).__name__ for e in errors]
    if raised:
        observed = 2
    elif stored:
        observed = 0
    else:
        observed = 1 if heard else 3
    return Proof(
        observed=observed,
        lines=(
            f"send(), flush(), close() without an errback raised {raised or 'nothing'}",
            f"the same with an errback: the errback received {heard or 'nothing'}",
            f"records the compacted topic holds after both sends: {stored}",
            "besides the errback, kafka-python's only trace is a WARNING in its log",
        ),
    )


def oversized_record_raises_in_send(bootstrap: str, namespace: Namespace) -> Proof:
    """A 5,000-byte value through a producer with max_request_size=2048."""
    topic = _topic(bootstrap, namespace, "oversized")
    outcome = demos.try_send_oversized(bootstrap, topic, 5000, 2048)
    stored = _stored(bootstrap, topic)
    if outcome == "MessageSizeTooLargeError":
        observed = 0
    else:
        observed = 1 if stored == 0 else 2
    return Proof(
        observed=observed,
        lines=(
            f"send() of a 5000-byte value with max_request_size=2048 raised: {outcome}",
            f"records on the broker afterwards: {stored}",
        ),
    )


def lingering_records_wait_in_memory(bootstrap: str, namespace: Namespace) -> Proof:
    """A long-lived producer with linger_ms=5000: records on the broker right after 20 sends,
    and after flush()."""
    found = demos.lingering_sends(bootstrap, _topic(bootstrap, namespace, "linger"), count=20)
    return Proof(
        observed=found["right after send"],
        lines=(
            f"right after 20 send() calls with linger_ms=5000 the broker held "
            f"{found['right after send']} of them",
            f"after flush() it held {found['after flush']}",
        ),
        table=tuple({"moment": m, "records on the broker": n} for m, n in found.items()),
    )


def none_value_depends_on_the_serializer(bootstrap: str, namespace: Namespace) -> Proof:
    """value=None for key apple through a json.dumps serializer and through kafka-python's
    JsonSerializer, on a compacted topic; what the broker stored for each."""
    configs = {"cleanup.policy": "compact"}
    dumps = demos.stored_value_of_none(
        bootstrap, _topic(bootstrap, namespace, "dumps", configs=configs), JsonDumps()
    )
    native = demos.stored_value_of_none(
        bootstrap, _topic(bootstrap, namespace, "native", configs=configs), KafkaPythonJson()
    )
    if dumps is None and native is None:
        observed = 0
    elif dumps == b"null" and native == b"null":
        observed = 1
    elif dumps == b"null" and native is None:
        observed = 2
    else:
        observed = 3
    return Proof(
        observed=observed,
        lines=(
            f"json.dumps serializer: the broker stored the value {dumps!r}",
            f"kafka.serializer.JsonSerializer: the broker stored the value {native!r}"
            + (" (no value: a tombstone)" if native is None else ""),
        ),
    )


def waiting_on_each_send_sends_one_batch_each(bootstrap: str, namespace: Namespace) -> Proof:
    """200 sends with future.get() after each, against 200 sends and one flush(); the batches
    the broker stored for each on a one-partition topic."""
    waited = _topic(bootstrap, namespace, "waited")
    flushed = _topic(bootstrap, namespace, "flushed")
    waited_s = demos.time_sends(bootstrap, waited, 200, wait_each=True)
    flushed_s = demos.time_sends(bootstrap, flushed, 200, wait_each=False)
    waited_batches = len(kafka_io.stored_batches(bootstrap, waited))
    flushed_batches = len(kafka_io.stored_batches(bootstrap, flushed))
    return Proof(
        observed=waited_batches,
        lines=(
            f"get() after each of 200 sends: the broker stored {waited_batches} batches "
            f"in {waited_s:.2f} s",
            f"200 sends and one flush(): {flushed_batches} batches in {flushed_s:.2f} s",
        ),
        table=(
            {
                "how": "get() after each send",
                "batches": waited_batches,
                "seconds": round(waited_s, 2),
            },
            {
                "how": "one flush() at the end",
                "batches": flushed_batches,
                "seconds": round(flushed_s, 2),
            },
        ),
        chart=Chart(
            title="Batches stored for 200 records",
            x_label="how the producer waited",
            y_label="batches",
            bars={
                "get() after each send": waited_batches,
                "one flush() at the end": flushed_batches,
            },
        ),
    )


def first_send_fetches_metadata(bootstrap: str, namespace: Namespace) -> Proof:
    """A fresh producer's view of a topic's partitions just before and just after its first
    send()."""
    found = demos.layout_known_around_first_send(bootstrap, _topic(bootstrap, namespace, "first"))
    before, after = found["known before send()"], found["known when send() returned"]
    if not before and after:
        observed = 1
    elif before:
        observed = 0
    else:
        observed = 2
    return Proof(
        observed=observed,
        lines=(
            f"partitions known to the fresh producer before send(): {before}",
            f"partitions known when the first send() returned: {after}",
        ),
    )


PROOFS = {
    "crashed_producer_loses_its_buffer": crashed_producer_loses_its_buffer,
    "broker_refusal_reaches_only_the_future": broker_refusal_reaches_only_the_future,
    "oversized_record_raises_in_send": oversized_record_raises_in_send,
    "lingering_records_wait_in_memory": lingering_records_wait_in_memory,
    "none_value_depends_on_the_serializer": none_value_depends_on_the_serializer,
    "waiting_on_each_send_sends_one_batch_each": waiting_on_each_send_sends_one_batch_each,
    "first_send_fetches_metadata": first_send_fetches_metadata,
}
