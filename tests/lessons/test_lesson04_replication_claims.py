"""What lesson 04 says about replication, shown happening on a real three-broker cluster.

One cluster (a KRaft controller and three brokers, each its own JVM) serves the whole module;
it runs on free ports in a throw-away folder, so the course broker on 9092 is never touched.
The outage scenario runs once (module fixture) and each test checks one of its outcomes.
"""

from __future__ import annotations

import pytest

from autograder.demos import replication as demos
from autograder.grading.namespace import new_run_id

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def run_id():
    return new_run_id()


@pytest.fixture(scope="module")
def outage(cluster, run_id):
    """Topic with 3 replicas and min.insync.replicas=2; one follower stops, then the other;
    both come back. What the cluster and the producers saw at each step."""
    bootstrap = cluster.bootstrap
    topic = demos.create_replicated_topic(bootstrap, f"{run_id}-payments")
    seen = {"topic": topic, "before": demos.replicas(bootstrap, topic)}
    seen["all up"] = demos.send_acks_all(bootstrap, topic, 5, tag="all-up")
    first, second = demos.followers(bootstrap, topic)
    seen["stopped"] = (first, second)
    with cluster.stopped(first):
        seen["one down isr"] = demos.wait_for_isr(bootstrap, topic, 2)
        seen["one down"] = demos.send_acks_all(bootstrap, topic, 5, tag="one-down")
        with cluster.stopped(second):
            seen["two down isr"] = demos.wait_for_isr(bootstrap, topic, 1)
            seen["end before refusals"] = len(demos.stored_values(bootstrap, topic))
            seen["two down, no retries"] = demos.send_acks_all(
                bootstrap, topic, 5, retries=False, tag="refused"
            )
            seen["two down, retries"] = demos.send_acks_all(
                bootstrap, topic, 1, delivery_timeout_ms=3000, tag="timed-out"
            )
            seen["end after refusals"] = len(demos.stored_values(bootstrap, topic))
            seen["two down, acks=1"] = demos.send_acks_all(
                bootstrap, topic, 3, acks=1, tag="acks-1"
            )
            seen["high watermark, two down"] = demos.high_watermark(bootstrap, topic)
    seen["after isr"] = demos.wait_for_isr(bootstrap, topic, 3)
    seen["stored"] = demos.stored_values(bootstrap, topic)
    seen["high watermark, all back"] = demos.high_watermark(bootstrap, topic)
    return seen


def test_a_new_topic_has_every_replica_in_sync(outage):
    [partition] = outage["before"]
    assert sorted(partition["replicas"]) == [1, 2, 3]
    assert sorted(partition["isr"]) == [1, 2, 3] and partition["leader"] in (1, 2, 3)


def test_a_stopped_follower_leaves_the_isr_and_the_leader_stays(outage):
    [before], [after] = outage["before"], outage["one down isr"]
    first, _ = outage["stopped"]
    assert after["leader"] == before["leader"]
    assert sorted(after["isr"]) == sorted(set(before["isr"]) - {first})


def test_acks_all_keeps_working_with_one_broker_stopped(outage):
    assert outage["one down"]["acknowledged"] == 5 and outage["one down"]["errors"] == {}


def test_acks_all_is_refused_with_not_enough_replicas_when_two_brokers_are_stopped(outage):
    assert [p["isr"] for p in outage["two down isr"]] == [[outage["before"][0]["leader"]]]
    assert outage["two down, no retries"] == {
        "acknowledged": 0,
        "values": [],
        "offsets": [],
        "errors": {"NotEnoughReplicasError": 5},
    }


def test_a_retrying_producer_gives_up_with_a_timeout_after_delivery_timeout_ms(outage):
    assert outage["two down, retries"]["errors"] == {"KafkaTimeoutError": 1}


def test_a_refused_write_is_not_stored(outage):
    assert outage["end after refusals"] == outage["end before refusals"] == 10
    assert not any(v.startswith(("refused", "timed-out")) for v in outage["stored"])


def test_restarted_brokers_rejoin_the_isr(outage):
    assert [sorted(p["isr"]) for p in outage["after isr"]] == [[1, 2, 3]]


def test_acks_1_is_acknowledged_below_min_insync_replicas(outage):
    assert outage["two down, acks=1"]["acknowledged"] == 3
    assert outage["two down, acks=1"]["offsets"] == [10, 11, 12]


def test_the_high_watermark_waits_while_the_isr_is_below_min_insync_replicas(outage):
    # Eligible leader replicas (KIP-966), on in a new Kafka 4 cluster: acknowledged with
    # acks=1, yet unreadable until the followers are back in sync.
    assert outage["high watermark, two down"] == 10
    assert outage["high watermark, all back"] == 13


def test_every_acknowledged_record_survives_the_outage_in_order(outage):
    acknowledged = outage["all up"]["values"] + outage["one down"]["values"]
    assert len(acknowledged) == 10
    assert outage["stored"] == acknowledged + outage["two down, acks=1"]["values"]


def test_a_leader_stopped_mid_stream_loses_nothing_a_retrying_producer_sent(cluster, run_id):
    topic = demos.create_replicated_topic(cluster.bootstrap, f"{run_id}-failover")
    report = demos.stream_through_failover(cluster, topic, count=300, stop_after=100)
    _nothing_acknowledged_is_lost_or_doubled(report)
    assert cluster.running_brokers() == [1, 2, 3]


def _nothing_acknowledged_is_lost_or_doubled(report: dict) -> None:
    """The failover claims: a new leader; every record either acknowledged or failed with an
    error its future reported (an epoch bump fails the batches in flight); every acknowledged
    record stored, none twice."""
    assert report["new leader"] != report["old leader"], report
    assert report["acknowledged"] + sum(report["failed"].values()) == report["sent"], report
    assert report["acknowledged, not stored"] == 0 and report["stored twice"] == 0, report
    assert report["stored"] >= report["acknowledged"] > 0, report


def test_a_crashed_leader_is_replaced_and_a_retrying_producer_loses_nothing(cluster, run_id):
    topic = demos.create_replicated_topic(cluster.bootstrap, f"{run_id}-crash")
    report = demos.stream_through_failover(cluster, topic, count=300, stop_after=100, crash=True)
    _nothing_acknowledged_is_lost_or_doubled(report)
    # A crash is noticed only when heartbeats stop: the producer waits out the session timeout.
    assert report["acknowledged after the stop"] > 0, report
    assert report["longest pause (s)"] >= 3, report


def test_a_send_to_a_missing_topic_fails_where_brokers_do_not_create_topics(cluster, run_id):
    from autograder.demos.lesson04 import send_to_missing_topic

    outcome = send_to_missing_topic(cluster.bootstrap, f"kc-{run_id}-04-paymnets")
    assert outcome == {
        "producer says": "send() raised KafkaTimeoutError",
        "topic exists now": False,
    }
