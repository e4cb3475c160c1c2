"""Proofs of lesson 06's drills (offsets, commits and seeking): what a group's committed offset
holds after auto-commit, manual commits, a crash and a lookup by time.

Most proofs run lesson 06's own demonstrations (autograder.demos.lesson06); the seed question's
proof adds the one run the lesson only describes: a loop of async commits that ends without its
final synchronous commit. Every consumer is closed before a proof returns.
"""

from __future__ import annotations

import time

from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition

from autograder.demos import lesson06 as demos
from autograder.drills.proof import Chart, Proof
from autograder.grading import kafka_io
from autograder.grading.namespace import Namespace

FAIL_AT = 7  # the offset whose processing fails, in the second batch of five


def _topic(
    bootstrap: str, namespace: Namespace, name: str, records: int = 30, **configs: str
) -> str:
    topic = namespace.topic(name)
    kafka_io.create_topic(bootstrap, topic, 1, dict(configs))
    if records:
        demos.fill(bootstrap, topic, records)
    return topic


def _offset(value: object) -> int:
    """An offset a demo reported, or -1 where it reported none."""
    return value if isinstance(value, int) else -1


def _async_commits_then_crash(bootstrap: str, topic: str, group: str) -> list[int]:
    """The loop of the sync-on-shutdown pattern, each batch closed by ``commit_async`` (waited
    on, so it has surely landed), that dies at offset FAIL_AT and never makes its final
    ``commit()``. The offsets it processed."""
    tp = TopicPartition(topic, 0)
    done: dict[TopicPartition, OffsetAndMetadata] = {}
    processed: list[int] = []
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,  # so close() commits nothing: the crash has no last word
        auto_offset_reset="earliest",
        **demos.FAST,
    )
    try:
        consumer.assign([tp])
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=200, max_records=5).values():
                for record in records:
                    if record.offset == FAIL_AT:
                        return processed  # the crash: no commit() on the way out
                    processed.append(record.offset)
                    done[tp] = OffsetAndMetadata(record.offset + 1, "", record.leader_epoch)
            if done:
                future = consumer.commit_async(done)
                settle_by = time.monotonic() + 5
                while not future.is_done and time.monotonic() < settle_by:
                    time.sleep(0.02)
        return processed
    finally:
        consumer.close()


def final_sync_commit_has_the_last_word(bootstrap: str, namespace: Namespace) -> Proof:
    """The same loop twice, processing failing at offset 7: with commit_async in the loop and
    commit() on the way out, and with the async commits alone."""
    topic = _topic(bootstrap, namespace, "events")
    processed = _async_commits_then_crash(bootstrap, topic, namespace.group("async-only"))
    without = demos.committed(bootstrap, namespace.group("async-only")).get(0)
    pattern = demos.process_until_failure(
        bootstrap, topic, namespace.group("sync-on-exit"), FAIL_AT, commit_processed=True
    )
    with_final = pattern["committed"]
    if without == with_final:
        observed = 1  # the async commits alone kept the bookmark as far as the final one
    elif with_final == FAIL_AT and without is not None and without < FAIL_AT:
        observed = 0
    else:
        observed = 2
    repeated = [n for n in processed if without is not None and n >= without]
    return Proof(
        observed=observed,
        lines=(
            f"processing fails at offset {FAIL_AT}; offsets {processed[0]}-{processed[-1]} "
            "were processed, commit_async after each batch of 5",
            f"without a final commit() the group holds {without}: a restart processes "
            f"{repeated} again",
            f"with commit() of the processed offsets on the way out it holds {with_final}; the "
            f"restart begins at {pattern['first record after restart']}",
        ),
        table=(
            {"loop ends with": "crash, async commits only", "committed": without},
            {"loop ends with": "commit() in finally", "committed": with_final},
        ),
    )


def commit_the_record_offset(bootstrap: str, namespace: Namespace) -> Proof:
    """Offsets 0-4 processed, record.offset (4) committed; a fresh consumer of the group reads
    one record."""
    topic = _topic(bootstrap, namespace, "off-by-one")
    seen = demos.commit_then_restart(bootstrap, topic, namespace.group("last"), commit_next=False)
    first = _offset(seen["first record after restart"])
    processed = seen["processed"]
    return Proof(
        observed=first,
        lines=(
            f"processed offsets {seen['processed']}, committed {seen['committed']}",
            f"the restarted consumer of the group first received offset {first}"
            + (
                f": record {first} is processed twice"
                if isinstance(processed, list) and first in processed
                else ""
            ),
        ),
    )


