"""Real group members in forked child processes, each writing what happens to it to a log.

Every member is a KafkaConsumer in its own process, so it can leave in the three ways a real one
does: ``close()`` (it sends LeaveGroup), SIGKILL (it just stops, as in a power cut) or being
removed by the broker. A fork starts in milliseconds (the kernel's imports are already done); the
child makes its own clients after the fork and never touches the kernel's.

Each member appends one JSON line per event to its own file (a killed process cannot corrupt
another's file, which a shared queue would risk): ``assigned``/``revoked``/``lost`` from its
rebalance listener, ``processed`` for each record handled, ``commit_failed`` when the group
refuses a commit, ``closed`` at the end.

Example:
    >>> with Group(bootstrap, [topic], group_id) as group:
    ...     group.add("a"); group.add("b")
    ...     group.wait_until(lambda: group.owned_now() == ..., 15)
    ...     group.crash("a")
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sqlite3
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable
from contextlib import ExitStack, closing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kafka import AsyncConsumerRebalanceListener, KafkaConsumer, TopicPartition
from kafka.coordinator.assignors.cooperative_sticky import CooperativeStickyAssignor
from kafka.coordinator.assignors.range import RangePartitionAssignor
from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
from kafka.coordinator.assignors.sticky.sticky_assignor import StickyPartitionAssignor
from kafka.errors import CommitFailedError, KafkaError
from kafka.structs import OffsetAndMetadata

from autograder.grading.quiet import grader_busy, silence_kafka_logs

_FORK = multiprocessing.get_context("fork")
_FORK_WARNING = r".*use of fork\(\) may lead to deadlocks.*"  # see grading/crash_runner.py

ASSIGNORS = {
    "range": RangePartitionAssignor,
    "roundrobin": RoundRobinPartitionAssignor,
    "sticky": StickyPartitionAssignor,
    "cooperative-sticky": CooperativeStickyAssignor,
}

# A member that outlives its notebook cell (a killed kernel, a forgotten playground) ends alone.
MAX_LIFETIME_S = 600


@dataclass(frozen=True)
class MemberSpec:
    """How one member is configured and how it handles records.

    ``commit``: "none", "batch" (sync commit after each poll's records), "periodic" (every
    ``commit_every_s``) or "listener" (commit what it processed in ``on_partitions_revoked``, plus
    periodically). ``handle_s`` is the time spent on each record.
    "store" keeps offsets outside Kafka, in the SQLite file ``store_path``: saved in
    ``on_partitions_revoked``, and ``seek()``-ed to in ``on_partitions_assigned``. With
    ``handles_sigterm`` a SIGTERM sets the stop flag, so the member closes cleanly.
    """

    topics: tuple[str, ...] = ()
    pattern: str | None = None
    assignor: str = "range"
    session_timeout_ms: int = 2000
    heartbeat_interval_ms: int = 400
    max_poll_interval_ms: int = 5000
    max_poll_records: int = 500
    metadata_max_age_ms: int = 300000
    group_instance_id: str | None = None
    handle_s: float = 0.0
    commit: str = "none"
    commit_every_s: float = 1.0
    store_path: str | None = None
    handles_sigterm: bool = False
    # Not shorter: when a poll() ends before the coordinator's answer to a join arrives (slow
    # on a busy machine), kafka-python 3.0.12 can throw the finished join away and join again.
    poll_timeout_ms: int = 500
    extra: dict[str, Any] = field(default_factory=dict)


def _offsets(processed: dict[TopicPartition, int], partitions) -> dict:
    return {tp: OffsetAndMetadata(processed[tp], "", -1) for tp in partitions if tp in processed}


class _Journal:
    """One member's event log: a JSON line per event, flushed at once (it may be killed next)."""

    def __init__(self, path: str, member: str) -> None:
        self._file = open(path, "a", buffering=1)  # noqa: SIM115 (lives as long as the member)
        self._member = member

    def write(self, event: str, **fields: Any) -> None:
        line = {"t": time.time(), "member": self._member, "event": event, **fields}
        self._file.write(json.dumps(line) + "\n")


def _names(partitions) -> list[list]:
    return sorted([tp.topic, tp.partition] for tp in partitions)


