"""Proofs of lesson 10's questions: transactions, read_committed and fencing on the real broker.

Each proof reuses an experiment of ``autograder.demos.lesson10`` (or the grader's own
transactional writer, ``kafka_io.append_in_transactions``) on topics of its own namespace, and
reads the outcome back the way a consumer would: with each isolation level, or record by record
from the raw log, transaction markers included.
"""

from __future__ import annotations

from collections import Counter

from autograder.demos.lesson10.fencing import takeover, zombie_wakes_up
from autograder.demos.lesson10.lso import (
    abort_by_new_instance,
    lag_per_isolation_level,
    leave_a_transaction_open,
)
from autograder.demos.lesson10.pipeline import fill
from autograder.demos.lesson10.reading import close_quietly, read_values
from autograder.demos.lesson10.recap import resend_after_restart
from autograder.demos.lesson10.transactions import log_rows
from autograder.drills.proof import Proof
from autograder.grading import kafka_io
from autograder.grading.namespace import Namespace
from autograder.grading.quiet import grader_busy


def aborted_records_stay_in_the_log(bootstrap: str, namespace: Namespace) -> Proof:
    """One transaction of two records committed, then one of two records flushed and aborted;
    both isolation levels read the partition from the start."""
    topic = namespace.topic("aborted")
    kafka_io.create_topic(bootstrap, topic, 1)
    committed = [b"debit alice 10", b"credit bob 10"]
    aborted = [b"debit carol 50", b"credit dave 50"]
    kafka_io.append_in_transactions(
        bootstrap,
        topic,
        namespace.topic("aborted-tx"),
        [([(0, None, v) for v in committed], True), ([(0, None, v) for v in aborted], False)],
    )
    kafka_io.wait_until_stable(bootstrap, topic)
    seen = {
        level: read_values(bootstrap, topic, level)
        for level in ("read_uncommitted", "read_committed")
    }
    wanted = {v.decode() for v in aborted}
    by_uncommitted = wanted <= set(seen["read_uncommitted"])
    by_committed = bool(wanted & set(seen["read_committed"]))
    # The options: 0 only read_uncommitted gets them, 1 nobody, 2 both, 3 only read_committed.
    observed = {(True, False): 0, (False, False): 1, (True, True): 2, (False, True): 3}[
        (by_uncommitted, by_committed)
    ]
    markers = [row for row in log_rows(bootstrap, topic) if row["entry"] in ("COMMIT", "ABORT")]
    lines = (
        f"read_uncommitted read {len(seen['read_uncommitted'])} records, the aborted pair "
        f"included: {by_uncommitted}",
        f"read_committed read {len(seen['read_committed'])} records, the aborted pair "
        f"included: {by_committed}",
        "the raw log still holds the aborted records; its markers: "
        + ", ".join(f"{m['entry']} at offset {m['offset']}" for m in markers),
    )
    return Proof(observed=observed, lines=lines, table=tuple(log_rows(bootstrap, topic)))


def markers_take_offsets(bootstrap: str, namespace: Namespace) -> Proof:
    """Two committed transactions of three records each in one partition: its end offset."""
    topic = namespace.topic("markers")
    kafka_io.create_topic(bootstrap, topic, 1)
    transaction: list[tuple[int, str | None, bytes]] = [
        (0, None, b"record %d" % n) for n in range(3)
    ]
    kafka_io.append_in_transactions(
        bootstrap, topic, namespace.topic("markers-tx"), [(transaction, True), (transaction, True)]
    )
    kafka_io.wait_until_stable(bootstrap, topic)
    end = kafka_io.end_offsets(bootstrap, topic)[0]
    records = len(kafka_io.read_all(bootstrap, topic))
    rows = log_rows(bootstrap, topic)
    lines = (
        f"6 records in 2 committed transactions: end offset {end}, records a consumer reads "
        f"{records}",
        "the COMMIT markers sit at offsets "
        + ", ".join(str(r["offset"]) for r in rows if r["entry"] == "COMMIT"),
    )
    return Proof(observed=end, lines=lines, table=tuple(rows))


def open_transaction_holds_back_read_committed(bootstrap: str, namespace: Namespace) -> Proof:
    """Lesson 10's last-stable-offset experiment: 3 committed records, 4 in a transaction left
    open, then 2 plain records; a consumer of each isolation level reads from the start."""
    topic = namespace.topic("lso")
    kafka_io.create_topic(bootstrap, topic, 1)
    producer = leave_a_transaction_open(bootstrap, topic, namespace.topic("lso-tx"))
    try:
        bounds = (
            kafka_io.end_offsets(bootstrap, topic),
            kafka_io.end_offsets(bootstrap, topic, "read_committed"),
        )
        rows = lag_per_isolation_level(bootstrap, topic)
        with grader_busy():
            producer.abort_transaction()
    finally:
        close_quietly(producer)
    read = rows["read_committed"]["records read"]
    # The options by records read_committed gets: 0 five (skips the open transaction), 1 none,
    # 2 three (stops at the last stable offset), 3 all nine.
    observed = {5: 0, 0: 1, 3: 2, 9: 3}.get(read, -1)
    lines = (
        f"end offset {bounds[0][0]}, last stable offset {bounds[1][0]} (the open transaction's "
        "first offset)",
        f"read_uncommitted read {rows['read_uncommitted']['records read']} records; "
        f"read_committed read {read} and stopped at position {rows['read_committed']['position']}"
        f" with a lag of {rows['read_committed']['lag']}: the 2 plain records wait behind the "
        "open transaction too",
    )
    table = tuple({"isolation level": level, **row} for level, row in rows.items())
    return Proof(observed=observed, lines=lines, table=table)


