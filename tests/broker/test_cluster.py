"""The multi-broker cluster (broker/cluster.py, broker/cluster_control.py) on real JVMs: it
starts, lists its nodes, stops and restarts single brokers idempotently, undoes every fault it
was asked for, dies with the process that owns it; plus the compose `cluster` profile, checked
for consistency without Docker. `broker up --nodes N` is tested in tests/cli/test_broker.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import yaml

from autograder.broker import cluster as cluster_module
from autograder.broker import cluster_control
from autograder.broker.cluster import Cluster
from autograder.broker.errors import BrokerError
from autograder.broker.probe import probe
from autograder.broker.versions import KAFKA_IMAGE
from autograder.grading.paths import REPO_ROOT

pytestmark = pytest.mark.timeout(240)


def test_a_cluster_serves_three_brokers_behind_one_controller(cluster):
    assert [(n.role, n.node, n.running) for n in cluster.nodes()] == [
        ("controller", 0, True),
        ("broker", 1, True),
        ("broker", 2, True),
        ("broker", 3, True),
    ]
    assert probe(cluster.bootstrap).broker_count == 3
    assert "localhost:9092" not in cluster.bootstrap.split(",")


def test_stopping_or_starting_a_broker_twice_changes_nothing_the_second_time(cluster):
    assert cluster.stop_node(3) is True
    assert cluster.stop_node(3) is False
    assert cluster.running_brokers() == [1, 2] and probe(cluster.address(3)) is None
    assert probe(cluster.bootstrap).broker_count == 2
    assert cluster.start_node(3) is True
    assert cluster.start_node(3) is False
    assert cluster.running_brokers() == [1, 2, 3] and probe(cluster.address(3)) is not None


def test_the_stopped_block_restarts_its_brokers_even_when_the_block_raises(cluster):
    with pytest.raises(RuntimeError, match="learner code failed"):
        with cluster.stopped(1, 2):
            assert cluster.running_brokers() == [3]
            raise RuntimeError("learner code failed")
    assert cluster.running_brokers() == [1, 2, 3]
    assert probe(cluster.bootstrap).broker_count == 3


def test_an_unknown_broker_number_is_a_one_line_error(cluster):
    with pytest.raises(BrokerError, match="no broker 7 in this cluster") as caught:
        cluster.stop_node(7)
    assert "\n" not in str(caught.value)


_OWNER = """
import sys, time
sys.path.insert(0, sys.argv[1])
from autograder.broker.cluster import start_cluster
cluster = start_cluster(brokers=1)
print(cluster.layout.root, *[n.pid for n in cluster.nodes()], flush=True)
time.sleep(600)
"""


@pytest.mark.broker  # starts a cluster of its own
def test_a_throwaway_cluster_dies_with_the_process_that_started_it():
    owner = subprocess.Popen(
        [sys.executable, "-c", _OWNER, str(REPO_ROOT)], stdout=subprocess.PIPE, text=True
    )
    try:
        root, *pids = owner.stdout.readline().split()
        assert len(pids) == 2 and all(_alive(int(pid)) for pid in pids)
    finally:
        owner.send_signal(signal.SIGKILL)  # no atexit, no cleanup: only the kernel acts
        owner.wait(10)
        owner.stdout.close()
    deadline = time.monotonic() + 10
    while any(_alive(int(pid)) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(int(pid)) for pid in pids)
    assert Cluster(root).running_brokers() == []
    cluster_module._remove_abandoned_clusters()  # what the next start_cluster() does first
    assert not os.path.exists(root)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rpartition(")")[2].split()[0] != "Z"


def test_compose_cluster_profile_has_a_controller_and_three_consistent_brokers():
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert "profiles" not in services["kafka"]  # `docker compose up` still starts one broker
    names = list(cluster_control.COMPOSE_SERVICES)
    assert all(services[name]["profiles"] == [cluster_control.COMPOSE_PROFILE] for name in names)
    assert all(services[name]["image"] == KAFKA_IMAGE for name in names)
    environments = {name: services[name]["environment"] for name in names}

    controller = environments["controller"]
    assert controller["KAFKA_PROCESS_ROLES"] == "controller"
    voter_id, _, voter_address = controller["KAFKA_CONTROLLER_QUORUM_VOTERS"].partition("@")
    assert int(voter_id) == controller["KAFKA_NODE_ID"]
    host, _, controller_port = voter_address.partition(":")
    assert (
        host == "controller" and controller["KAFKA_LISTENERS"] == f"CONTROLLER://:{controller_port}"
    )

    ids = set()
    for n, variable in enumerate(cluster_control.COMPOSE_PORT_VARIABLES, start=1):
        name, env = f"kafka-{n}", environments[f"kafka-{n}"]
        ids.add(env["KAFKA_NODE_ID"])
        assert env["KAFKA_PROCESS_ROLES"] == "broker"
        assert env["CLUSTER_ID"] == controller["CLUSTER_ID"]
        assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == controller["KAFKA_CONTROLLER_QUORUM_VOTERS"]
        listeners = dict(item.split("://") for item in env["KAFKA_LISTENERS"].split(","))
        advertised = dict(
            item.split("://") for item in env["KAFKA_ADVERTISED_LISTENERS"].split(",")
        )
        client_port = "${" + f"{variable}:-{19091 + n}" + "}"
        assert listeners == {"INTERNAL": ":29092", "HOST": f":{client_port}"}
        assert advertised == {"INTERNAL": f"{name}:29092", "HOST": f"localhost:{client_port}"}
        assert services[name]["ports"] == [f"127.0.0.1:{client_port}:{client_port}"]
        assert env["KAFKA_INTER_BROKER_LISTENER_NAME"] == "INTERNAL"
        protocols = dict(
            p.split(":") for p in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
        )
        assert set(protocols) == {"CONTROLLER", "INTERNAL", "HOST"}
        assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == 3
        assert "-Xmx256m" in env["KAFKA_HEAP_OPTS"]
    assert ids == {1, 2, 3} and controller["KAFKA_NODE_ID"] not in ids
