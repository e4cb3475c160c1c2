"""Lesson 03's measurements: one producer configuration at a time, on its own fresh topic.

Each run sends the same events with a fresh KafkaProducer and then asks two witnesses what
happened: the producer's own metrics (how many produce requests it sent) and the broker (the
partition's size in its log directory, and the batches it stored, read raw with their codec).
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import asdict, dataclass

from kafka import KafkaProducer

from autograder.grading import kafka_io
from autograder.grading.exercises.lesson03 import encode, make_events

DEMO_SEED = "lesson03"


@dataclass(frozen=True)
class Run:
    """What one configuration did with the same events."""

    label: str
    records: int
    seconds: float  # first send to the end of flush()
    requests: int  # produce requests, from the producer's metrics
    batches: int  # record batches the broker stored
    bytes_stored: int  # the partition's size in the broker's log directory
    codecs: tuple[str, ...]  # the codecs written in the stored batches' headers

    @property
    def records_per_s(self) -> float:
        return self.records / self.seconds if self.seconds else float("inf")

    def row(self) -> dict:
        return {**asdict(self), "records_per_s": round(self.records_per_s)}


def event_values(count: int = 1000, seed: str = DEMO_SEED) -> list[bytes]:
    """The lesson's click events as the JSON bytes every run sends."""
    return [encode(event) for event in make_events(seed, count)]


def _produce_requests(producer: KafkaProducer, records: int) -> int:
    """Produce requests sent: kafka-python records each request's record count in one sensor,
    so records / records-per-request-avg is how many requests there were."""
    per_request = producer.metrics()["producer-metrics"]["records-per-request-avg"]
    return round(records / per_request) if per_request else 0


@contextlib.contextmanager
def _quiet_event_loop_timing():
    """kafka-python warns when one step of its network loop takes over 100 ms (compressing a
    big batch on a busy machine does); that is about its internals, not the lesson."""
    logger = logging.getLogger("kafka.net.selector")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def run(
    bootstrap: str, topic: str, values: list[bytes], label: str = "", gap_s: float = 0.0, **settings
) -> Run:
    """Send ``values`` to ``topic`` with a producer made from ``settings``, flush once, and
    measure. ``gap_s`` pauses between sends, as when events trickle in one by one."""
    with _quiet_event_loop_timing():
        return _run(bootstrap, topic, values, label, gap_s, settings)


def _run(
    bootstrap: str, topic: str, values: list[bytes], label: str, gap_s: float, settings: dict
) -> Run:
    producer = KafkaProducer(bootstrap_servers=bootstrap, **settings)
    try:
        producer.partitions_for(topic)  # metadata first: the clock measures sending only
        started = time.perf_counter()
        for value in values:
            producer.send(topic, value=value)
            if gap_s:
                time.sleep(gap_s)
        producer.flush(timeout=60)
        seconds = time.perf_counter() - started
        requests = _produce_requests(producer, len(values))
    finally:
        producer.close(timeout=5)
    batches = kafka_io.stored_batches(bootstrap, topic)
    return Run(
        label or _label(settings),
        len(values),
        seconds,
        requests,
        len(batches),
        sum(kafka_io.log_dir_sizes(bootstrap, topic).values()),
        tuple(sorted({b.codec for b in batches})),
    )


def _label(settings: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in settings.items()) or "defaults"


def compare(
    bootstrap: str,
    topic_prefix: str,
    values: list[bytes],
    configs: dict[str, dict],
    gap_s: float = 0.0,
    topic_configs: dict[str, str] | None = None,
) -> list[Run]:
    """One run per configuration (label -> producer settings), each on a fresh one-partition
    topic named ``<topic_prefix>-<n>``, one after the other."""
    runs = []
    for n, (label, settings) in enumerate(configs.items()):
        topic = f"{topic_prefix}-{n}"
        kafka_io.create_topic(bootstrap, topic, 1, topic_configs)
        runs.append(run(bootstrap, topic, values, label=label, gap_s=gap_s, **settings))
    return runs


def show(runs: list[Run], baseline: Run | None = None) -> None:
    """Print the runs as a table; with a baseline, how many times fewer bytes each stored."""
    baseline = baseline or runs[0]
    print(
        f"{'configuration':<28}{'records/s':>10}{'requests':>9}{'batches':>8}"
        f"{'bytes stored':>13}{'vs base':>9}  stored codec"
    )
    for r in runs:
        print(
            f"{r.label:<28}{r.records_per_s:>10,.0f}{r.requests:>9}{r.batches:>8}"
            f"{r.bytes_stored:>13,}{baseline.bytes_stored / r.bytes_stored:>8.1f}x  "
            f"{', '.join(r.codecs)}"
        )


def plot(runs: list[Run], title: str, log_requests: bool = False) -> None:
    """Three bar charts side by side: records per second, requests sent, bytes stored."""
    import matplotlib.pyplot as plt

    labels = [r.label for r in runs]
    figure, axes = plt.subplots(1, 3, figsize=(11, 2.8))
    panels = (
        (axes[0], [r.records_per_s for r in runs], "records per second"),
        (axes[1], [r.requests for r in runs], "produce requests sent"),
        (axes[2], [r.bytes_stored / 1024 for r in runs], "KiB stored on the broker"),
    )
    for axis, heights, name in panels:
        axis.bar(range(len(runs)), heights, color="#4c72b0")
        axis.set_title(name, fontsize=10)
        axis.set_xticks(range(len(runs)), labels, rotation=30, ha="right", fontsize=8)
    if log_requests:
        axes[1].set_yscale("log")
    figure.suptitle(title, fontsize=11)
    figure.tight_layout()
    plt.show()


def topic_compression(
    bootstrap: str,
    topic: str,
    values: list[bytes],
    topic_codec: str,
    producer_codec: str | None = None,
) -> tuple[str, ...]:
    """Create ``topic`` with the topic setting compression.type = ``topic_codec``, send with
    ``producer_codec``; the codecs the broker stored."""
    kafka_io.create_topic(bootstrap, topic, 1, {"compression.type": topic_codec})
    return run(bootstrap, topic, values, compression_type=producer_codec, linger_ms=50).codecs


def random_values(count: int = 200, size: int = 300, seed: str = DEMO_SEED) -> list[bytes]:
    """``count`` values of ``size`` random bytes: nothing repeats, so no codec can shrink them."""
    import random

    rng = random.Random(seed)
    return [rng.randbytes(size) for _ in range(count)]
