"""The fault proxy (autograder/faults) on the real broker: it relays, each fault does exactly
what it says, and every fault is undone and the port freed, even when the block raises."""

from __future__ import annotations

import socket
import time

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError

from autograder.faults import ProxyError, fault_proxy, find_routes, start_timed, stop_timed
from autograder.grading import kafka_io

pytestmark = [pytest.mark.timeout(120)]

ONE_TRY = {
    "enable_idempotence": False,
    "retries": 0,
    "request_timeout_ms": 2000,
    "max_block_ms": 5000,
}


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _count(bootstrap, topic):
    return sum(kafka_io.end_offsets(bootstrap, topic).values())


def test_the_broker_advertises_a_proxied_listener_on_its_own_port(bootstrap):
    [route] = find_routes(bootstrap)
    assert route.listen_port != route.upstream_port
    assert str(route.listen_port) not in bootstrap and str(route.upstream_port) not in bootstrap


def test_a_client_bootstrapped_at_the_proxy_keeps_every_connection_on_it(bootstrap, topic):
    name = topic("relay")
    with fault_proxy(bootstrap) as proxy:
        producer = KafkaProducer(bootstrap_servers=proxy.bootstrap)
        consumer = KafkaConsumer(bootstrap_servers=proxy.bootstrap, enable_auto_commit=False)
        try:
            sent = producer.send(name, b"through the proxy").get(timeout=10)
            consumer.assign([TopicPartition(name, 0)])
            consumer.seek_to_beginning()
            got = consumer.poll(timeout_ms=5000)
        finally:
            producer.close(timeout=5)
            consumer.close()
        assert proxy.counts[("Produce", "forwarded")] == 1
        assert proxy.counts[("Fetch", "forwarded")] >= 1
    assert sent.offset == 0
    assert [r.value for batch in got.values() for r in batch] == [b"through the proxy"]


def test_a_lost_request_is_never_written(bootstrap, topic):
    name = topic("lost")
    with fault_proxy(bootstrap) as proxy:
        producer = KafkaProducer(bootstrap_servers=proxy.bootstrap, **ONE_TRY)
        try:
            producer.partitions_for(name)
            with proxy.lose_requests("Produce", count=1) as fault:
                with pytest.raises(KafkaError):
                    producer.send(name, b"never arrives").get(timeout=10)
        finally:
            producer.close(timeout=5)
    assert fault.fired == 1 and _count(bootstrap, name) == 0


def test_a_dropped_response_follows_a_real_write(bootstrap, topic):
    name = topic("dropped")
    with fault_proxy(bootstrap) as proxy:
        producer = KafkaProducer(bootstrap_servers=proxy.bootstrap, **ONE_TRY)
        try:
            producer.partitions_for(name)
            with proxy.drop_responses("Produce", count=1) as fault:
                with pytest.raises(KafkaError):
                    producer.send(name, b"written, unanswered").get(timeout=10)
        finally:
            producer.close(timeout=5)
    assert fault.fired == 1 and _count(bootstrap, name) == 1


def test_a_failed_request_gets_the_chosen_error_and_is_not_written(bootstrap, topic):
    name = topic("failed")
    with fault_proxy(bootstrap) as proxy:
        producer = KafkaProducer(bootstrap_servers=proxy.bootstrap, **ONE_TRY)
        try:
            producer.partitions_for(name)
            with proxy.fail_requests("Produce", count=1, error="NOT_ENOUGH_REPLICAS"):
                future = producer.send(name, b"refused")
                with pytest.raises(KafkaError) as raised:
                    future.get(timeout=10)
            after = producer.send(name, b"accepted").get(timeout=10)
        finally:
            producer.close(timeout=5)
    assert type(raised.value).__name__ == "NotEnoughReplicasError"
    assert after.offset == 0 and _count(bootstrap, name) == 1


def test_withheld_responses_flow_again_when_the_fault_is_switched_off(bootstrap, topic):
    name = topic("withheld")
    with fault_proxy(bootstrap) as proxy:
        producer = KafkaProducer(bootstrap_servers=proxy.bootstrap, **ONE_TRY)
        try:
            producer.partitions_for(name)
            with proxy.withhold_responses("Produce") as fault:
                future = producer.send(name, b"late")
                time.sleep(0.5)
                assert not future.is_done
            assert future.get(timeout=5).offset == 0
        finally:
            producer.close(timeout=5)
    assert fault.fired == 1


def test_leaving_the_block_undoes_the_fault_and_frees_the_port_even_when_it_raised(bootstrap):
    [route] = find_routes(bootstrap)
    with pytest.raises(RuntimeError):
        with fault_proxy(bootstrap) as proxy:
            with proxy.drop_responses("Produce", count=5) as fault:
                assert not _port_is_free(route.listen_port)
                raise RuntimeError("the learner's code failed")
    assert not fault.active
    assert _port_is_free(route.listen_port)


def test_a_timed_proxy_stops_itself_when_nobody_stops_it(bootstrap):
    [route] = find_routes(bootstrap)
    start_timed("test-watchdog", bootstrap, lambda proxy: [], lifetime_s=0.5)
    assert not _port_is_free(route.listen_port)
    deadline = time.monotonic() + 5
    while not _port_is_free(route.listen_port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _port_is_free(route.listen_port)
    stop_timed("test-watchdog")  # already stopped: a no-op


def test_a_second_proxy_on_the_same_broker_waits_and_then_says_why(bootstrap):
    with fault_proxy(bootstrap):
        started = time.monotonic()
        with pytest.raises(ProxyError, match="another fault proxy"):
            with fault_proxy(bootstrap, patience_s=0.5):
                pass
        assert time.monotonic() - started >= 0.5
