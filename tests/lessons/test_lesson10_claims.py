"""What lesson 10 tells learners about transactions, shown happening on the real broker: real
SIGKILLs, real fencing, the raw log's markers, and the course broker's own settings."""

from __future__ import annotations

import re

import pytest
from kafka import KafkaProducer

from autograder.broker.cluster_files import ClusterLayout, render_node_properties
from autograder.cli import topics
from autograder.demos.lesson10 import (
    blocking,
    broker_settings,
    cost,
    fencing,
    lso,
    pipeline,
    recap,
    side_effects,
    transactions,
)
from autograder.demos.lesson10.reading import both_views, end_and_stable_offsets
from autograder.grading import kafka_io

LESSON = "10"  # for the `namespace` fixtures (tests/conftest.py)

STATE_LOG = ("transaction.state.log.replication.factor", "transaction.state.log.min.isr")


def _transfer_and_abort(bootstrap: str, debits: str, credits: str, transactional_id: str):
    """The notebook's bank cell: one transfer committed, one aborted after a flush."""
    bank = KafkaProducer(bootstrap_servers=bootstrap, transactional_id=transactional_id)
    try:
        bank.init_transactions()
        bank.begin_transaction()
        bank.send(debits, b"alice -10")
        bank.send(credits, b"bob +10")
        bank.commit_transaction()
        bank.begin_transaction()
        bank.send(debits, b"carol -99")
        bank.send(credits, b"dave +99")
        bank.flush()
        bank.abort_transaction()
    finally:
        bank.close()


@pytest.fixture
def bank(bootstrap, topic, namespace):
    debits, credits = topic("debits"), topic("credits")
    _transfer_and_abort(bootstrap, debits, credits, namespace.topic("bank"))
    return debits, credits


# ----- 1. what idempotence alone does not give -------------------------------------------------


def test_a_restarted_idempotent_producer_gets_a_new_id_so_its_resend_is_a_duplicate(
    bootstrap, topic
):
    found = recap.resend_after_restart(bootstrap, topic("payments"))
    assert found["values in the topic"] == ["payment 1", "payment 1"]
    assert len(set(found["producer ids"])) == 2, found


def test_an_idempotent_producer_killed_between_two_partitions_leaves_half_a_transfer(
    bootstrap, topic
):
    assert recap.half_a_transfer(bootstrap, topic("transfers", 2)) == {
        0: ["debit alice 10"],
        1: [],
    }


# ----- 2. a transaction across two topics --------------------------------------------------------


def test_read_committed_sees_only_the_committed_transfer_read_uncommitted_sees_both(
    bootstrap, bank
):
    debits, credits = bank
    assert both_views(bootstrap, [debits, credits]) == {
        "read_uncommitted": {debits: ["alice -10", "carol -99"], credits: ["bob +10", "dave +99"]},
        "read_committed": {debits: ["alice -10"], credits: ["bob +10"]},
    }


def test_commit_and_abort_markers_take_offsets_that_no_consumer_returns(bootstrap, bank):
    debits, credits = bank
    rows = transactions.log_rows(bootstrap, debits)
    assert [(r["offset"], r["entry"]) for r in rows] == [
        (0, "alice -10"),
        (1, "COMMIT"),
        (2, "carol -99"),
        (3, "ABORT"),
    ]
    assert all(r["transactional"] for r in rows)
    assert len({(r["producer id"], r["epoch"]) for r in rows}) == 1
    # Every partition the transactions touched got its own pair of markers.
    assert [r["entry"] for r in transactions.log_rows(bootstrap, credits)] == [
        "bob +10",
        "COMMIT",
        "dave +99",
        "ABORT",
    ]
    assert end_and_stable_offsets(bootstrap, debits) == {
        "end offset": {0: 4},
        "last stable offset": {0: 4},
    }
    lag = lso.lag_per_isolation_level(bootstrap, debits)
    assert lag["read_uncommitted"] == {"records read": 2, "position": 4, "end offset": 4, "lag": 0}
    assert lag["read_committed"] == {"records read": 1, "position": 4, "end offset": 4, "lag": 0}


def test_a_transactional_producer_refuses_a_send_before_begin_transaction(
    bootstrap, topic, namespace
):
    said = transactions.send_outside_a_transaction(bootstrap, topic("t"), namespace.topic("nb"))
    assert said.startswith("IllegalStateError") and "Cannot call send in state READY" in said


