"""Lesson 11, pitfall 1: auto-commit while slow work runs in worker threads.

The learner's ``run_pipeline(bootstrap, topic, group, handle)`` reads a topic of 30 records and
hands each one to ``handle``, the grader's slow piece of work, usually in a thread pool. It runs
twice in a forked child (``autograder.grading.crash_runner``), under the same group:

1. **the crash run.** ``handle`` takes ``HANDLE_S`` a record and writes what it handled to a
   journal. From its ``GATE_AT``-th call on, it waits (at most ``GATE_S`` in all) until the
   broker holds a commit past the record it was given, and then the child is killed with
   SIGKILL, before that record is journaled. A program that commits what it only handed off
   (``enable.auto.commit`` / ``enable_auto_commit`` on, or a ``commit()`` straight after
   ``submit``) has by then committed past records no one handled: they are lost. A program
   that commits only finished work never commits past a record still in ``handle``, so its
   child is killed once ``GATE_S`` is up, with nothing lost.
2. **the restart.** The same function, the same group, no crash: it must resume at the group's
   committed offsets and read to the end.

Why the verdict can be trusted: the journal is a file the grader names and the grader's own
``handle`` appends to (one ``write`` per record on a file opened with O_APPEND; the kernel keeps
it through a SIGKILL), and the committed offsets come from the broker. The crash itself is not
on the broker, so the crash runner's record of each run is the attempt's evidence, with the
committed offsets the grader read right after the crash; a claim without the journal and the
commits behind it earns nothing.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from kafka import KafkaAdminClient

from autograder.grading import kafka_io
from autograder.grading.crash_runner import ChildResult, crash_now, run_forked
from autograder.grading.exercises.base import Attempt, Exercise
from autograder.grading.harness import Outcome
from autograder.grading.paths import state_dir
from autograder.grading.result import CheckResult

PARTITIONS = 3
RECORDS = 30  # spread round the partitions, 10 each
HANDLE_S = 0.04  # the work each record costs
GATE_AT = 8  # the call of `handle` from which the crash run waits for a commit past its record
GATE_S = 2.5  # how long, in all, before the child is killed anyway
ASK_EVERY_S = 0.05  # how often the gate asks the broker for the group's committed offsets
MAX_NOTES = 8

COMMITTED_TOO_EARLY_HINT = (
    "Who committed those offsets while their records were still waiting in the pool? With "
    "`enable_auto_commit=True` the consumer commits its position on a timer inside poll(), "
    "and a `commit()` right after `submit` does the same at once: either way the broker holds "
    "offsets of records that were only handed off. Set `enable_auto_commit=False` and call "
    "`consumer.commit()` only after `wait(futures)` says every handed-off record is done."
)
READ_TO_THE_END_HINT = (
    "Did your loop stop before the end, or at an empty poll? Poll (with a deadline) until "
    "every partition's position has reached its end offset (`consumer.end_offsets`), and wait "
    "for the pool before returning."
)


def journal_path(attempt: Attempt) -> Path:
    """Where this attempt's journal lives: chosen by the grader, found again by rejudge."""
    return state_dir() / "journals" / f"{attempt.topic()}.log"


def read_journal(path: Path) -> list[tuple[int, int]]:
    """(partition, offset) of every record the grader's handle finished, in order written."""
    if not path.exists():
        return []
    handled = []
    for line in path.read_text().splitlines():
        partition, _, offset = line.partition(":")
        if partition.isdigit() and offset.isdigit():
            handled.append((int(partition), int(offset)))
    return handled


