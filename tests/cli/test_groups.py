"""`kafka-course groups list | describe | reset` on the real broker: output, values, exit codes,
one-line errors. Values are checked against the grader's own reading of the broker (kafka_io)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from confluent_kafka import Consumer as ConfluentConsumer
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from autograder.broker.ports import free_port
from autograder.cli import main
from autograder.cli.group_admin import GroupAdmin
from autograder.cli.groups import DESCRIBE_COLUMNS, MEMBER_COLUMNS
from autograder.demos.lesson08 import fill, member_of, read_and_commit
from autograder.grading import kafka_io
from autograder.grading.paths import REPO_ROOT

pytestmark = pytest.mark.timeout(120)


LESSON = "08"  # the lesson that teaches these commands, for `namespace`


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


@pytest.fixture
def lagging(bootstrap, namespace):
    """A topic with 10 + 6 records and a group that committed 7 on partition 0 only."""
    topic, group = namespace.topic("readings"), namespace.group("reporting")
    kafka_io.create_topic(bootstrap, topic, 2)
    fill(bootstrap, topic, {0: 10, 1: 6})
    read_and_commit(bootstrap, topic, group, {0: 7})
    return topic, group


def _table(out: str) -> list[list[str]]:
    lines = [line.split() for line in out.splitlines() if line.strip()]
    start = next(i for i, cells in enumerate(lines) if cells[:2] == ["GROUP", "TOPIC"])
    return [cells for cells in lines[start:] if len(cells) == len(lines[start])]


def test_describe_prints_committed_end_and_lag_per_partition_like_kafkas_tool(cli, lagging):
    topic, group = lagging
    code, out, err = cli("groups", "describe", group)
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == f"Consumer group '{group}' has no active members."
    header, *rows = _table(out)
    assert tuple(header) == DESCRIBE_COLUMNS
    assert rows == [
        [group, topic, "0", "7", "10", "3", "-", "-", "-"],
        [group, topic, "1", "-", "6", "-", "-", "-", "-"],
    ]


def test_describe_json_is_a_list_of_topic_partition_committed_end_lag(cli, lagging, bootstrap):
    topic, group = lagging
    code, out, err = cli("groups", "describe", group, "--json")
    assert (code, err) == (0, "")
    rows = json.loads(out)
    assert rows == [
        {"topic": topic, "partition": 0, "committed": 7, "end": 10, "lag": 3},
        {"topic": topic, "partition": 1, "committed": None, "end": 6, "lag": None},
    ]
    assert all(list(row) == ["topic", "partition", "committed", "end", "lag"] for row in rows)
    # Both numbers agree with the grader's own reading of the broker.
    ends = kafka_io.end_offsets(bootstrap, topic)
    committed = kafka_io.committed_offsets(bootstrap, group)
    assert [row["end"] for row in rows] == [ends[0], ends[1]]
    assert rows[0]["committed"] == committed[(topic, 0)] and (topic, 1) not in committed


def test_describe_shows_which_consumer_reads_each_partition(cli, lagging, bootstrap):
    topic, group = lagging
    with member_of(bootstrap, topic, group), GroupAdmin(bootstrap) as groups:
        code, out, _ = cli("groups", "describe", group)
        [member] = groups.describe(group).members
    member_id = member.member_id
    assert code == 0 and "no active members" not in out
    header, *rows = _table(out)
    assert [row[6:] for row in rows] == [[member_id, "127.0.0.1", "still-running"]] * 2


def test_describe_of_an_unknown_group_is_one_line_and_exit_code_1(cli, namespace):
    code, out, err = cli("groups", "describe", namespace.group("nobody"))
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and "no consumer group" in err and "groups list" in err


def test_list_shows_each_group_with_its_state(cli, lagging, bootstrap):
    topic, group = lagging
    code, out, _ = cli("groups", "list")
    assert code == 0 and out.splitlines()[0].split() == ["GROUP", "STATE"]
    assert [group, "Empty"] in [line.split() for line in out.splitlines()]
    with member_of(bootstrap, topic, group):
        _, out, _ = cli("groups", "list")
    assert [group, "Stable"] in [line.split() for line in out.splitlines()]


def test_reset_to_earliest_moves_every_partition_to_its_oldest_kept_record(cli, lagging, bootstrap):
    topic, group = lagging
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:  # the first 2 records of partition 0 are deleted: its oldest kept offset is 2
        admin.delete_records({TopicPartition(topic, 0): 2})
    finally:
        admin.close()
    code, out, err = cli("groups", "reset", group, "--to-earliest")
    assert (code, err) == (0, "")
    assert out.splitlines()[-1].startswith("moved 2 partition(s)")
    assert kafka_io.committed_offsets(bootstrap, group) == {(topic, 0): 2, (topic, 1): 0}


def test_reset_to_latest_skips_everything_written_so_far(cli, lagging, bootstrap):
    topic, group = lagging
    code, out, _ = cli("groups", "reset", group, "--to-latest")
    assert code == 0
    header, *rows = _table(out)
    assert header == ["GROUP", "TOPIC", "PARTITION", "OLD-OFFSET", "NEW-OFFSET"]
    assert [row[2:] for row in rows] == [["0", "7", "10"], ["1", "-", "6"]]
    assert kafka_io.committed_offsets(bootstrap, group) == {(topic, 0): 10, (topic, 1): 6}
    _, out, _ = cli("groups", "describe", group, "--json")
    assert [row["lag"] for row in json.loads(out)] == [0, 0]


@pytest.fixture
def stamped(bootstrap, namespace):
    """Partition 0 holds 10 records stamped one minute apart from this time yesterday (whole
    minute, UTC); a group has committed 0 there."""
    topic, group = namespace.topic("stamped"), namespace.group("stamped")
    kafka_io.create_topic(bootstrap, topic, 1)
    base = (datetime.now(timezone.utc) - timedelta(days=1)).replace(second=0, microsecond=0)
    kafka_io.append_stamped(
        bootstrap,
        topic,
        [
            (0, b"at %d" % n, int((base + timedelta(minutes=n)).timestamp() * 1000))
            for n in range(10)
        ],
    )
    kafka_io.commit_offsets_for_group(bootstrap, group, {(topic, 0): 0})
    return topic, group, base


@pytest.mark.parametrize("spelling", ["offset", "Z", "local"])
def test_reset_to_datetime_moves_to_the_first_record_at_or_after_it(
    cli, stamped, bootstrap, spelling
):
    topic, group, base = stamped
    moment = base + timedelta(minutes=4, seconds=30)  # between records 4 and 5
    text = {
        "offset": moment.isoformat(),
        "Z": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "local": moment.astimezone().replace(tzinfo=None).isoformat(),
    }[spelling]
    code, _, err = cli("groups", "reset", group, "--to-datetime", text)
    assert (code, err) == (0, "")
    assert kafka_io.committed_offsets(bootstrap, group) == {(topic, 0): 5}


def test_reset_to_a_datetime_after_the_last_record_moves_to_the_end(cli, stamped, bootstrap):
    topic, group, base = stamped
    later = (base + timedelta(hours=3)).isoformat()
    assert cli("groups", "reset", group, "--to-datetime", later)[0] == 0
    assert kafka_io.committed_offsets(bootstrap, group) == {(topic, 0): 10}


def test_reset_without_topic_moves_every_topic_the_group_committed_on_and_topic_narrows_it(
    cli, bootstrap, namespace
):
    first, second, group = namespace.topic("one"), namespace.topic("two"), namespace.group("two")
    for topic in (first, second):
        kafka_io.create_topic(bootstrap, topic, 1)
        fill(bootstrap, topic, {0: 4})
    kafka_io.commit_offsets_for_group(bootstrap, group, {(first, 0): 1, (second, 0): 1})
    assert cli("groups", "reset", group, "--to-latest", "--topic", first)[0] == 0
    assert kafka_io.committed_offsets(bootstrap, group) == {(first, 0): 4, (second, 0): 1}
    assert cli("groups", "reset", group, "--to-earliest")[0] == 0
    assert kafka_io.committed_offsets(bootstrap, group) == {(first, 0): 0, (second, 0): 0}


def test_dry_run_shows_the_moves_and_changes_nothing(cli, lagging, bootstrap):
    topic, group = lagging
    code, out, _ = cli("groups", "reset", group, "--to-latest", "--dry-run")
    assert code == 0 and "dry run, nothing changed" in out
    assert [row[2:] for row in _table(out)[1:]] == [["0", "7", "10"], ["1", "-", "6"]]
    assert kafka_io.committed_offsets(bootstrap, group) == {(topic, 0): 7}


def test_reset_refuses_while_the_group_has_active_members(cli, lagging, bootstrap):
    topic, group = lagging
    with member_of(bootstrap, topic, group):
        code, out, err = cli("groups", "reset", group, "--to-latest")
    assert (code, out) == (1, "")
    assert err.count("\n") == 1
    assert "1 active member(s)" in err and "stop its consumers first" in err
    assert kafka_io.committed_offsets(bootstrap, group) == {(topic, 0): 7}


@pytest.mark.parametrize(
    "args, complaint",
    [
        (["--to-datetime", "yesterday"], "not an ISO 8601 date-time"),
        ([], "one of the arguments --to-earliest --to-latest --to-datetime is required"),
        (["--to-earliest", "--to-latest"], "not allowed with argument"),
    ],
)
def test_a_wrong_reset_command_line_is_refused_with_exit_code_2(cli, lagging, args, complaint):
    _, group = lagging
    code, out, err = cli("groups", "reset", group, *args)
    assert (code, out) == (2, "")
    assert complaint in err.splitlines()[-1]


def test_reset_of_an_unknown_topic_or_group_says_so(cli, lagging, namespace):
    _, group = lagging
    code, _, err = cli("groups", "reset", group, "--to-latest", "--topic", "no-such-topic")
    assert code == 1 and "no topic 'no-such-topic'" in err
    code, _, err = cli("groups", "reset", namespace.group("nobody"), "--to-latest")
    assert code == 1 and "no consumer group" in err


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


def test_the_installed_command_prints_the_same_json(lagging, bootstrap):
    topic, group = lagging
    done = _installed("groups", "describe", group, "--json", bootstrap=bootstrap)
    assert (done.returncode, done.stderr) == (0, "")
    assert [row["lag"] for row in json.loads(done.stdout)] == [3, None]


def test_a_stopped_broker_is_reported_in_one_line_within_seconds():
    started = time.monotonic()
    done = _installed("groups", "list", bootstrap=f"localhost:{free_port()}")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "no Kafka broker answers" in done.stderr
    assert "kafka-course broker up" in done.stderr
    assert time.monotonic() - started < 20


# -- describe --members: lesson 09's view of who is in a group ------------------------------


@contextlib.contextmanager
def _classic_members(bootstrap: str, topic: str, group: str, instance_ids: list[str | None]):
    """kafka-python members of ``group``, polled by one thread until the block ends; yields
    them once every partition is owned and every member reports the same stable generation."""
    members = [
        KafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=group,
            client_id=f"member-{n}",
            group_instance_id=instance,
            enable_auto_commit=False,
            session_timeout_ms=6000,
            heartbeat_interval_ms=500,
        )
        for n, instance in enumerate(instance_ids)
    ]
    stop = threading.Event()

    def poll_all() -> None:
        while not stop.is_set():
            for member in members:
                member.poll(timeout_ms=50)

    poller = threading.Thread(target=poll_all, daemon=True)
    try:
        for member in members:
            member.subscribe([topic])
            member.topics()  # lesson 05: learn the partitions before the first join
        poller.start()
        partitions = len(kafka_io.end_offsets(bootstrap, topic))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            generations = {m.group_metadata().generation_id for m in members}
            owned = sum(len(m.assignment()) for m in members)
            if owned == partitions and len(generations) == 1 and min(generations) > 0:
                with GroupAdmin(bootstrap) as groups:
                    described = groups.describe_members(group)
                if described.state == "Stable" and len(described.members) == len(members):
                    break
            time.sleep(0.2)
        else:
            raise AssertionError(f"group {group} did not settle in 60 s")
        yield members
    finally:
        stop.set()
        if poller.is_alive():
            poller.join(timeout=10)
        for member in members:
            member.close(autocommit=False)


def _rows(out: str, first_column: str) -> list[dict[str, str]]:
    """The table whose header starts with ``first_column``s, as dicts (columns split on 2+
    spaces, since a cell is never empty: Kafka's tool and ours print `-`)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == first_column.split())
    header = re.split(r"\s{2,}", lines[start].strip())
    rows = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        rows.append(dict(zip(header, re.split(r"\s{2,}", line.strip()), strict=True)))
    return rows


def test_describe_members_shows_each_member_its_instance_id_and_partitions(
    cli, bootstrap, namespace
):
    topic, group = namespace.topic("members"), namespace.group("members")
    kafka_io.create_topic(bootstrap, topic, 4)
    with _classic_members(bootstrap, topic, group, [None, "static-1"]) as members:
        code, out, err = cli("groups", "describe", group, "--members")
        own = {m.group_metadata().member_id: m for m in members}
        owned = {
            m.group_metadata().member_id: sorted(tp.partition for tp in m.assignment())
            for m in members
        }
        generation = members[0].group_metadata().generation_id
    assert (code, err) == (0, "")
    [summary] = _rows(out, "GROUP STATE")
    assert summary == {
        "GROUP": group,
        "STATE": "Stable",
        "PROTOCOL-TYPE": "consumer",
        "GROUP-PROTOCOL": "classic",
        "ASSIGNMENT-STRATEGY": "range",
        "GENERATION": str(generation),  # what the members themselves were told by JoinGroup
        "#MEMBERS": "2",
    }
    rows = _rows(out, "GROUP CONSUMER-ID")
    assert tuple(re.split(r"\s{2,}", out.splitlines()[3].strip())) == MEMBER_COLUMNS
    assert {row["CONSUMER-ID"] for row in rows} == set(own)
    for row in rows:
        member = own[row["CONSUMER-ID"]]
        assert row["GROUP-INSTANCE-ID"] == (member.config["group_instance_id"] or "-")
        assert row["CLIENT-ID"] == member.config["client_id"]
        assert row["HOST"] == "127.0.0.1"
        partitions = owned[row["CONSUMER-ID"]]
        assert row["CURRENT-ASSIGNMENT"] == f"{topic}:{','.join(map(str, partitions))}"
        assert row["#PARTITIONS"] == str(len(partitions)) == "2"
        # Epochs and targets belong to the consumer protocol: a classic group has none.
        assert [row["CURRENT-EPOCH"], row["TARGET-EPOCH"], row["TARGET-ASSIGNMENT"]] == ["-"] * 3


def test_describe_members_json_and_the_generation_a_join_moves_on(cli, bootstrap, namespace):
    topic, group = namespace.topic("joined"), namespace.group("joined")
    kafka_io.create_topic(bootstrap, topic, 4)
    with _classic_members(bootstrap, topic, group, ["static-a"]) as [alone]:
        first = json.loads(cli("groups", "describe", group, "--members", "--json")[1])
        alone_generation = alone.group_metadata().generation_id
    assert list(first) == [
        "group",
        "state",
        "protocol_type",
        "group_protocol",
        "assignor",
        "generation",
        "target_epoch",
        "members",
    ]
    [member] = first["members"]
    assert list(member) == [
        "member_id",
        "client_id",
        "host",
        "group_instance_id",
        "partitions",
        "member_epoch",
        "target_partitions",
    ]
    assert member["group_instance_id"] == "static-a" and member["client_id"] == "member-0"
    assert member["partitions"] == [{"topic": topic, "partition": p} for p in range(4)]
    assert member["member_epoch"] is None and member["target_partitions"] is None
    assert first["generation"] == alone_generation and first["target_epoch"] is None
    # A static member's close() sends no LeaveGroup: it is still listed until its session ends.
    with _classic_members(bootstrap, topic, group, ["static-a", None]) as pair:
        second = json.loads(cli("groups", "describe", group, "--members", "--json")[1])
        pair_generation = pair[0].group_metadata().generation_id
    assert second["generation"] == pair_generation > first["generation"]
    assert sorted(len(m["partitions"]) for m in second["members"]) == [2, 2]


def test_describe_members_of_a_group_with_no_members_says_so(cli, lagging):
    _, group = lagging
    code, out, err = cli("groups", "describe", group, "--members")
    assert (code, err) == (0, "")
    [summary] = _rows(out, "GROUP STATE")
    assert summary["STATE"] == "Empty" and summary["#MEMBERS"] == "0"
    assert out.splitlines()[-1] == f"Consumer group '{group}' has no active members."
    code, out, _ = cli("groups", "describe", group, "--members", "--json")
    assert code == 0 and json.loads(out)["members"] == []


def test_describe_members_of_an_unknown_group_is_one_line_and_exit_code_1(cli, namespace):
    code, out, err = cli("groups", "describe", namespace.group("nobody"), "--members", "--json")
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and "no consumer group" in err and "groups list" in err


def test_describe_members_reads_a_consumer_protocol_group_too(cli, bootstrap, namespace):
    """KIP-848: kafka-python's DescribeGroups is refused for such a group ("is not a classic
    group"); the command asks ConsumerGroupDescribe instead, and shows the epochs."""
    topic, group = namespace.topic("kip848"), namespace.group("kip848")
    kafka_io.create_topic(bootstrap, topic, 3)
    member = ConfluentConsumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "group.protocol": "consumer",
            "client.id": "new-protocol",
            "group.instance.id": "static-848",
            "enable.auto.commit": False,
        }
    )
    try:
        member.subscribe([topic])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            member.poll(0.2)
            if len(member.assignment()) == 3:
                found = json.loads(cli("groups", "describe", group, "--members", "--json")[1])
                if found["members"] and len(found["members"][0]["partitions"]) == 3:
                    break
        else:
            raise AssertionError("the consumer-protocol member got no partitions in 60 s")
        code, out, err = cli("groups", "describe", group, "--members")
        # The lag view reads the same members: each partition names its consumer.
        lag_code, lag_out, _ = cli("groups", "describe", group)
    finally:
        member.close()
    assert found["group_protocol"] == "consumer" and found["state"] == "Stable"
    assert found["assignor"] in ("uniform", "range")  # the broker's own assignor
    [described] = found["members"]
    assert described["group_instance_id"] == "static-848"
    assert described["client_id"] == "new-protocol"
    assert described["partitions"] == described["target_partitions"]
    assert described["partitions"] == [{"topic": topic, "partition": p} for p in range(3)]
    # A member that has caught up with the target holds the group's epoch.
    assert found["generation"] >= 1
    assert described["member_epoch"] == found["target_epoch"] == found["generation"]
    assert (code, err) == (0, "")
    [row] = _rows(out, "GROUP CONSUMER-ID")
    assert row["CURRENT-ASSIGNMENT"] == row["TARGET-ASSIGNMENT"] == f"{topic}:0,1,2"
    assert row["CURRENT-EPOCH"] == row["TARGET-EPOCH"] == str(found["generation"])
    assert lag_code == 0
    assert [cells[6] for cells in _table(lag_out)[1:]] == [described["member_id"]] * 3