def test_transactions_refuse_idempotence_off_and_a_timeout_above_the_brokers_maximum(
    bootstrap, namespace
):
    found = transactions.refused_settings(bootstrap, namespace.topic("refused"))
    assert found["enable_idempotence=False"].startswith("KafkaConfigurationError")
    # The broker's INVALID_TRANSACTION_TIMEOUT, wrapped by kafka-python 3.0.12 in a KafkaError.
    assert found["transaction_timeout_ms=900001"].startswith("KafkaError")
    assert "InvalidTransactionTimeoutError" in found["transaction_timeout_ms=900001"]
    [configs] = kafka_io.broker_configs(bootstrap, ["transaction.max.timeout.ms"]).values()
    assert configs["transaction.max.timeout.ms"] == "900000"


def test_init_transactions_gives_up_after_max_block_ms_but_commit_transaction_waits_on(
    bootstrap, topic, namespace
):
    blocked = topic("blocked")
    found = blocking.held_back_answers(bootstrap, blocked, namespace.topic("blocked"))
    init = re.fullmatch(r"KafkaTimeoutError after ([\d.]+) s", found["init_transactions()"])
    assert init and 0.9 <= float(init.group(1)) <= 3.0, found
    assert found["commit_transaction()"].startswith("still waiting after"), found
    assert found["once the answer flows"].startswith("returned"), found
    committed = kafka_io.read_all(bootstrap, blocked, isolation="read_committed")
    assert [r.value for r in committed] == [b"committed late"]


# ----- 3. the last stable offset --------------------------------------------------------------


def test_an_open_transaction_holds_read_committed_at_the_lso_while_read_uncommitted_reads_on(
    bootstrap, topic, namespace
):
    pending = topic("pending")
    producer = lso.leave_a_transaction_open(bootstrap, pending, namespace.topic("pending"))
    try:
        assert end_and_stable_offsets(bootstrap, pending) == {
            "end offset": {0: 10},
            "last stable offset": {0: 4},
        }
        held = lso.lag_per_isolation_level(bootstrap, pending)
        assert held["read_uncommitted"] == {
            "records read": 9,
            "position": 10,
            "end offset": 10,
            "lag": 0,
        }
        assert held["read_committed"] == {
            "records read": 3,
            "position": 4,
            "end offset": 10,
            "lag": 6,
        }
        # What `kafka-course topic dump` shows: both bounds, and the waiting records as open.
        bounds, _, outcomes = topics.dump(bootstrap, pending)
        assert bounds == {0: (10, 4)}
        assert [outcomes[(0, offset)] for offset in range(4, 8)] == ["open"] * 4
        producer.commit_transaction()
    finally:
        producer.close()
    freed = lso.lag_per_isolation_level(bootstrap, pending)
    assert freed["read_committed"] == {
        "records read": 9,
        "position": 11,
        "end offset": 11,
        "lag": 0,
    }


def test_the_coordinator_aborts_a_timed_out_transaction_and_fences_its_late_commit(
    bootstrap, topic, namespace
):
    timed_out = topic("timed-out")
    found = lso.abort_by_timeout(bootstrap, timed_out, namespace.topic("slow"), 1000)
    interval_s = lso.cleanup_interval_ms(bootstrap) / 1000
    # Aborted at the coordinator's first check after the timeout: 1 s .. 1 s + one interval.
    assert found["aborted after s"] is not None, found
    assert 0.8 <= found["aborted after s"] <= 1 + interval_s + 3, found
    assert found["the producer's commit"].startswith("ProducerFencedError"), found
    rows = transactions.log_rows(bootstrap, timed_out)
    assert [(r["entry"], r["epoch"]) for r in rows] == [("forgotten", 0), ("ABORT", 1)]


def test_the_timed_out_transaction_check_runs_every_10_s_as_kafkas_default(bootstrap):
    assert lso.cleanup_interval_ms(bootstrap) == 10_000
    settings = broker_settings.transaction_settings(bootstrap)
    assert settings[lso.CLEANUP_INTERVAL] == {"this broker": "10000", "Kafka default": "10000"}


def test_a_new_init_transactions_with_the_same_id_aborts_the_open_transaction_at_once(
    bootstrap, topic, namespace
):
    restarted = topic("restarted")
    seconds = lso.abort_by_new_instance(bootstrap, restarted, namespace.topic("restarted"))
    assert seconds is not None and seconds < 5, seconds  # the producer's timeout is 60 s
    assert [r["entry"] for r in transactions.log_rows(bootstrap, restarted)] == [
        "left open",
        "ABORT",
    ]