class _CommitGate:
    """In the crash run's child: holds `handle` calls from the GATE_AT-th on until the broker
    holds a commit past the record, then kills the child (or once GATE_S is up)."""

    def __init__(self, bootstrap: str, topic: str, group: str):
        self.bootstrap, self.topic, self.group = bootstrap, topic, group
        self._lock = threading.Lock()
        self._calls = 0
        self._admin: KafkaAdminClient | None = None
        self._asked_at = 0.0
        self._committed: dict[int, int] = {}
        self._until: float | None = None

    def enter(self) -> bool:
        """Count this call; True when it is one the gate holds."""
        with self._lock:
            self._calls += 1
            held = self._calls >= GATE_AT
            if held and self._until is None:
                self._until = time.monotonic() + GATE_S
            return held

    def _committed_now(self) -> dict[int, int]:
        with self._lock:  # one question at a time, shared by every held call
            if time.monotonic() - self._asked_at >= ASK_EVERY_S:
                if self._admin is None:  # made in the child: the parent's clients are husks
                    self._admin = KafkaAdminClient(
                        bootstrap_servers=self.bootstrap, request_timeout_ms=5000
                    )
                found = self._admin.list_group_offsets({self.group: None}).get(self.group, {})
                self._committed = {
                    tp.partition: meta.offset
                    for tp, meta in found.items()
                    if tp.topic == self.topic and meta.offset >= 0
                }
                self._asked_at = time.monotonic()
            return dict(self._committed)

    def hold(self, partition: int, offset: int) -> None:
        """Wait for a commit past ``offset``, or for the end of the gate's time; then crash."""
        assert self._until is not None
        while time.monotonic() < self._until:
            if self._committed_now().get(partition, -1) > offset:
                break
            time.sleep(ASK_EVERY_S / 2)
        crash_now()


class _Handler:
    """The grader's slow `handle(record)`: the work, then one line in the journal."""

    def __init__(self, topic: str, path: Path, gate: _CommitGate | None):
        self.topic, self.gate = topic, gate
        # O_APPEND: each write lands whole at the end, whichever worker thread makes it.
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def __call__(self, record: Any) -> None:
        if getattr(record, "topic", None) != self.topic or not isinstance(
            getattr(record, "offset", None), int
        ):
            raise TypeError("handle() takes one record polled from the topic you were given")
        if self.gate is not None and self.gate.enter():
            self.gate.hold(record.partition, record.offset)
        time.sleep(HANDLE_S)
        os.write(self._fd, f"{record.partition}:{record.offset}\n".encode())

    def close(self) -> None:
        os.close(self._fd)


def _one_run(function: Callable[..., Any], kwargs: dict, crash: bool) -> Any:
    """In the child: make the handler (and the gate), then call the learner's function."""
    gate = _CommitGate(kwargs["bootstrap"], kwargs["topic"], kwargs["group"]) if crash else None
    handle = _Handler(kwargs["topic"], Path(kwargs["journal"]), gate)
    try:
        return function(
            bootstrap=kwargs["bootstrap"],
            topic=kwargs["topic"],
            group=kwargs["group"],
            handle=handle,
        )
    finally:
        handle.close()


def _ended(result: ChildResult) -> str:
    if result.crashed:
        return "crashed"
    if result.timed_out:
        return "timed out"
    return "raised" if result.error else "returned"


def _show(offsets: dict[int, int]) -> str:
    return "{" + ", ".join(f"{p}: {o}" for p, o in sorted(offsets.items())) + "}"