class _Recorder(AsyncConsumerRebalanceListener):
    """Writes every callback to the journal; with commit="listener", commits on revoke.

    An async listener: in kafka-python 3 the callbacks run on the consumer's IO loop, where a
    blocking ``consumer.commit()`` raises; awaiting ``commit_async()`` is the supported way.
    """

    def __init__(self, consumer: KafkaConsumer, journal: _Journal, spec: MemberSpec, processed):
        self._consumer, self._journal, self._spec, self._processed = (
            consumer,
            journal,
            spec,
            processed,
        )

    async def on_partitions_revoked(self, revoked):
        committed = {}
        if self._spec.commit == "listener" and revoked:
            offsets = _offsets(self._processed, revoked)
            if offsets:
                await self._consumer.commit_async(offsets)
                committed = {f"{tp.topic}:{tp.partition}": o.offset for tp, o in offsets.items()}
        if self._spec.commit == "store" and revoked:
            saved = _offsets(self._processed, revoked)
            _save(self._spec.store_path, saved)
            committed = {f"{tp.topic}:{tp.partition}": o.offset for tp, o in saved.items()}
        self._journal.write("revoked", partitions=_names(revoked), committed=committed)

    async def on_partitions_assigned(self, assigned):
        starts = {}
        if self._spec.commit == "store":
            # Load the state saved by whoever owned these partitions before, and start there.
            for tp, offset in _load(self._spec.store_path, assigned).items():
                self._consumer.seek(tp, offset)
                starts[f"{tp.topic}:{tp.partition}"] = offset
        self._journal.write("assigned", partitions=_names(assigned), starts=starts)

    async def on_partitions_lost(self, lost):
        self._journal.write("lost", partitions=_names(lost))


def _store(path: str | None) -> sqlite3.Connection:
    db = sqlite3.connect(path or ":memory:", timeout=5)
    db.execute(
        "CREATE TABLE IF NOT EXISTS offsets (topic TEXT, part INTEGER, next INTEGER,"
        " PRIMARY KEY (topic, part))"
    )
    return db


def _save(path: str | None, offsets: dict) -> None:
    with closing(_store(path)) as db, db:
        db.executemany(
            "INSERT OR REPLACE INTO offsets VALUES (?, ?, ?)",
            [(tp.topic, tp.partition, o.offset) for tp, o in offsets.items()],
        )


def _load(path: str | None, partitions) -> dict[TopicPartition, int]:
    with closing(_store(path)) as db:
        rows = db.execute("SELECT topic, part, next FROM offsets").fetchall()
    stored = {TopicPartition(t, p): n for t, p, n in rows}
    return {tp: stored[tp] for tp in partitions if tp in stored}


def make_consumer(spec: MemberSpec, bootstrap: str, group_id: str, name: str) -> KafkaConsumer:
    """The KafkaConsumer a member runs (also used in the kernel by some demos)."""
    return KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group_id,
        client_id=name,
        group_instance_id=spec.group_instance_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        partition_assignment_strategy=[ASSIGNORS[spec.assignor]],
        session_timeout_ms=spec.session_timeout_ms,
        heartbeat_interval_ms=spec.heartbeat_interval_ms,
        max_poll_interval_ms=spec.max_poll_interval_ms,
        max_poll_records=spec.max_poll_records,
        metadata_max_age_ms=spec.metadata_max_age_ms,
        request_timeout_ms=max(7000, spec.session_timeout_ms + 1000),
        **spec.extra,
    )


def _subscribe(consumer: KafkaConsumer, spec: MemberSpec, listener) -> None:
    if spec.pattern:
        consumer.subscribe(pattern=spec.pattern, listener=listener)
    else:
        consumer.subscribe(list(spec.topics), listener=listener)
    consumer.topics()  # lesson 05's note: a metadata refresh before the first poll joins


def _commit(consumer: KafkaConsumer, journal: _Journal, offsets: dict) -> None:
    if not offsets:
        return
    try:
        consumer.commit(offsets)
        journal.write(
            "committed", offsets={f"{t.topic}:{t.partition}": o.offset for t, o in offsets.items()}
        )
    except CommitFailedError as error:
        journal.write("commit_failed", error=type(error).__name__, detail=str(error)[:200])
    except KafkaError as error:
        journal.write("commit_failed", error=type(error).__name__, detail=str(error)[:200])