# ----- 4. consume-transform-produce under crashes ------------------------------------------------


@pytest.fixture(scope="module")
def pipeline_audits(bootstrap, module_namespace):
    orders = module_namespace.topic("orders")
    kafka_io.create_topic(bootstrap, orders, 2)
    pipeline.fill(bootstrap, orders, 12)
    return orders, pipeline.crash_both(bootstrap, orders, module_namespace.group("pipe"))


def test_a_transactional_pipeline_killed_twice_has_every_result_once_under_read_committed(
    bootstrap, pipeline_audits, module_namespace
):
    orders, audits = pipeline_audits
    audit = audits["exactly once (transactions)"]
    assert audit["runs"][:2] == [f"killed {crash}" for crash in pipeline.CRASHES]
    assert (audit["orders"], audit["receipts read_committed"]) == (12, 12), audit
    assert audit["missing"] == 0 and audit["twice or more"] == 0, audit
    # The crash before the commit left its receipts in the log, aborted.
    assert audit["receipts read_uncommitted"] > 12, audit
    group = module_namespace.group("pipe-0")
    committed = kafka_io.committed_offsets(bootstrap, group)
    ends = kafka_io.end_offsets(bootstrap, orders)
    assert committed == {(orders, p): end for p, end in ends.items()}


def test_the_same_pipeline_with_plain_commits_repeats_the_batch_of_the_crash(pipeline_audits):
    _, audits = pipeline_audits
    audit = audits["at least once (plain)"]
    assert audit["missing"] == 0 and audit["twice or more"] > 0, audit
    # No isolation level tells those copies apart: they are all committed.
    assert audit["receipts read_committed"] == audit["receipts read_uncommitted"] > 12, audit


# ----- 5. zombie fencing ----------------------------------------------------------------------


def test_the_newer_init_transactions_fences_the_older_instances_commit(bootstrap, topic, namespace):
    takeover = topic("takeover")
    found = fencing.takeover(bootstrap, takeover, namespace.topic("fenced"), "commit")
    assert found["old commit"].startswith("ProducerFencedError"), found
    assert found["read_committed"] == ["from the new instance"]
    assert found["read_uncommitted"] == ["from the old instance", "from the new instance"]
    rows = transactions.log_rows(bootstrap, takeover)
    assert [(r["entry"], r["epoch"]) for r in rows] == [
        ("from the old instance", 0),
        ("ABORT", 1),
        ("from the new instance", 2),
        ("COMMIT", 2),
    ]
    assert len({r["producer id"] for r in rows}) == 1


def test_a_fenced_send_fails_with_invalid_producer_epoch_then_the_commit_with_a_kafka_error(
    bootstrap, topic, namespace
):
    found = fencing.takeover(bootstrap, topic("takeover-send"), namespace.topic("fs"), "send")
    assert found["old send"].startswith("InvalidProducerEpochError"), found
    # kafka-python 3.0.12: a generic KafkaError whose text depends on how far its own epoch
    # bump got when the commit was called.
    assert re.match(r"(KafkaError|ProducerFencedError)", found["old commit"]), found
    assert ("BUMPING_PRODUCER_EPOCH" in found["old commit"]) or (
        "ProducerFencedError" in found["old commit"]
    ), found
    assert found["read_committed"] == ["from the new instance"]


def test_a_shared_transactional_id_fences_the_zombie_a_new_id_per_start_duplicates(
    bootstrap, topic, namespace
):
    source = topic("zombie-orders")
    pipeline.fill(bootstrap, source, 12)
    shared = fencing.zombie_wakes_up(
        bootstrap, source, topic("z0"), namespace.group("z0"), namespace.topic("shared")
    )
    assert shared["zombie's commit"].startswith("ProducerFencedError"), shared
    assert (shared["receipts read_committed"], shared["twice or more"]) == (12, 0), shared
    assert shared["committed offset"] == 12
    random_ids = fencing.zombie_wakes_up(
        bootstrap, source, topic("z1"), namespace.group("z1"), None
    )
    assert random_ids["zombie's commit"] == "ok", random_ids
    # The zombie's batch of 4 is committed twice, and its stale offsets overwrite the group's.
    assert (random_ids["receipts read_committed"], random_ids["twice or more"]) == (16, 4)
    assert random_ids["committed offset"] == 4


