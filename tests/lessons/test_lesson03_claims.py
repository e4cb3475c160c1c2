"""What lesson 03 tells learners about batching and compression, shown happening on the broker.

Each sweep runs once per module (the same calls the notebook makes); the tests read its runs.
"""

from __future__ import annotations

import pytest

from autograder.demos import lesson03 as demos
from autograder.grading import kafka_io

CODECS = ("none", "gzip", "snappy", "lz4", "zstd")


LESSON = "03"  # for the `module_namespace` fixture (tests/conftest.py)


@pytest.fixture(scope="module")
def prefix(module_namespace):
    return module_namespace.topic("claims")


@pytest.fixture(scope="module")
def values():
    return demos.event_values(600)


@pytest.fixture(scope="module")
def trickle(bootstrap, prefix, values):
    return demos.compare(
        bootstrap,
        f"{prefix}-linger",
        values[:100],
        {"linger 0": {}, "linger 50": {"linger_ms": 50}},
        gap_s=0.002,
    )


@pytest.fixture(scope="module")
def sizes(bootstrap, prefix, values):
    return demos.compare(
        bootstrap,
        f"{prefix}-size",
        values,
        {str(s): {"batch_size": s, "linger_ms": 200} for s in (4096, 16384, 262144)},
    )


@pytest.fixture(scope="module")
def codecs(bootstrap, prefix, values):
    return {
        run.label: run
        for run in demos.compare(
            bootstrap,
            f"{prefix}-codec",
            values,
            {c: {"compression_type": None if c == "none" else c, "linger_ms": 200} for c in CODECS},
        )
    }


def test_linger_sends_fewer_requests_when_records_trickle_in(trickle):
    eager, lingered = trickle
    assert lingered.requests * 3 < eager.requests, (eager, lingered)


def test_each_produce_request_carries_one_batch_on_a_one_partition_topic(trickle, sizes):
    for run in (*trickle, *sizes):
        assert run.requests == run.batches, run


def test_larger_batches_mean_fewer_requests_but_about_the_same_bytes_uncompressed(sizes):
    requests = [run.requests for run in sizes]
    assert requests == sorted(requests, reverse=True) and len(set(requests)) == len(requests)
    stored = [run.bytes_stored for run in sizes]
    assert max(stored) < 1.05 * min(stored), stored


def test_a_full_batch_leaves_without_waiting_out_linger(sizes):
    small = sizes[0]  # batch_size=4096 with linger_ms=200: dozens of full batches
    assert small.batches > 20
    assert small.seconds < small.batches * 0.2 / 4, small


def test_every_codec_stores_the_events_in_at_least_three_times_fewer_bytes(codecs):
    plain = codecs["none"].bytes_stored
    for name in CODECS[1:]:
        assert codecs[name].bytes_stored * 3 <= plain, codecs[name]


def test_the_stored_batches_carry_the_codec_the_producer_used(codecs):
    assert {name: run.codecs for name, run in codecs.items()} == {c: (c,) for c in CODECS}


def test_kafka_python_fills_a_batch_by_its_bytes_before_compression(codecs, values):
    batches = {name: run.batches for name, run in codecs.items()}
    assert len(set(batches.values())) == 1, batches
    assert batches["none"] >= sum(len(v) for v in values) // 16384


def test_compression_gains_little_on_one_record_batches_and_more_as_batches_grow(
    bootstrap, prefix, values
):
    runs = demos.compare(
        bootstrap,
        f"{prefix}-per-batch",
        values[:200],
        {
            "none": {"linger_ms": 200},
            **{
                str(s): {"compression_type": "zstd", "batch_size": s, "linger_ms": 200}
                for s in (100, 2048, 16384, 262144)
            },
        },
    )
    plain, *zstd = [run.bytes_stored for run in runs]
    assert runs[1].batches == 200  # batch_size=100: one record per batch
    assert zstd[0] > 0.8 * plain, "one-record batches should barely shrink"
    assert zstd == sorted(zstd, reverse=True) and len(set(zstd)) == len(zstd)
    assert zstd[-1] * 5 < plain


def test_a_topic_compression_type_makes_the_broker_compress(bootstrap, prefix, values):
    assert demos.topic_compression(bootstrap, f"{prefix}-topic-zstd", values[:200], "zstd") == (
        "zstd",
    )


def test_a_consumer_reads_compressed_batches_back_as_the_values_sent(
    bootstrap, prefix, values, codecs
):
    stored = kafka_io.read_all(bootstrap, f"{prefix}-codec-{CODECS.index('zstd')}")
    assert [r.value for r in stored] == values


def test_log_dir_size_is_the_sum_of_the_stored_batches(bootstrap, prefix, codecs):
    topic = f"{prefix}-codec-{CODECS.index('gzip')}"
    batches = kafka_io.stored_batches(bootstrap, topic)
    assert kafka_io.log_dir_sizes(bootstrap, topic) == {0: sum(b.size for b in batches)}
    assert codecs["gzip"].bytes_stored == sum(b.size for b in batches)


def test_the_events_are_the_same_for_a_seed_and_differ_between_seeds():
    from autograder.grading.exercises.lesson03 import make_events

    assert make_events("a1", 50) == make_events("a1", 50)
    assert make_events("a1", 50) != make_events("b2", 50)


def test_a_batch_the_codec_cannot_shrink_is_stored_uncompressed(bootstrap, prefix):
    noise = demos.random_values(200)
    runs = demos.compare(
        bootstrap,
        f"{prefix}-noise",
        noise,
        {c: {"compression_type": None if c == "none" else c, "linger_ms": 200} for c in CODECS},
    )
    by_codec = {r.label: r for r in runs}
    for codec in ("lz4", "zstd"):
        assert by_codec[codec].codecs == ("none",)
        # The same records as plain ones (timestamp deltas may take a byte more or less).
        assert abs(by_codec[codec].bytes_stored - by_codec["none"].bytes_stored) < 200
    # gzip finds a little to squeeze in the records' own framing: kept, for next to nothing.
    assert by_codec["gzip"].codecs == ("gzip",)
    assert by_codec["gzip"].bytes_stored > 0.97 * by_codec["none"].bytes_stored


def test_kafka_python_compresses_gzip_at_level_9_whatever_you_ask():
    # kafka/codec.py gzip_encode: no level given (kafka/record/default_records.py) means 9.
    from kafka.codec import gzip_encode

    payload = b"".join(demos.event_values(200))
    assert len(gzip_encode(payload)) == len(gzip_encode(payload, compresslevel=9))
    assert len(gzip_encode(payload)) < len(gzip_encode(payload, compresslevel=1))
