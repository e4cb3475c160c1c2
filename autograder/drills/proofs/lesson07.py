"""Proofs of lesson 07's questions: real SIGKILL crashes between storing and committing, what
they leave in a SQLite sink, and how long a group waits for a member that died.

The crashing consumers are lesson 07's own (``autograder.demos.lesson07.consume_into_sink``),
run in forked children by ``autograder.grading.crash_runner``. Their topic has one partition,
so the first ``poll()`` hands out a full batch of 5 (``max.poll.records`` / ``max_poll_records``
= 5) and the crash after the 2nd stored record always falls in the middle of that batch: the
counts below do not depend on how the records spread over partitions.
"""

from __future__ import annotations

import faulthandler
import tempfile
from functools import partial
from pathlib import Path

from autograder.demos import lesson07 as demo
from autograder.demos.lesson10.producers import transactional
from autograder.demos.lesson10.reading import close_quietly, read_values
from autograder.drills.proof import Chart, Proof
from autograder.grading import kafka_io
from autograder.grading.crash_runner import run_forked
from autograder.grading.namespace import Namespace

RECORDS = 12
CRASH_AFTER = 2  # the consumer kills itself right after storing its 2nd record
# A consumer process ends within a second; on a machine busy with other work the broker can
# answer slowly, so the kill comes much later, after a stack dump that shows where it waited.
CHILD_LIMIT_S = 25
CHILD_DUMP_S = 8
TAKEOVER_SESSION_MS = 3000  # session.timeout.ms of the takeover proof: short, and above the 1 s
# minimum this broker allows


def _readings(bootstrap: str, namespace: Namespace, name: str) -> str:
    topic = namespace.topic(name)
    kafka_io.create_topic(bootstrap, topic, partitions=1)
    demo.fill(bootstrap, topic, RECORDS)
    return topic


def _before_fork(bootstrap: str) -> None:
    """Close the grader's cached clients first: their IO threads resolve broker addresses, and a
    child forked while one holds the resolver's lock hangs in its first lookup (run_forked also
    waits for closed threads to finish tearing down)."""
    kafka_io.close_for(bootstrap)


def _consumer_process(
    bootstrap: str, topic: str, group: str, sink: str, commit: str, unique: bool, crash
) -> int:
    """The body of a forked consumer: lesson 07's, plus a stack dump into the child's output
    should it still run after CHILD_DUMP_S (it normally ends within a second), so that a child
    that had to be killed says where it was."""
    faulthandler.dump_traceback_later(CHILD_DUMP_S)
    try:
        return demo.consume_into_sink(bootstrap, topic, group, sink, commit, unique, crash)
    finally:
        faulthandler.cancel_dump_traceback_later()


def _crash_and_restart(
    bootstrap: str, topic: str, group: str, commit: str, unique: bool
) -> dict[str, int]:
    """One consumer process that crashes after CRASH_AFTER stored records, then a restart of
    the same group that reads on to the end; the audit of their sink."""
    with tempfile.TemporaryDirectory() as folder:
        sink = str(Path(folder) / "sink.db")
        for crash in (CRASH_AFTER, None):
            _before_fork(bootstrap)
            run = run_forked(
                partial(_consumer_process, bootstrap, topic, group, sink, commit, unique, crash),
                time_limit_s=CHILD_LIMIT_S,
            )
            if run.crashed != bool(crash) or run.error or run.timed_out:
                raise RuntimeError(f"the consumer process ended unexpectedly: {run}")
        return demo.audit(bootstrap, topic, sink)


def _audit_row(label: str, audit: dict[str, int]) -> dict:
    return {"consumer": label, **audit}


