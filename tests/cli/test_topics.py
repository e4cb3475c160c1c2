"""`kafka-course topic dump` on the real broker: records and transaction markers at their offsets,
read_committed views, JSON, windows, exit codes. Values are checked against what the producers
wrote and against the grader's own raw reading of the log (kafka_io.read_log)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import pytest
from kafka import KafkaProducer

from autograder.broker.ports import free_port
from autograder.cli import main
from autograder.grading import kafka_io
from autograder.grading.paths import REPO_ROOT

pytestmark = pytest.mark.timeout(120)

LESSON = "10"  # the lesson that teaches transactions, for `namespace`


@pytest.fixture
def cli(bootstrap, monkeypatch, capsys):
    """Run `kafka-course <args>` in this process against the test broker: (code, out, err)."""
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", bootstrap)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as stop:  # argparse refusing the command line
            code = stop.code
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _transactional(bootstrap: str, name: str) -> KafkaProducer:
    producer = KafkaProducer(bootstrap_servers=bootstrap, transactional_id=name)
    producer.init_transactions()
    return producer


@pytest.fixture(scope="module")
def shop(bootstrap, module_namespace):
    """Partition 0: 2 committed orders, COMMIT, 1 aborted binary record, ABORT.
    Partition 1: 1 aborted two-line record, ABORT, then 1 plain (non-transactional) record.
    Returns the topic and the producer ids: transactional, plain."""
    topic = module_namespace.topic("shop")
    kafka_io.create_topic(bootstrap, topic, 2)
    txn = _transactional(bootstrap, module_namespace.topic("shop-txn"))
    plain = KafkaProducer(bootstrap_servers=bootstrap)
    try:
        txn.begin_transaction()
        txn.send(
            topic, key=b"order-1", value=b'{"total": 10}', partition=0, headers=[("src", b"web")]
        )
        txn.send(topic, key=b"order-2", value=b'{"total": 12}', partition=0)
        txn.flush(timeout=10)
        txn.commit_transaction()
        txn.begin_transaction()
        txn.send(topic, key=b"order-3", value=b"\xff\x00", partition=0)
        txn.send(topic, value=b"two\nlines", partition=1)
        # Flushed before the abort: kafka-python drops unsent records on abort, and the
        # broker then stores neither them nor a marker.
        txn.flush(timeout=10)
        txn.abort_transaction()
        plain.send(topic, value=b"plain", partition=1).get(timeout=10)
        ids = (
            txn._transaction_manager.producer_id_and_epoch.producer_id,
            plain._transaction_manager.producer_id_and_epoch.producer_id,
        )
    finally:
        txn.close(timeout=5)
        plain.close(timeout=5)
    # The markers reach the partitions just after abort_transaction() returns.
    assert kafka_io.wait_until_stable(bootstrap, topic)
    return topic, ids


def _fields(line: str) -> dict[str, str]:
    """`name: value name: value ...` -> {name: value}; the payload runs to the line's end."""
    head, _, payload = line.partition(" payload: ")
    fields = dict(re.findall(r"(\w+): (\[[^\]]*\]|\S+)", head))
    if payload:
        fields["payload"] = payload
    return fields


def _records(out: str) -> list[dict[str, str]]:
    return [_fields(line) for line in out.splitlines() if line.startswith("partition: ")]