def run_member(
    spec: MemberSpec, bootstrap: str, group_id: str, name: str, log_path: str, stop
) -> None:
    """A member's whole life: join, poll and handle records until ``stop`` is set (or the
    lifetime passes, or the parent dies), then ``close()``."""
    silence_kafka_logs()
    journal = _Journal(log_path, name)
    if spec.handles_sigterm:
        # The stop flag, raised from a signal handler: the loop sees it within one poll timeout
        # and closes the consumer (kafka-python has no wakeup(); a short poll timeout does it).
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    parent = os.getppid()
    processed: dict[TopicPartition, int] = {}  # next offset to read, per partition handled
    consumer = make_consumer(spec, bootstrap, group_id, name)
    try:
        _subscribe(consumer, spec, _Recorder(consumer, journal, spec, processed))
        journal.write("started", pid=os.getpid())
        last_commit = time.monotonic()
        generation = -1
        end = time.monotonic() + MAX_LIFETIME_S
        while not stop.is_set() and time.monotonic() < end and os.getppid() == parent:
            batch = consumer.poll(timeout_ms=spec.poll_timeout_ms)
            if batch:
                journal.write("polled", records=sum(len(r) for r in batch.values()))
            # The generation the coordinator handed this member at its last join (read here, not
            # in the listener: the snapshot takes a lock the IO loop may hold).
            if consumer.group_metadata().generation_id != generation:
                generation = consumer.group_metadata().generation_id
                journal.write("generation", generation=generation)
            handled = {}
            for tp, records in batch.items():
                for record in records:
                    if spec.handle_s:
                        time.sleep(spec.handle_s)
                    processed[tp] = handled[tp] = record.offset + 1
                    journal.write(
                        "processed", topic=tp.topic, partition=tp.partition, offset=record.offset
                    )
            if spec.commit == "batch":
                _commit(consumer, journal, _offsets(processed, handled))
            elif (
                spec.commit in ("periodic", "listener")
                and time.monotonic() - last_commit >= spec.commit_every_s
            ):
                _commit(consumer, journal, _offsets(processed, consumer.assignment()))
                last_commit = time.monotonic()
    finally:
        try:
            consumer.close(autocommit=False)
        finally:
            journal.write("closed")


def _child(runner, spec, bootstrap, group_id, name, log_path, stop) -> None:
    # The kernel's output channels belong to threads the fork did not copy.
    # Python's sys.stdout/sys.stderr in a forked kernel are the kernel's own streams (they would
    # put this child's tracebacks in the notebook), so both levels go to a file of its own.
    out = open(log_path + ".out", "a", buffering=1)  # noqa: SIM115 (lives until exit)
    os.dup2(out.fileno(), 1)
    os.dup2(out.fileno(), 2)
    sys.stdout = sys.stderr = out
    warnings.simplefilter("ignore")
    try:
        runner(spec, bootstrap, group_id, name, log_path, stop)
    except Exception as error:  # noqa: BLE001 (the demo reads the journal, not a traceback)
        _Journal(log_path, name).write("failed", error=f"{type(error).__name__}: {error}"[:300])
        traceback.print_exc()


class Member:
    """Handle on one member process: ``close()`` it cleanly or ``crash()`` it (SIGKILL)."""

    def __init__(
        self,
        spec: MemberSpec,
        bootstrap: str,
        group_id: str,
        name: str,
        folder: Path,
        runner: Callable[..., None] = run_member,
    ):
        self.spec, self.name = spec, name
        self.log_path = str(folder / f"{name}-{time.monotonic_ns()}.jsonl")
        Path(self.log_path).touch()
        self._stop = _FORK.Event()
        self._process = _FORK.Process(
            target=_child,
            args=(runner, spec, bootstrap, group_id, name, self.log_path, self._stop),
            daemon=True,
            name=f"member-{name}",
        )
        self.ended_at: float | None = None
        self.how_ended: str | None = None

    def start(self) -> Member:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_FORK_WARNING, category=DeprecationWarning)
            self._process.start()
        return self

    @property
    def alive(self) -> bool:
        return self._process.is_alive()

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def close(self, timeout_s: float = 10) -> None:
        """Ask the member to stop polling and ``close()`` its consumer; wait for it."""
        self._stop.set()
        self._process.join(timeout_s)
        self.how_ended = "closed"
        self.ended_at = time.time()
        if self._process.is_alive():
            self.kill()
            self.how_ended = "killed after a close that did not finish"

    def kill(self) -> None:
        pid = self._process.pid
        if pid is not None and self._process.is_alive():
            os.kill(pid, signal.SIGKILL)
        self._process.join(5)

    def crash(self) -> None:
        """SIGKILL: no close, no LeaveGroup, no commit."""
        self.ended_at = time.time()
        self.how_ended = "crashed"
        self.kill()

    def terminate(self) -> None:
        """SIGTERM (what ``kill PID`` or a container stop sends)."""
        pid = self._process.pid
        if pid is not None and self._process.is_alive():
            os.kill(pid, signal.SIGTERM)

    def events(self) -> list[dict]:
        lines = Path(self.log_path).read_text().splitlines()
        return [json.loads(line) for line in lines if line.endswith("}")]