def commit_after_duplicates_and_aborts_hidden(bootstrap: str, namespace: Namespace) -> Proof:
    """At least once duplicates after a crash; read_committed hides an aborted transaction."""
    topic = _readings(bootstrap, namespace, "readings")
    after = _crash_and_restart(bootstrap, topic, namespace.group("after"), "after", False)

    outputs = namespace.topic("outputs")
    kafka_io.create_topic(bootstrap, outputs, partitions=1)
    producer = transactional(bootstrap, f"{namespace.prefix}-writer")
    try:
        producer.init_transactions()
        producer.begin_transaction()
        for n in range(5):
            producer.send(outputs, value=b"output %d" % n)
        producer.flush(timeout=10)
        producer.abort_transaction()
    finally:
        close_quietly(producer)
    committed = len(read_values(bootstrap, outputs, "read_committed", deadline_s=5))
    uncommitted = len(read_values(bootstrap, outputs, "read_uncommitted", deadline_s=5))

    at_least_once = after["lost"] == 0 and after["duplicated"] > 0
    if at_least_once and committed == 0 < uncommitted:
        observed = 0
    elif after["lost"] > 0:
        observed = 1  # committing after processing would then have lost records
    else:
        observed = 2
    return Proof(
        observed=observed,
        lines=(
            f"commit after processing, SIGKILL after {CRASH_AFTER} stored records, restart: "
            f"{after['lost']} lost, {after['duplicated']} stored twice ({after['rows in sink']} "
            f"rows for {after['records']} records): at least once",
            f"a transactional producer wrote 5 records and aborted: read_committed saw "
            f"{committed}, read_uncommitted saw {uncommitted}",
        ),
        table=(_audit_row("commit after processing", after),),
    )


def commit_before_processing_loses_records(bootstrap: str, namespace: Namespace) -> Proof:
    """Commit first, crash mid-batch, restart: the rest of the batch is never stored."""
    topic = _readings(bootstrap, namespace, "readings")
    before = _crash_and_restart(bootstrap, topic, namespace.group("before"), "before", False)
    lost, twice = before["lost"], before["duplicated"]
    observed = (0 if twice else 1) if lost else (2 if twice else 3)
    return Proof(
        observed=observed,
        lines=(
            f"commit right after poll(), SIGKILL after storing {CRASH_AFTER} of a 5-record "
            f"batch, restart: {lost} records never stored, {twice} stored twice",
            f"the sink holds {before['rows in sink']} rows for {before['records']} records",
        ),
        table=(_audit_row("commit before processing", before),),
    )


def commit_after_processing_stores_twice(bootstrap: str, namespace: Namespace) -> Proof:
    """Commit after the batch, crash mid-batch, restart: the stored part of it comes again."""
    topic = _readings(bootstrap, namespace, "readings")
    after = _crash_and_restart(bootstrap, topic, namespace.group("after"), "after", False)
    return Proof(
        observed=after["duplicated"],
        lines=(
            f"commit after each batch, SIGKILL after storing {CRASH_AFTER} records of the first "
            f"batch, restart: {after['duplicated']} records stored twice, {after['lost']} lost",
            f"the sink holds {after['rows in sink']} rows for {after['records']} records",
        ),
        table=(_audit_row("commit after processing", after),),
    )


def unique_key_keeps_the_sink_exact(bootstrap: str, namespace: Namespace) -> Proof:
    """Commit after + UNIQUE (part, offset) + INSERT OR IGNORE: the crash leaves no trace."""
    topic = _readings(bootstrap, namespace, "readings")
    plain = _crash_and_restart(bootstrap, topic, namespace.group("plain"), "after", False)
    unique = _crash_and_restart(bootstrap, topic, namespace.group("unique"), "after", True)
    if unique["lost"]:
        observed = 2
    elif unique["duplicated"]:
        observed = 1
    else:
        observed = 0
    return Proof(
        observed=observed,
        lines=(
            f"both consumers were handed the first {CRASH_AFTER} records twice (crash before "
            "their commit)",
            f"plain table: {plain['rows in sink']} rows, {plain['duplicated']} duplicated",
            f"UNIQUE (part, offset) + INSERT OR IGNORE: {unique['rows in sink']} rows, "
            f"{unique['duplicated']} duplicated, {unique['lost']} lost",
        ),
        table=(_audit_row("plain INSERT", plain), _audit_row("unique key", unique)),
    )


def unique_key_does_not_undo_a_loss(bootstrap: str, namespace: Namespace) -> Proof:
    """Commit before processing into a sink with a unique key: the loss stays."""
    topic = _readings(bootstrap, namespace, "readings")
    audit = _crash_and_restart(bootstrap, topic, namespace.group("before-unique"), "before", True)
    lost, twice = audit["lost"], audit["duplicated"]
    observed = 1 if lost else (2 if twice else 0)
    return Proof(
        observed=observed,
        lines=(
            "commit right after poll(), sink with UNIQUE (part, offset) and INSERT OR IGNORE, "
            f"SIGKILL after {CRASH_AFTER} stored records, restart",
            f"{lost} records never reached the sink, {twice} were stored twice: the key has "
            "nothing to refuse, the restart never saw those records again",
        ),
        table=(_audit_row("commit before + unique key", audit),),
    )