def zombie_commit_is_fenced(bootstrap: str, namespace: Namespace) -> Proof:
    """Lesson 10's takeover: the old instance writes in an open transaction, a new one with the
    same transactional.id runs ``init_transactions()``, then the old one commits."""
    topic = namespace.topic("zombie")
    kafka_io.create_topic(bootstrap, topic, 1)
    found = takeover(bootstrap, topic, namespace.topic("zombie-tx"), "commit")
    commit = str(found["old commit"])
    visible = "from the old instance" in found["read_committed"]
    in_log = "from the old instance" in found["read_uncommitted"]
    # The options: 0 the commit succeeds, 3 it is fenced and its records hidden (1 and 2, the
    # replacement failing or the commit waiting, would have raised or hung inside takeover()).
    if commit == "ok":
        observed = 0
    elif "ProducerFenced" in commit and not visible and in_log:
        observed = 3
    else:
        observed = -1
    lines = (
        f"the old instance's commit after the takeover: {commit}",
        f"read_committed sees {found['read_committed']}; read_uncommitted sees "
        f"{found['read_uncommitted']}",
    )
    return Proof(observed=observed, lines=lines)


def restart_aborts_the_open_transaction(bootstrap: str, namespace: Namespace) -> Proof:
    """Lesson 10's experiment: a transaction is left open by a producer with kafka-python's
    default ``transaction_timeout_ms`` (60000); a second producer with the same id starts."""
    topic = namespace.topic("restart")
    kafka_io.create_topic(bootstrap, topic, 1)
    seconds = abort_by_new_instance(bootstrap, topic, namespace.topic("restart-tx"))
    timeout_s = 60.0
    if seconds is None:
        observed = -1  # still open after the demo's 30 s deadline
    elif seconds < timeout_s / 6:
        observed = 0
    else:
        observed = 1
    lines = (
        f"the partition's last stable offset caught up with its end {seconds} s after the new "
        "instance's init_transactions()",
        f"waiting for transaction.timeout.ms would have taken {timeout_s:.0f} s or more",
    )
    return Proof(observed=observed, lines=lines)


def random_transactional_id_fences_nothing(bootstrap: str, namespace: Namespace) -> Proof:
    """Lesson 10's zombie pipeline with a new random transactional.id per start: instance 1
    stalls before committing its first batch of 4, instance 2 processes all 12 orders, then
    instance 1 commits."""
    source = namespace.topic("orders")
    kafka_io.create_topic(bootstrap, source, 1)
    kafka_io.create_topic(bootstrap, namespace.topic("receipts"), 1)
    fill(bootstrap, source, 12)
    found = zombie_wakes_up(
        bootstrap, source, namespace.topic("receipts"), namespace.group("pipeline"), None
    )
    commit = str(found["zombie's commit"])
    twice = int(found["twice or more"])  # type: ignore[call-overload]
    stale = found["committed offset"] != found["orders"]
    # The options: 0 the zombie is refused, 1 it commits but no duplicate shows, 2 duplicates.
    if commit != "ok":
        observed = 0
    elif twice:
        observed = 2
    else:
        observed = 1
    lines = (
        f"the zombie's commit: {commit}",
        f"{found['receipts read_committed']} receipts under read_committed for "
        f"{found['orders']} orders, {twice} of them duplicates",
        f"the group's committed offset afterwards: {found['committed offset']} of "
        f"{found['orders']}"
        + (" (the zombie's stale offset overwrote the successor's)" if stale else ""),
    )
    return Proof(observed=observed, lines=lines, table=(found,))


def idempotence_does_not_survive_a_restart(bootstrap: str, namespace: Namespace) -> Proof:
    """Lesson 10's recap: an idempotent producer process sends ``payment 1``, gets the ack and is
    SIGKILLed; its restart sends the payment again."""
    topic = namespace.topic("payments")
    kafka_io.create_topic(bootstrap, topic, 1)
    found = resend_after_restart(bootstrap, topic)
    copies = Counter(found["values in the topic"])["payment 1"]  # type: ignore[call-overload]
    lines = (
        f"the topic holds {copies} copies of 'payment 1'",
        f"written under producer ids {found['producer ids']}: the broker de-duplicates by "
        "producer id and sequence number, and the restart got a new id",
    )
    return Proof(observed=copies, lines=lines)


PROOFS = {
    "aborted_records_stay_in_the_log": aborted_records_stay_in_the_log,
    "markers_take_offsets": markers_take_offsets,
    "open_transaction_holds_back_read_committed": open_transaction_holds_back_read_committed,
    "zombie_commit_is_fenced": zombie_commit_is_fenced,
    "restart_aborts_the_open_transaction": restart_aborts_the_open_transaction,
    "random_transactional_id_fences_nothing": random_transactional_id_fences_nothing,
    "idempotence_does_not_survive_a_restart": idempotence_does_not_survive_a_restart,
}