class Group:
    """A consumer group of member processes, all killed when the ``with`` block ends.

    Members' names must be unique in a Group; a restarted member gets a fresh name suffix in the
    logs but the same member name (``restart``).
    """

    def __init__(
        self,
        bootstrap: str,
        group_id: str,
        spec: MemberSpec,
        runner: Callable[..., None] = run_member,
    ) -> None:
        self.bootstrap, self.group_id, self.spec, self.runner = bootstrap, group_id, spec, runner
        self._folder = tempfile.TemporaryDirectory(prefix="kc-lesson09-")
        self.members: dict[str, Member] = {}
        self.retired: list[Member] = []
        self.marks: list[tuple[float, str]] = []  # (time, what the demo did), for the chart
        self._quiet = ExitStack()

    def __enter__(self) -> Group:
        # The kernel's own clients (the broker watch, admin calls) log warnings when the machine
        # is busy; they say nothing the demo's result does not, so they stay out of the output.
        self._quiet.enter_context(grader_busy())
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()

    @property
    def folder(self) -> Path:
        """A scratch folder that lives as long as the group (for a member's offset store)."""
        return Path(self._folder.name)

    def shutdown(self) -> None:
        for member in list(self.members.values()):
            member.kill()
        self._folder.cleanup()
        self._quiet.close()

    def mark(self, what: str) -> None:
        self.marks.append((time.time(), what))

    def add(self, name: str, **overrides: Any) -> Member:
        """Start a member named ``name`` (the spec's settings, with ``overrides``)."""
        spec = replace(self.spec, **overrides) if overrides else self.spec
        if name in self.members:
            self.retired.append(self.members.pop(name))
        member = Member(
            spec, self.bootstrap, self.group_id, name, Path(self._folder.name), self.runner
        )
        self.members[name] = member
        self.mark(f"{name} joins")
        return member.start()

    def close(self, name: str) -> None:
        self.mark(f"{name} closes")
        self.members[name].close()

    def close_all(self) -> None:
        """Close every running member (all at once: each leaves as the others do)."""
        running = [m for m in self.members.values() if m.alive]
        for member in running:
            member._stop.set()
        for member in running:
            member.close()

    def crash(self, name: str) -> None:
        self.mark(f"{name} crashes")
        self.members[name].crash()

    def everyone(self) -> list[Member]:
        return self.retired + list(self.members.values())

    def events(self) -> list[dict]:
        """Every member's events (retired ones too), in time order."""
        found = [e for m in self.everyone() for e in m.events()]
        return sorted(found, key=lambda e: e["t"])

    def owned_now(self) -> dict[str, set[tuple[str, int]]]:
        """What each running member owns by its own callbacks (a crashed one owns nothing)."""
        owned: dict[str, set[tuple[str, int]]] = {}
        for member in self.everyone():
            mine: set[tuple[str, int]] = set()
            for e in member.events():
                if e["event"] == "assigned":
                    mine |= {tuple(p) for p in e["partitions"]}
                elif e["event"] in ("revoked", "lost"):
                    mine -= {tuple(p) for p in e["partitions"]}
                elif e["event"] == "closed":
                    mine = set()
            if member.how_ended == "crashed" or not member.alive:
                mine = set()
            if mine:
                owned[member.name] = mine
        return owned

    def processed(self) -> list[tuple[str, int, int, str]]:
        """(topic, partition, offset, member) for every record any member handled."""
        return [
            (e["topic"], e["partition"], e["offset"], e["member"])
            for e in self.events()
            if e["event"] == "processed"
        ]

    def wait_until(self, condition: Callable[[], bool], deadline_s: float) -> bool:
        """Poll ``condition`` every 50 ms until it holds or ``deadline_s`` passes."""
        stop_at = time.monotonic() + deadline_s
        while time.monotonic() < stop_at:
            if condition():
                return True
            time.sleep(0.05)
        return condition()


def covers(owned: dict[str, set], partitions: set, members: int | None = None) -> bool:
    """Every partition owned by exactly one member (and, if given, by that many members)."""
    seen = [p for mine in owned.values() for p in mine]
    ok = sorted(seen) == sorted(partitions)
    return ok and (members is None or len(owned) == members)


def topic_partitions(topic: str, count: int) -> set[tuple[str, int]]:
    """``{(topic, 0), ..., (topic, count - 1)}``."""
    return {(topic, p) for p in range(count)}