def test_dump_shows_every_record_and_marker_at_its_offset_with_its_producer(cli, shop, bootstrap):
    topic, (txn_id, plain_id) = shop
    code, out, err = cli("topic", "dump", topic)
    assert (code, err) == (0, "")
    rows = [
        (
            r["partition"],
            r["offset"],
            r["isTransactional"],
            int(r["producerId"]),
            r.get("endTxnMarker") or r.get("transaction"),
            r.get("key"),
            r.get("payload"),
        )
        for r in _records(out)
    ]
    assert rows == [
        ("0", "0", "true", txn_id, "committed", "order-1", '{"total": 10}'),
        ("0", "1", "true", txn_id, "committed", "order-2", '{"total": 12}'),
        ("0", "2", "true", txn_id, "COMMIT", None, None),
        ("0", "3", "true", txn_id, "aborted", "order-3", "0xff00"),  # not UTF-8: hex
        ("0", "4", "true", txn_id, "ABORT", None, None),
        ("1", "0", "true", txn_id, "aborted", "null", '"two\\nlines"'),  # quoted: a line break
        ("1", "1", "true", txn_id, "ABORT", None, None),
        ("1", "2", "false", plain_id, None, "null", "plain"),
    ]
    assert _records(out)[0]["headers"] == "[src=web]"
    # The same offsets, markers and timestamps as the grader's own raw reading.
    log = kafka_io.read_log(bootstrap, topic)
    assert [(int(r["offset"]), int(r["timestamp"])) for r in _records(out)] == [
        (e.offset, e.timestamp) for e in log
    ]
    headers = [line for line in out.splitlines() if line.startswith("Dumping")]
    assert headers == [
        f"Dumping {topic}-0 (read_uncommitted): high watermark 5, last stable offset 5",
        f"Dumping {topic}-1 (read_uncommitted): high watermark 3, last stable offset 3",
    ]


def test_read_committed_hides_aborted_records_and_still_shows_the_markers(cli, shop, bootstrap):
    topic, _ = shop
    code, out, _ = cli("topic", "dump", topic, "--isolation", "read_committed")
    assert code == 0
    shown = [(r["partition"], r["offset"], r.get("endTxnMarker")) for r in _records(out)]
    assert shown == [
        ("0", "0", None),
        ("0", "1", None),
        ("0", "2", "COMMIT"),
        ("0", "4", "ABORT"),
        ("1", "1", "ABORT"),
        ("1", "2", None),
    ]
    # Its data records are exactly what a read_committed consumer receives.
    consumed = kafka_io.read_all(bootstrap, topic, isolation="read_committed")
    data = [r for r in _records(out) if "endTxnMarker" not in r]
    assert [(r["partition"], r["offset"]) for r in data] == [
        (str(c.partition), str(c.offset)) for c in consumed
    ]


def test_read_committed_stops_at_the_last_stable_offset_of_an_open_transaction(
    cli, bootstrap, namespace
):
    topic = namespace.topic("pending")
    kafka_io.create_topic(bootstrap, topic, 1)
    kafka_io.append_to_partitions(bootstrap, topic, [(0, None, b"before")])
    producer = _transactional(bootstrap, namespace.topic("pending-txn"))
    try:
        producer.begin_transaction()
        producer.send(topic, value=b"pending", partition=0)
        producer.flush(timeout=10)
        kafka_io.append_to_partitions(bootstrap, topic, [(0, None, b"after")])
        code, out, _ = cli("topic", "dump", topic, "--isolation", "read_committed")
        assert code == 0
        assert out.splitlines()[0].endswith("high watermark 3, last stable offset 1")
        assert [r["payload"] for r in _records(out)] == ["before"]
        _, out, _ = cli("topic", "dump", topic)
        assert [(r["payload"], r.get("transaction")) for r in _records(out)] == [
            ("before", None),
            ("pending", "open"),
            ("after", None),
        ]
        producer.commit_transaction()
    finally:
        producer.close(timeout=5)
    assert kafka_io.wait_until_stable(bootstrap, topic)
    _, out, _ = cli("topic", "dump", topic, "--isolation", "read_committed")
    assert [r.get("payload") or r["endTxnMarker"] for r in _records(out)] == [
        "before",
        "pending",
        "after",
        "COMMIT",
    ]