def offsets_in_the_sink_survive_a_crash(bootstrap: str, namespace: Namespace) -> Proof:
    """Rows and next offsets in one SQLite transaction, seek there on start: exact."""
    topic = _readings(bootstrap, namespace, "readings")
    _before_fork(bootstrap)
    with tempfile.TemporaryDirectory() as folder:
        audit = demo.offsets_in_the_sink(
            bootstrap, topic, namespace.group("in-sink"), CRASH_AFTER, sink_dir=folder
        )["offsets in the sink"]
    if audit["lost"]:
        observed = 1
    elif audit["duplicated"]:
        observed = 2
    else:
        observed = 0
    return Proof(
        observed=observed,
        lines=(
            f"SIGKILL after {CRASH_AFTER} records, restart seeking to the offsets the sink "
            f"holds: {audit['lost']} lost, {audit['duplicated']} stored twice, "
            f"{audit['rows in sink']} rows for {audit['records']} records",
            "the consumer had no group_id and committed nothing to Kafka: the sink's own "
            "next_offsets table was its only bookmark",
        ),
        table=(_audit_row("offsets in the sink", audit),),
    )


def crashed_member_holds_partitions(bootstrap: str, namespace: Namespace) -> Proof:
    """A member that closes hands its partitions on at once; one that is killed holds them for
    about session.timeout.ms."""
    topic = namespace.topic("takeover")
    kafka_io.create_topic(bootstrap, topic, partitions=2)
    waits = {}
    for ending in ("close", "crash"):  # each forks its first member: settle the threads first
        for attempt in (1, 2):
            _before_fork(bootstrap)
            group = namespace.group(f"takeover-{ending}-{attempt}")
            try:
                waits[ending] = demo.takeover_seconds(
                    bootstrap, topic, group, ending, TAKEOVER_SESSION_MS
                )
                break
            except RuntimeError:  # the forked member never joined (a busy machine): once more
                if attempt == 2:
                    raise
    timeout_s = TAKEOVER_SESSION_MS / 1000
    crash = waits["crash"]
    if crash < 0.3 * timeout_s:
        observed = 0
    elif crash < 3 * timeout_s:
        observed = 1
    else:
        observed = 2
    return Proof(
        observed=observed,
        lines=(
            f"session.timeout.ms = {TAKEOVER_SESSION_MS}: after close() a new member owned the "
            f"partitions {waits['close']:.1f} s later, after SIGKILL {crash:.1f} s later",
            "the killed member sent no LeaveGroup: the coordinator waited for its heartbeats "
            "to stop for a whole session timeout",
        ),
        chart=Chart(
            title="partitions unowned after the member ended",
            x_label="how the member ended",
            y_label="seconds until a new member owns them",
            bars={"close()": waits["close"], "SIGKILL": crash},
        ),
    )


def session_timeout_below_the_minimum_is_refused(bootstrap: str, namespace: Namespace) -> Proof:
    """session.timeout.ms under the broker's group.min.session.timeout.ms: the join fails."""
    topic = namespace.topic("impatient")
    kafka_io.create_topic(bootstrap, topic, partitions=1)
    minimum = demo.broker_settings(bootstrap, "group.min.session.timeout.ms")[
        "group.min.session.timeout.ms"
    ]
    answer = demo.join_with_session_timeout(bootstrap, topic, namespace.group("impatient"), 500)
    if answer == "InvalidSessionTimeoutError":
        observed = 1
    elif answer == "joined":
        observed = 0
    else:
        observed = 2
    return Proof(
        observed=observed,
        lines=(
            f"the broker's group.min.session.timeout.ms is {minimum} ms",
            f"a consumer subscribing with session_timeout_ms=500 got: {answer}",
        ),
    )


PROOFS = {
    "commit_after_duplicates_and_aborts_hidden": commit_after_duplicates_and_aborts_hidden,
    "commit_before_processing_loses_records": commit_before_processing_loses_records,
    "commit_after_processing_stores_twice": commit_after_processing_stores_twice,
    "unique_key_keeps_the_sink_exact": unique_key_keeps_the_sink_exact,
    "unique_key_does_not_undo_a_loss": unique_key_does_not_undo_a_loss,
    "offsets_in_the_sink_survive_a_crash": offsets_in_the_sink_survive_a_crash,
    "crashed_member_holds_partitions": crashed_member_holds_partitions,
    "session_timeout_below_the_minimum_is_refused": session_timeout_below_the_minimum_is_refused,
}