class AutoCommitHandoff(Exercise):
    id = "auto-commit-handoff"
    time_limit_s = 8.0  # for each of the two runs; the crash run's gate waits GATE_S of it

    def prepare(self, attempt: Attempt) -> dict:
        kafka_io.create_topic(attempt.bootstrap, attempt.topic(), PARTITIONS)
        kafka_io.append_to_partitions(
            attempt.bootstrap,
            attempt.topic(),
            [(n % PARTITIONS, f"order-{n:02d}", b"order %d" % n) for n in range(RECORDS)],
        )
        path = journal_path(attempt)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        return {
            "bootstrap": attempt.bootstrap,
            "topic": attempt.topic(),
            "group": attempt.group(),
            "journal": str(path),
        }

    def run_learner(self, function: Callable[..., Any], kwargs: dict) -> Outcome:
        """The crash run, then the restart, each in a forked child."""
        runs: list[dict] = []
        notes: list[str] = []
        evidence: dict[str, Any] = {"runs": runs}
        for number, crash in ((1, True), (2, False)):
            result = run_forked(partial(_one_run, function, kwargs, crash), self.time_limit_s)
            runs.append({"run": number, "crash planned": crash, "ended": _ended(result)})
            notes += [
                f"run {number}: {line}"
                for line in result.output.splitlines()
                if line.strip() and "blocking the event loop" not in line
            ]
            if number == 1:
                committed = kafka_io.committed_offsets(kwargs["bootstrap"], kwargs["group"])
                evidence["after crash"] = {
                    "committed": {str(p): o for (t, p), o in committed.items()},
                    "handled": len(read_journal(Path(kwargs["journal"]))),
                }
            if result.timed_out or result.error:
                return Outcome(
                    error=result.error,
                    error_type=result.error_type,
                    timed_out=result.timed_out,
                    notes=tuple(notes[:MAX_NOTES]),
                    evidence=evidence,
                )
        return Outcome(notes=tuple(notes[:MAX_NOTES]), evidence=evidence)

    def unmet_condition(self, attempt: Attempt, outcome: Outcome) -> CheckResult | None:
        runs = outcome.evidence.get("runs") or []
        if runs and isinstance(runs[0], dict) and runs[0].get("ended") == "crashed":
            return None
        return self.failure(
            "your function was never caught by the injected crash",
            f"the first run killed inside handle(), at its {GATE_AT}th call",
            f"it handled {(outcome.evidence.get('after crash') or {}).get('handled', 0)} "
            "records and returned",
            "Did your function hand every record to handle() before it returned? "
            + READ_TO_THE_END_HINT,
        )

    def verdict(self, attempt: Attempt, outcome: Outcome) -> CheckResult:
        topic = attempt.topic()
        ends = kafka_io.end_offsets(attempt.bootstrap, topic)
        everything = {(p, o) for p, end in ends.items() for o in range(end)}
        handled = Counter(read_journal(journal_path(attempt)))
        lost = sorted(everything - set(handled))
        committed = {
            p: o
            for (t, p), o in kafka_io.committed_offsets(attempt.bootstrap, attempt.group()).items()
            if t == topic
        }
        behind = {p: committed.get(p, 0) for p, end in ends.items() if committed.get(p) != end}
        after = outcome.evidence.get("after crash") or {}
        at_crash = {
            int(p): o for p, o in (after.get("committed") or {}).items() if str(p).isdigit()
        }
        if lost and behind:
            return self.failure(
                f"the restart returned before reading everything: {len(lost)} of "
                f"{len(everything)} records were never handled",
                f"every record handled, committed = end offsets {_show(ends)}",
                f"committed {_show(committed)}",
                READ_TO_THE_END_HINT,
            )
        if lost:
            shown = ", ".join(f"{p}@{o}" for p, o in lost[:4]) + (" …" if len(lost) > 4 else "")
            return self.failure(
                f"{len(lost)} of {len(everything)} records were never handled: the group "
                "had committed past them when the crash came",
                "every record handled at least once (the restart resumes at the committed offsets)",
                f"right after the crash the broker held committed offsets {_show(at_crash)} "
                f"with {after.get('handled', '?')} records handled; never handled "
                f"(partition@offset): {shown}",
                COMMITTED_TOO_EARLY_HINT,
            )
        if behind:
            return self.failure(
                "the group's committed offsets do not reach the end",
                f"committed = end offsets {_show(ends)}",
                f"committed {_show(committed)}",
                "A restart starts from the committed offsets: did you commit once the last "
                "records were done? Call consumer.commit() after wait(futures), before close.",
            )
        twice = sum(n - 1 for n in handled.values() if n > 1)
        return self.success(
            f"all {len(everything)} records handled through a real crash and a restart, "
            f"offsets committed to the end; {twice} handled twice, the price of "
            "at-least-once (handled before the crash, not yet committed)"
        )


EXERCISES = (AutoCommitHandoff(),)