def test_json_is_a_list_of_records_with_text_hex_and_null_kept_apart(cli, shop):
    topic, (txn_id, _) = shop
    code, out, err = cli("topic", "dump", topic, "--partition", "0", "--json")
    assert (code, err) == (0, "")
    rows = json.loads(out)
    assert all(
        list(row)
        == [
            "partition",
            "offset",
            "timestamp",
            "transactional",
            "producer_id",
            "producer_epoch",
            "control",
            "transaction",
            "key",
            "value",
            "headers",
        ]
        for row in rows
    )
    assert [(r["offset"], r["control"], r["transaction"]) for r in rows] == [
        (0, None, "committed"),
        (1, None, "committed"),
        (2, "COMMIT", None),
        (3, None, "aborted"),
        (4, "ABORT", None),
    ]
    assert rows[0]["key"] == "order-1" and rows[0]["value"] == '{"total": 10}'
    assert rows[0]["headers"] == [["src", "web"]]
    assert rows[3]["value"] == {"hex": "ff00"}
    assert rows[2]["key"] is None and rows[2]["producer_id"] == txn_id
    assert all(r["transactional"] for r in rows)


def test_from_and_limit_choose_a_window_and_outcomes_look_past_it(cli, shop):
    topic, _ = shop
    code, out, _ = cli("topic", "dump", topic, "--partition", "0", "--from", "1", "--limit", "1")
    assert code == 0
    [record] = _records(out)
    # The window ends before the COMMIT marker at offset 2, yet the outcome is known.
    assert (record["offset"], record["transaction"]) == ("1", "committed")
    _, out, _ = cli("topic", "dump", topic, "--from", "2", "--limit", "1")
    assert [(r["partition"], r["offset"]) for r in _records(out)] == [("0", "2"), ("1", "2")]
    _, out, _ = cli("topic", "dump", topic, "--partition", "1", "--from", "9")
    assert out.splitlines()[1:] == ["no records from offset 9"]


def test_an_unknown_topic_or_partition_is_one_line_and_exit_code_1(cli, shop, namespace):
    topic, _ = shop
    code, out, err = cli("topic", "dump", namespace.topic("nothing-here"))
    assert (code, out) == (1, "") and err.count("\n") == 1
    assert "no topic" in err and "check its name" in err
    code, out, err = cli("topic", "dump", topic, "--partition", "2")
    assert (code, out) == (1, "") and err.count("\n") == 1
    assert "has partitions 0 to 1" in err and "--partition" in err


@pytest.mark.parametrize(
    "args, complaint",
    [
        (["--limit", "0"], "must be 1 or more"),
        (["--from", "-1"], "must be 0 or more"),
        (["--partition", "one"], "not a whole number"),
        (["--isolation", "serializable"], "invalid choice"),
    ],
)
def test_a_wrong_dump_command_line_is_refused_with_exit_code_2(cli, shop, args, complaint):
    topic, _ = shop
    code, out, err = cli("topic", "dump", topic, *args)
    assert (code, out) == (2, "")
    assert complaint in err.splitlines()[-1]


def _installed(*args: str, bootstrap: str) -> subprocess.CompletedProcess:
    command = [str(REPO_ROOT / ".venv" / "bin" / "kafka-course")]
    if not os.path.exists(command[0]):
        command = [sys.executable, "-m", "autograder.cli"]
    return subprocess.run(
        [*command, *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap},
    )


def test_the_installed_command_prints_the_same_json(shop, bootstrap):
    topic, _ = shop
    done = _installed("topic", "dump", topic, "--json", bootstrap=bootstrap)
    assert (done.returncode, done.stderr) == (0, "")
    assert len(json.loads(done.stdout)) == len(kafka_io.read_log(bootstrap, topic)) == 8


def test_a_stopped_broker_is_reported_in_one_line_within_seconds():
    started = time.monotonic()
    done = _installed("topic", "dump", "anything", bootstrap=f"localhost:{free_port()}")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "no Kafka broker answers" in done.stderr
    assert "kafka-course broker up" in done.stderr
    assert time.monotonic() - started < 20
