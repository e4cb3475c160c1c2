"""Lesson 05's demonstrations: where a new group starts, how much one poll returns, assign
against subscribe, and how one group's members share a topic's partitions.

Every function here closes every consumer it creates before it returns, even when something
inside raises, so no group is left with stray members.
"""

from __future__ import annotations

import functools
import html
import json
import logging
import threading
import time
from contextlib import contextmanager
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, OffsetAndMetadata, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import MemberState

from autograder.grading import kafka_io
from autograder.grading.exercises.orders import make_orders
from autograder.grading.quiet import grader_busy

# A member notices a new partner at its next heartbeat: 500 ms instead of kafka-python's
# 3000 ms keeps a group's first sharing-out under a second.
FAST_HEARTBEAT = {"heartbeat_interval_ms": 500, "session_timeout_ms": 6000}


def _calm(function):
    """Hide kafka-python's "Task ... is blocking the event loop" warnings while ``function``
    runs: on a busy machine its IO threads trip that timer, and it says nothing about Kafka."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        logger = logging.getLogger("kafka.net.selector")
        saved = logger.level
        logger.setLevel(logging.ERROR)
        try:
            return function(*args, **kwargs)
        finally:
            logger.setLevel(saved)

    return wrapper


@contextmanager
def _consumer(bootstrap: str, **settings):
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, **settings)
    try:
        yield consumer
    finally:
        consumer.close()


def _subscribe(consumer: KafkaConsumer, topic: str) -> None:
    consumer.subscribe([topic])
    # A metadata refresh right after subscribing, before the first poll joins the group: a
    # leader that assigns without knowing the topic's partitions hands out nothing, logs "No
    # partition metadata", and makes the whole group join again once it learns them; with
    # several members in one process, kafka-python 3.0.12 can leave one stuck in that rejoin.
    consumer.topics()


def fill_orders(bootstrap: str, topic: str, count: int, seed: str = "shop") -> int:
    """Send ``count`` JSON orders keyed by customer; return how many the broker acknowledged."""
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    try:
        futures = [
            producer.send(topic, key=order["customer"].encode(), value=json.dumps(order).encode())
            for order in make_orders(seed, count)
        ]
        producer.flush(timeout=10)
        return sum(1 for future in futures if future.succeeded())
    finally:
        producer.close(timeout=5)


def _send_values(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    try:
        for value in values:
            producer.send(topic, value=value)
        producer.flush(timeout=10)
    finally:
        producer.close(timeout=5)


@_calm
def first_read_of_a_new_group(
    bootstrap: str, topic: str, group: str, reset: str, late: int = 5, deadline_s: float = 8.0
) -> dict:
    """A brand-new group joins ``topic`` with ``auto_offset_reset=reset`` and reads to the end;
    then ``late`` more records are sent and it reads on. How many of the records already there,
    and of the late ones, it read (or the error it got)."""
    with _consumer(
        bootstrap,
        group_id=group,
        auto_offset_reset=reset,
        enable_auto_commit=False,
        **FAST_HEARTBEAT,
    ) as consumer:
        _subscribe(consumer, topic)
        stop_at = time.monotonic() + deadline_s
        try:
            early = read_to_end(consumer, stop_at)
        except KafkaError as error:
            return {"auto_offset_reset": reset, "error": type(error).__name__}
        _send_values(bootstrap, topic, [b"late %d" % n for n in range(late)])
        records = early + read_to_end(consumer, stop_at)
    new = sum(1 for r in records if r.value.startswith(b"late "))
    return {
        "auto_offset_reset": reset,
        "records already there": len(records) - new,
        "records sent after joining": new,
    }


def read_to_end(consumer: KafkaConsumer, stop_at: float) -> list:
    """Poll until the consumer has partitions and its position has reached the end offset of
    each, or until ``stop_at`` (a time.monotonic() deadline); every record read."""
    records: list = []
    while time.monotonic() < stop_at:
        for batch in consumer.poll(timeout_ms=200).values():
            records += batch
        assigned = list(consumer.assignment())
        if not assigned:
            continue
        ends = consumer.end_offsets(assigned)
        if all(consumer.position(tp) >= ends[tp] for tp in assigned):
            break
    return records


class _Collected(logging.Handler):
    """Keeps the messages of the log records it is handed."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@_calm