# ----- 6. what it costs --------------------------------------------------------------------


def test_records_per_second_grow_with_the_records_per_transaction(bootstrap, topic, namespace):
    rates = cost.throughput_table(bootstrap, topic("cost"), namespace.topic("cost"))
    one, ten, hundred, thousand = (rates[f"{n} per transaction"] for n in (1, 10, 100, 1000))
    # A few thousand records only, on a shared machine where a stall can hit any one size:
    # compare the small sizes with the large ones.
    assert max(one, ten) < max(hundred, thousand), rates
    assert one * 2 < rates["no transactions"], rates


def test_read_committed_waits_longer_the_longer_the_commit_interval(bootstrap, topic, namespace):
    found = cost.delays_by_commit_interval(
        bootstrap, topic("delay"), namespace.topic("delay"), intervals=(0, 400)
    )
    assert all(f["records"] == 40 for f in found.values()), found
    assert found[400]["median ms"] > found[0]["median ms"] + 100, found
    assert found[400]["max ms"] >= 300, found


def _refusal_waits(bootstrap, topic, transactional_id, backoff_ms) -> list[float]:
    """Waits (ms) from each CONCURRENT_TRANSACTIONS refusal to its retry's answer, over up to
    five rounds of 30 one-record transactions: refusals come and go with the broker's pace, and
    none come when the client is slower than the coordinator's markers (nothing to time then).
    """
    waits: list[float] = []
    for round_ in range(5):
        waits += cost.retry_waits(bootstrap, topic, f"{transactional_id}-{round_}", backoff_ms)[1]
        if waits:
            break
    return waits


def test_kafka_python_retries_concurrent_transactions_after_its_whole_retry_backoff(
    bootstrap, topic, namespace
):
    default = _refusal_waits(bootstrap, topic("backoff"), namespace.topic("b100"), 100)
    lowered = _refusal_waits(bootstrap, topic("backoff-20"), namespace.topic("b20"), 20)
    if not default or not lowered:
        pytest.skip("no AddPartitionsToTxn was refused with CONCURRENT_TRANSACTIONS in 150 tries")
    # The sender sleeps retry_backoff_ms before the retry, not the 20 ms kafka-python computes.
    assert min(default) >= 95, default
    assert min(lowered) < min(default), (lowered, default)


# ----- 7. where exactly-once ends --------------------------------------------------------------


def test_a_side_effect_outside_kafka_repeats_unless_the_sink_refuses_a_second_copy(
    bootstrap, topic, namespace, tmp_path
):
    orders = topic("orders", 2)
    pipeline.fill(bootstrap, orders, 12)
    found = side_effects.crash_with_side_effects(
        bootstrap, orders, namespace.group("mail"), str(tmp_path)
    )
    plain, keyed = found["outbox, plain INSERT"], found["outbox, unique (part, offset)"]
    assert plain["receipts read_committed"] == keyed["receipts read_committed"] == 12
    assert plain["mails"] > 12 and plain["mails twice"] > 0, plain
    assert (keyed["mails"], keyed["mails twice"]) == (12, 0), keyed


# ----- the broker's side ----------------------------------------------------------------------


def test_the_course_broker_keeps_the_transaction_state_log_on_one_node(bootstrap):
    [configs] = kafka_io.broker_configs(bootstrap, list(STATE_LOG)).values()
    assert configs == {STATE_LOG[0]: "1", STATE_LOG[1]: "1"}
    assert broker_settings.transaction_state_log(bootstrap)["replicas"] == 1
    settings = broker_settings.transaction_settings(bootstrap)
    assert {name: settings[name]["Kafka default"] for name in STATE_LOG} == {
        STATE_LOG[0]: "3",
        STATE_LOG[1]: "2",
    }


def test_the_three_broker_cluster_keeps_kafkas_defaults_for_the_transaction_state_log(
    bootstrap, tmp_path
):
    record = {"nodes": 3, "controller_port": 1, "ports": [2, 3, 4]}
    rendered = render_node_properties(ClusterLayout(tmp_path), 1, record).read_text()
    found = dict(line.split("=", 1) for line in rendered.splitlines() if line.startswith(STATE_LOG))
    settings = broker_settings.transaction_settings(bootstrap)  # Kafka's defaults, per the broker
    assert found == {name: settings[name]["Kafka default"] for name in STATE_LOG}
