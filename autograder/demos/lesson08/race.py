"""The lag race: a slow consumer falls behind a steady producer, then a second consumer joins
its group and the two catch up, while the lag is sampled from outside through the admin API.

The producer and both consumers are threads of this process. Each closes its own client in a
``finally``, and the race waits for them before it returns, whatever happened: a closed consumer
leaves its group at once, so the group ends with no member.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from kafka import KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError

from autograder.cli.group_admin import GroupAdmin, UnknownGroup
from autograder.grading.quiet import grader_busy


def _consume(
    bootstrap: str,
    topic: str,
    group: str,
    client_id: str,
    seconds_per_record: float,
    stop: threading.Event,
    joined: threading.Event,
) -> None:
    """A group member whose work takes ``seconds_per_record`` a record, committing after each
    poll, until ``stop`` is set; then it closes, which makes it leave the group.

    The work is paced on the clock (the n-th record is done no sooner than n times
    ``seconds_per_record`` after the first), so its time spent polling and committing does not
    slow it further: the consumer's speed stays what the lesson says, even on a busy machine.
    """
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        client_id=client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=20,
        session_timeout_ms=6000,
        heartbeat_interval_ms=300,
        request_timeout_ms=7000,
    )
    try:
        done, since = 0, time.monotonic()
        while not stop.is_set():
            batches = consumer.poll(timeout_ms=100)
            if consumer.assignment():
                joined.set()
            count = sum(len(records) for records in batches.values())
            if not count:
                done, since = 0, time.monotonic()  # idle time is not saved up for later
                continue
            done += count
            stop.wait(since + done * seconds_per_record - time.monotonic())  # the slow work
            try:
                consumer.commit()
            except KafkaError:
                pass  # a rebalance took the partition away; its new owner carries on
    finally:
        consumer.close(autocommit=False)


def _produce(
    bootstrap: str, topic: str, partitions: int, per_second: float, stop: threading.Event
) -> None:
    """Write ``per_second`` records a second, round-robin over the partitions, until stopped."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=20)
    try:
        started, sent = time.monotonic(), 0
        while not stop.is_set():
            wait = started + sent / per_second - time.monotonic()
            if wait > 0:
                stop.wait(wait)
                continue
            producer.send(topic, value=b"click %d" % sent, partition=sent % partitions)
            sent += 1
    finally:
        producer.close(timeout=5)


@dataclass(frozen=True)
class Sample:
    t: float  # seconds since the producer started
    lags: dict[int, int]  # partition -> lag
    members: int
    spread: tuple[int, ...] = ()  # how many partitions each member has, fewest first

    @property
    def total(self) -> int:
        return sum(self.lags.values())


@dataclass
class RaceResult:
    samples: list[Sample] = field(default_factory=list)
    second_started_at: float | None = None
    both_members_at: float | None = None
    members_after: int | None = None
    threads_alive_after: int | None = None
    caught_up_at: float | None = None  # None: the deadline passed first
    deadline_s: float = 0.0
    finished: bool = False  # set before the last call of on_sample

    @property
    def peak(self) -> int:
        return max((s.total for s in self.samples), default=0)

    @property
    def final(self) -> int:
        return self.samples[-1].total if self.samples else 0

    def lag_at(self, t: float) -> int:
        """The total lag of the last sample taken at or before ``t``."""
        before = [s for s in self.samples if s.t <= t]
        return before[-1].total if before else 0

    @property
    def outcome(self) -> str:
        """How the race ended, in a sentence."""
        if self.caught_up_at is not None:
            return f"caught up after {self.caught_up_at:.0f} s"
        return (
            f"not caught up when the {self.deadline_s:.0f} s deadline passed (the machine is "
            "busy: run the cell again)"
        )

    def summary(self) -> dict:
        return {
            "lag when the second consumer started": self.lag_at(self.second_started_at or 0),
            "peak lag": self.peak,
            "lag at the end": self.final,
            "race": self.outcome,
            "members left in the group": self.members_after,
        }


def _await(event: threading.Event, thread: threading.Thread, deadline_s: float, what: str) -> None:
    stop_at = time.monotonic() + deadline_s
    while not event.wait(0.05):
        if not thread.is_alive() or time.monotonic() > stop_at:
            raise RuntimeError(f"{what} did not join its group within {deadline_s:.0f} s")


def lag_race(
    bootstrap: str,
    topic: str,
    group: str,
    live: bool = False,
    per_second: float = 70,
    seconds_per_record: float = 0.02,
    second_after_s: float = 4.0,
    max_s: float = 40.0,
    every_s: float = 0.5,
    on_sample: Callable[[RaceResult], None] | None = None,
) -> RaceResult:
    """Run the race on ``topic`` (2 partitions) until the two consumers have caught up: both
    in the group for 2 s and the lag down to what the producer writes in a quarter of a second.
    On an idle machine that takes about 10 s; ``max_s`` seconds of production is the deadline,
    after which the result's ``outcome`` says the race was not caught up.

    One consumer handles at most ``1 / seconds_per_record`` records a second, fewer than the
    producer's ``per_second``; two handle more. With ``live=True`` a chart in the notebook is
    redrawn at every sample.
    """
    if live and on_sample is None:
        from autograder.demos.lesson08.chart import LiveLagChart

        on_sample = LiveLagChart(topic).update
    stop = threading.Event()
    joined = [threading.Event(), threading.Event()]
    consumers = [
        threading.Thread(
            target=_consume,
            daemon=True,
            args=(
                bootstrap,
                topic,
                group,
                f"slow-consumer-{n + 1}",
                seconds_per_record,
                stop,
                joined[n],
            ),
        )
        for n in range(2)
    ]
    producer = threading.Thread(
        target=_produce, args=(bootstrap, topic, 2, per_second, stop), daemon=True
    )
    result = RaceResult(deadline_s=max_s)
    # kafka-python's own warnings (a busy event loop, a rebalance) would only clutter the cell.
    with grader_busy(), GroupAdmin(bootstrap) as groups:
        try:
            consumers[0].start()
            _await(joined[0], consumers[0], 15, "the first consumer")
            producer.start()
            started = time.monotonic()
            while (now := time.monotonic() - started) < max_s:
                if result.second_started_at is None and now >= second_after_s:
                    consumers[1].start()
                    result.second_started_at = now
                view = groups.describe(group)
                # Before its first commit the group would start from offset 0 (earliest).
                lags = {
                    row.partition: row.end if row.lag is None else row.lag
                    for row in view.partitions
                }
                spread = tuple(sorted(len(m.partitions) for m in view.members))
                result.samples.append(Sample(now, lags, len(view.members), spread))
                if result.both_members_at is None and len(view.members) == 2:
                    result.both_members_at = now
                if on_sample is not None:
                    on_sample(result)
                if (
                    result.both_members_at is not None
                    and now > result.both_members_at + 2
                    and result.samples[-1].total <= per_second * 0.25
                ):
                    result.caught_up_at = now
                    break  # caught up: lag is down to what arrives in a quarter of a second
                time.sleep(max(0.0, every_s - (time.monotonic() - started - now)))
        finally:
            stop.set()
            for thread in (producer, *consumers):
                if thread.is_alive():
                    thread.join(10)
        result.threads_alive_after = sum(t.is_alive() for t in (producer, *consumers))
        try:
            result.members_after = len(groups.describe(group).members)
        except UnknownGroup:
            result.members_after = 0
    result.finished = True
    if on_sample is not None:
        on_sample(result)
    return result