def reset_past_the_end(
    bootstrap: str, topic: str, group: str, past: int = 1000, deadline_s: float = 10.0
) -> dict:
    """Commit offset ``past`` (beyond the end of partition 0) for ``group``, then start a
    consumer of the group with ``auto_offset_reset='earliest'``: where does it read from?"""
    tp = TopicPartition(topic, 0)
    # grader_busy: closing a consumer straight after its commit cancels a metadata refresh,
    # which kafka-python logs as an error although nothing went wrong.
    with grader_busy(), _consumer(bootstrap, group_id=group, enable_auto_commit=False) as consumer:
        consumer.assign([tp])  # the group is empty, so the broker takes this commit
        consumer.commit({tp: OffsetAndMetadata(past, "", -1)})
    first = None
    with _consumer(
        bootstrap, group_id=group, auto_offset_reset="earliest", enable_auto_commit=False
    ) as consumer:
        consumer.assign([tp])
        stop_at = time.monotonic() + deadline_s
        while first is None and time.monotonic() < stop_at:
            for batch in consumer.poll(timeout_ms=200, max_records=1).values():
                first = batch[0].offset
    return {
        "committed offset": past,
        "end offset": kafka_io.end_offsets(bootstrap, topic)[0],
        "first offset read (earliest)": first,
    }


@_calm
def unknown_reset_value(bootstrap: str, topic: str, group: str, reset: str) -> dict:
    """A brand-new group with an ``auto_offset_reset`` kafka-python does not know: what it logs,
    and what the first read does."""
    collected = _Collected()
    logger = logging.getLogger("kafka.consumer.subscription_state")
    logger.addHandler(collected)
    try:
        with (
            grader_busy(),
            _consumer(
                bootstrap, group_id=group, auto_offset_reset=reset, enable_auto_commit=False
            ) as consumer,
        ):
            consumer.assign([TopicPartition(topic, 0)])
            try:
                read_to_end(consumer, time.monotonic() + 8)
                outcome = "read without an error"
            except KafkaError as error:
                outcome = type(error).__name__
    finally:
        logger.removeHandler(collected)
    return {
        "auto_offset_reset": reset,
        "kafka-python logged": collected.messages,
        "first read": outcome,
    }


def _end_total(bootstrap: str, topic: str) -> int:
    return sum(kafka_io.end_offsets(bootstrap, topic).values())


@_calm
def restart_after_commit(
    bootstrap: str, topic: str, group: str, first_read: int, deadline_s: float = 8.0
) -> dict:
    """A group reads ``first_read`` records, commits and closes; a second consumer of the same
    group then starts with ``auto_offset_reset='latest'``. Where does it start?"""
    with _consumer(
        bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=first_read,
        **FAST_HEARTBEAT,
    ) as consumer:
        _subscribe(consumer, topic)
        stop_at = time.monotonic() + deadline_s
        got = 0
        while got == 0 and time.monotonic() < stop_at:
            got = sum(len(b) for b in consumer.poll(timeout_ms=200).values())
        consumer.commit()
    with _consumer(
        bootstrap,
        group_id=group,
        auto_offset_reset="latest",
        enable_auto_commit=False,
        **FAST_HEARTBEAT,
    ) as consumer:
        _subscribe(consumer, topic)
        rest = read_to_end(consumer, time.monotonic() + deadline_s)
    return {
        "first consumer read": got,
        "second consumer (latest) read": len(rest),
        "records in the topic": _end_total(bootstrap, topic),
    }


