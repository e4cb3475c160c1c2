"""Proofs of lesson 03's drills (batching and compression): what linger.ms, batch.size and
compression.type do, judged by what the broker stored.

Each proof runs lesson 03's own measurements (autograder.demos.lesson03.compare): the same
click events with one producer configuration at a time, each on a fresh one-partition topic, and
reads back the batches the broker stored, their codec and the partition's bytes on disk.
"""

from __future__ import annotations

from autograder.demos import lesson03 as demos
from autograder.drills.proof import Chart, Proof
from autograder.grading.namespace import Namespace


def _bytes_chart(title: str, runs: list[demos.Run]) -> Chart:
    return Chart(
        title=title,
        x_label="configuration",
        y_label="bytes stored",
        bars={r.label: r.bytes_stored for r in runs},
    )


def _rows(runs: list[demos.Run]) -> tuple[dict, ...]:
    return tuple(
        {
            "configuration": r.label,
            "batches": r.batches,
            "bytes stored": r.bytes_stored,
            "stored codec": ", ".join(r.codecs),
        }
        for r in runs
    )


def codec_skipped_when_it_cannot_shrink(bootstrap: str, namespace: Namespace) -> Proof:
    """200 values of 300 random bytes, sent uncompressed and with compression_type='lz4'."""
    plain, lz4 = demos.compare(
        bootstrap,
        namespace.topic("noise"),
        demos.random_values(200),
        {"none": {"linger_ms": 200}, "lz4": {"compression_type": "lz4", "linger_ms": 200}},
    )
    observed = 0 if lz4.codecs == ("lz4",) else 1 if lz4.codecs == ("none",) else 2
    return Proof(
        observed=observed,
        lines=(
            f"compression_type='lz4' on random bytes: the broker stored codec "
            f"{', '.join(lz4.codecs)} in {lz4.batches} batch(es), {lz4.bytes_stored:,} bytes",
            f"the same values uncompressed: {plain.bytes_stored:,} bytes",
        ),
        table=_rows([plain, lz4]),
    )


def topic_codec_makes_the_broker_compress(bootstrap: str, namespace: Namespace) -> Proof:
    """An uncompressed producer writes to a topic created with compression.type=zstd."""
    codecs = demos.topic_compression(
        bootstrap, namespace.topic("topic-zstd"), demos.event_values(200), "zstd"
    )
    observed = 0 if codecs == ("none",) else 1 if codecs == ("zstd",) else 2
    return Proof(
        observed=observed,
        lines=(
            "the producer sent with compression_type=None to a topic with compression.type=zstd",
            f"the codec in the batches the broker stored: {', '.join(codecs) or 'no batches'}",
        ),
    )


def record_bigger_than_batch_size_gets_its_own_batch(bootstrap: str, namespace: Namespace) -> Proof:
    """200 click events (each over 100 bytes) with batch_size=100 and linger_ms=200."""
    values = demos.event_values(200)
    [run] = demos.compare(
        bootstrap,
        namespace.topic("tiny-batch"),
        values,
        {"batch_size=100": {"batch_size": 100, "linger_ms": 200}},
    )
    return Proof(
        observed=run.batches,
        lines=(
            f"the smallest event is {min(map(len, values))} bytes, batch_size is 100",
            f"200 events were stored in {run.batches} batches, none refused",
        ),
    )


def compression_needs_big_batches(bootstrap: str, namespace: Namespace) -> Proof:
    """200 click events uncompressed, then with zstd in one-record batches (batch_size=100) and
    in 16 KiB batches."""
    plain, single, full = demos.compare(
        bootstrap,
        namespace.topic("per-batch"),
        demos.event_values(200),
        {
            "none": {"linger_ms": 200},
            "zstd, batch_size=100": {
                "compression_type": "zstd",
                "batch_size": 100,
                "linger_ms": 200,
            },
            "zstd, batch_size=16384": {"compression_type": "zstd", "linger_ms": 200},
        },
    )
    ratio = single.bytes_stored / plain.bytes_stored
    observed = 2 if ratio > 1.02 else 1 if ratio > 0.8 else 0
    return Proof(
        observed=observed,
        lines=(
            f"zstd in one-record batches stored {ratio:.0%} of the uncompressed bytes "
            f"({single.bytes_stored:,} against {plain.bytes_stored:,})",
            f"zstd in 16 KiB batches stored {full.bytes_stored / plain.bytes_stored:.0%} "
            f"({full.bytes_stored:,} bytes in {full.batches} batches)",
        ),
        table=_rows([plain, single, full]),
        chart=_bytes_chart("Bytes stored for 200 click events", [plain, single, full]),
    )