def auto_commit_with_a_worker_thread(bootstrap: str, namespace: Namespace) -> Proof:
    """An auto-committing consumer hands records to a worker thread and is SIGKILLed after 12
    are done: the committed offset against what was processed."""
    topic = _topic(bootstrap, namespace, "clicks", records=0)
    report = demos.crash_auto_commit(bootstrap, topic, namespace.group("clicks"), hand_off=True)
    if report.lost:
        observed = 0
    elif report.repeated:
        observed = 1
    else:
        observed = 2
    return Proof(
        observed=observed,
        lines=(
            f"the worker finished {len(report.processed)} of {report.records} records before "
            f"the kill (exit code {report.exitcode})",
            f"the group's committed offset is {report.committed}: {len(report.lost)} records "
            f"were never processed and will be skipped, {len(report.repeated)} will be redone",
        ),
        chart=Chart(
            title="Auto-commit with processing handed to a thread, then SIGKILL",
            x_label="",
            y_label="offset",
            bars={
                "processed up to": float(max(report.processed, default=-1) + 1),
                "committed": float(report.committed or 0),
            },
        ),
    )


def commit_positions_after_a_failure(bootstrap: str, namespace: Namespace) -> Proof:
    """The sync-on-shutdown loop committing the consumer's positions (commit() without offsets)
    when processing fails at offset 7 in the batch 5-9."""
    topic = _topic(bootstrap, namespace, "positions")
    seen = demos.process_until_failure(
        bootstrap, topic, namespace.group("positions"), FAIL_AT, commit_processed=False
    )
    committed = _offset(seen["committed"])
    return Proof(
        observed=committed,
        lines=(
            f"{seen['error']}; processed {seen['processed']}",
            f"commit() without offsets stored {committed}: a restart begins at "
            f"{seen['first record after restart']} and skips offsets {FAIL_AT}-{committed - 1}"
            if committed > 0
            else "nothing was committed",
        ),
    )


def assigned_commit_while_a_member_is_in(bootstrap: str, namespace: Namespace) -> Proof:
    """An assign() consumer with the group's id commits before, while and after a subscribed
    member is in the group."""
    topic = _topic(bootstrap, namespace, "outsider")
    outcomes = demos.assigned_commits_while_a_member_is_in(
        bootstrap, topic, namespace.group("outsider")
    )
    refused = [label for label, said in outcomes.items() if said.startswith("refused")]
    if not refused:
        observed = 0
    elif refused == ["a subscribed member in the group"]:
        observed = 1
    else:
        observed = 2 if len(refused) == len(outcomes) else 3
    return Proof(
        observed=observed,
        lines=tuple(f"{label}: {said}" for label, said in outcomes.items()),
    )


def lookup_by_time_with_late_stamps(bootstrap: str, namespace: Namespace) -> Proof:
    """Five readings stamped 09:00, 09:03, 09:01, 09:04, 09:02 in offset order; the offset
    offsets_for_times gives for 09:02."""
    topic = _topic(bootstrap, namespace, "late-readings", records=0, **{"retention.ms": "-1"})
    seen = demos.out_of_order_lookup(bootstrap, topic)
    found = _offset(seen["offsets_for_times(09:02)"])
    return Proof(
        observed=found,
        lines=(
            "stamps in offset order: 09:00, 09:03, 09:01, 09:04, 09:02",
            f"offsets_for_times(09:02) answered offset {found}; the stamps from there on are "
            f"{seen['stamps from there on']}",
        ),
    )


PROOFS = {
    "final_sync_commit_has_the_last_word": final_sync_commit_has_the_last_word,
    "commit_the_record_offset": commit_the_record_offset,
    "auto_commit_with_a_worker_thread": auto_commit_with_a_worker_thread,
    "commit_positions_after_a_failure": commit_positions_after_a_failure,
    "assigned_commit_while_a_member_is_in": assigned_commit_while_a_member_is_in,
    "lookup_by_time_with_late_stamps": lookup_by_time_with_late_stamps,
}