@_calm
def poll_sizes(
    bootstrap: str, topic: str, max_poll_records: int, deadline_s: float = 8.0
) -> list[int]:
    """Read the whole topic with ``max_poll_records``; how many records each non-empty poll
    returned."""
    sizes = []
    with _consumer(
        bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=max_poll_records,
    ) as consumer:
        numbers = sorted(consumer.partitions_for_topic(topic))
        partitions = [TopicPartition(topic, p) for p in numbers]
        consumer.assign(partitions)
        ends = consumer.end_offsets(partitions)
        stop_at = time.monotonic() + deadline_s
        while time.monotonic() < stop_at:
            if all(consumer.position(tp) >= ends[tp] for tp in partitions):
                break
            got = sum(len(batch) for batch in consumer.poll(timeout_ms=200).values())
            if got:
                sizes.append(got)
    return sizes


def group_member_count(bootstrap: str, group: str) -> int:
    """How many members the broker lists in ``group`` right now."""
    return len(describe_group(bootstrap, group)["members"])


def describe_group(bootstrap: str, group: str) -> dict:
    """The broker's view of ``group``: its state and, per member, the client id and the
    partitions assigned to it."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        described = admin.describe_groups([group])[group]
    finally:
        admin.close()
    members = []
    for member in described["members"]:
        assignment = member.get("member_assignment") or {}
        partitions = sorted(
            p
            for entry in (assignment.get("assigned_partitions") or [])
            for p in entry["partitions"]
        )
        members.append({"client_id": member["client_id"], "partitions": partitions})
    return {
        "state": described["group_state"],
        "members": sorted(members, key=lambda m: m["client_id"]),
    }


@_calm
def assigned_read(
    bootstrap: str, topic: str, partition: int, group: str, deadline_s: float = 8.0
) -> dict:
    """Read one partition with assign() (group id set, for committing): what was read, and how
    many members the broker lists in the group while the consumer reads."""
    with _consumer(
        bootstrap, group_id=group, auto_offset_reset="earliest", enable_auto_commit=False
    ) as consumer:
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        end = consumer.end_offsets([tp])[tp]
        records: list = []
        stop_at = time.monotonic() + deadline_s
        while consumer.position(tp) < end and time.monotonic() < stop_at:
            for batch in consumer.poll(timeout_ms=200).values():
                records += batch
        members = group_member_count(bootstrap, group)
    return {
        "partitions read": sorted({r.partition for r in records}),
        "records": len(records),
        "members the broker lists": members,
    }


@_calm
def share_partitions(
    bootstrap: str, topic: str, group: str, members: int, orders: int = 30, deadline_s: float = 60.0
) -> list[dict]:
    """Start ``members`` consumers of one group in threads; once they have shared out the
    partitions, send ``orders`` orders and let each member read what it was given. ``topic``
    should start empty, so that every record is read in the final sharing-out.

    Ends when the members have read every order, all settled in one generation of the group,
    and the broker lists the group as Stable with all of them: on an idle machine within a few
    seconds, on a busy one later. If that has not happened after ``deadline_s``, it prints what
    it was still waiting for and returns the rows as they stood. One row per member: its name,
    the partitions it holds (its own view and the broker's) and the records it read.
    Every consumer is closed before this returns, whatever happens.
    """
    stop = threading.Event()
    # One table row per member, of mixed value types; the member threads update them in place.
    rows: list[dict[str, Any]] = [
        {"member": f"member-{n + 1}", "partitions": [], "records read": 0} for n in range(members)
    ]
    generation: list[int | None] = [None] * members  # None while joining or rebalancing
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            with _consumer(
                bootstrap,
                group_id=group,
                client_id=rows[n]["member"],
                auto_offset_reset="earliest",
                enable_auto_commit=False,
                **FAST_HEARTBEAT,
            ) as consumer:
                _subscribe(consumer, topic)
                while not stop.is_set():
                    for batch in consumer.poll(timeout_ms=100).values():
                        rows[n]["records read"] += len(batch)
                    membership = consumer.group_metadata()
                    rows[n]["partitions"] = sorted(tp.partition for tp in consumer.assignment())
                    generation[n] = (
                        membership.generation_id if membership.state == MemberState.STABLE else None
                    )
        except BaseException as error:  # handed to the caller, never lost in a thread
            errors.append(error)

    def settled() -> dict | None:
        """The broker's view once every member is stable in one generation, else None."""
        if len(set(generation)) != 1 or generation[0] is None:
            return None
        view = describe_group(bootstrap, group)
        stable = view["state"] == "Stable" and len(view["members"]) == members
        return view if stable else None

    threads = [threading.Thread(target=run, args=(n,), daemon=True) for n in range(members)]
    broker_view: dict = {"members": []}
    sent = False
    try:
        for thread in threads:
            thread.start()
        stop_at = time.monotonic() + deadline_s
        while time.monotonic() < stop_at and not errors:
            time.sleep(0.1)
            if not sent and settled():
                fill_orders(bootstrap, topic, orders)
                sent = True
            elif sent and sum(row["records read"] for row in rows) >= orders:
                broker_view = settled() or broker_view
                if broker_view["members"]:
                    break
        else:
            if not errors:
                print(_still_waiting(members, sent, rows, orders, deadline_s))
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
    if errors:
        raise errors[0]
    held = {m["client_id"]: m["partitions"] for m in broker_view["members"]}
    for row in rows:
        row["broker says"] = held.get(row["member"])
    return rows


def _still_waiting(
    members: int, sent: bool, rows: list[dict], orders: int, deadline_s: float
) -> str:
    """The sentence printed when share_partitions' deadline passes."""
    if not sent:
        waited_for = f"the {members} members to settle in one generation of the group"
    else:
        read = sum(row["records read"] for row in rows)
        waited_for = f"the members to read all {orders} orders ({read} read) in a stable group"
    return (
        f"Still waiting after {deadline_s:.0f} s for {waited_for}; the machine is busy. "
        "The rows below are as they stood. Run the cell again."
    )


def draw_assignment(rows: list[dict], partitions: int, ax=None):
    """A members x partitions grid: a filled cell where the member holds the partition."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(1.2 + 0.9 * partitions, 0.6 + 0.45 * len(rows)))
    for y, row in enumerate(rows):
        for p in range(partitions):
            held = p in row["partitions"]
            ax.add_patch(plt.Rectangle((p, y), 0.9, 0.8, color="#2b6cb0" if held else "#e2e8f0"))
            if held:
                ax.text(p + 0.45, y + 0.4, f"P{p}", ha="center", va="center", color="white")
        if not row["partitions"]:
            ax.text(partitions + 0.1, y + 0.4, "idle", va="center", color="#b42318")
    ax.set_xlim(0, partitions + 0.8)
    ax.set_ylim(len(rows), -0.2)
    ax.set_yticks([y + 0.4 for y in range(len(rows))], [r["member"] for r in rows])
    ax.set_xticks(
        [p + 0.45 for p in range(partitions)], [f"partition {p}" for p in range(partitions)]
    )
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    return ax


def table(rows: list[dict]):
    """Rows of dicts shown as an HTML table in a notebook (plain text elsewhere)."""
    from IPython.display import HTML

    columns = list(dict.fromkeys(key for row in rows for key in row))
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(row.get(c, '')))}</td>" for c in columns) + "</tr>"
        for row in rows
    )
    return HTML(f"<table><tr>{head}</tr>{body}</table>")


def group_progress(bootstrap: str, topic: str, group: str) -> list[dict]:
    """Per partition of ``topic``: the group's committed offset and the end offset."""
    committed = kafka_io.committed_offsets(bootstrap, group)
    return [
        {"partition": p, "committed": committed.get((topic, p)), "end offset": end}
        for p, end in sorted(kafka_io.end_offsets(bootstrap, topic).items())
    ]