def codec_does_not_change_the_batch_count(bootstrap: str, namespace: Namespace) -> Proof:
    """600 click events with linger_ms=200 and the default batch_size, uncompressed and with
    zstd: how many batches each took."""
    plain, zstd = demos.compare(
        bootstrap,
        namespace.topic("codec-batches"),
        demos.event_values(600),
        {"none": {"linger_ms": 200}, "zstd": {"compression_type": "zstd", "linger_ms": 200}},
    )
    observed = 1 if zstd.batches == plain.batches else 0 if zstd.batches < plain.batches else 2
    return Proof(
        observed=observed,
        lines=(
            f"uncompressed: {plain.batches} batches, {plain.bytes_stored:,} bytes",
            f"zstd: {zstd.batches} batches, {zstd.bytes_stored:,} bytes "
            f"({plain.bytes_stored / zstd.bytes_stored:.1f}x smaller)",
        ),
        table=_rows([plain, zstd]),
    )


def linger_gathers_trickling_records(bootstrap: str, namespace: Namespace) -> Proof:
    """100 events sent one every 2 ms: linger_ms=0 (the default), batch_size=262144,
    linger_ms=50, compression_type='zstd'; the batches the broker stored for each."""
    baseline, *changes = demos.compare(
        bootstrap,
        namespace.topic("trickle"),
        demos.event_values(100),
        {
            "defaults": {},
            "batch_size=262144": {"batch_size": 262144},
            "linger_ms=50": {"linger_ms": 50},
            "compression_type=zstd": {"compression_type": "zstd"},
        },
        gap_s=0.002,
    )
    fewest = min(range(len(changes)), key=lambda n: changes[n].batches)
    return Proof(
        observed=fewest,
        lines=(
            f"with the defaults, 100 trickling events took {baseline.batches} batches",
            *(f"{r.label}: {r.batches} batches" for r in changes),
        ),
        table=_rows([baseline, *changes]),
        chart=Chart(
            title="Batches for 100 events arriving every 2 ms",
            x_label="configuration",
            y_label="batches (one produce request each)",
            bars={r.label: r.batches for r in (baseline, *changes)},
        ),
    )


def bigger_batches_save_requests_not_bytes(bootstrap: str, namespace: Namespace) -> Proof:
    """600 click events uncompressed with linger_ms=200 and batch_size 4096, then 262144."""
    small, big = demos.compare(
        bootstrap,
        namespace.topic("batch-bytes"),
        demos.event_values(600),
        {
            "batch_size=4096": {"batch_size": 4096, "linger_ms": 200},
            "batch_size=262144": {"batch_size": 262144, "linger_ms": 200},
        },
    )
    fewer_batches = big.batches * 5 <= small.batches
    saved = 1 - big.bytes_stored / small.bytes_stored
    if fewer_batches:
        observed = 0 if saved < 0.05 else 1
    else:
        observed = 2 if saved >= 0.05 else 3
    return Proof(
        observed=observed,
        lines=(
            f"batch_size=4096: {small.batches} batches, {small.bytes_stored:,} bytes",
            f"batch_size=262144: {big.batches} batch(es), {big.bytes_stored:,} bytes "
            f"({saved:.1%} fewer)",
        ),
        table=_rows([small, big]),
    )


PROOFS = {
    "codec_skipped_when_it_cannot_shrink": codec_skipped_when_it_cannot_shrink,
    "topic_codec_makes_the_broker_compress": topic_codec_makes_the_broker_compress,
    "record_bigger_than_batch_size_gets_its_own_batch": (
        record_bigger_than_batch_size_gets_its_own_batch
    ),
    "compression_needs_big_batches": compression_needs_big_batches,
    "codec_does_not_change_the_batch_count": codec_does_not_change_the_batch_count,
    "linger_gathers_trickling_records": linger_gathers_trickling_records,
    "bigger_batches_save_requests_not_bytes": bigger_batches_save_requests_not_bytes,
}
