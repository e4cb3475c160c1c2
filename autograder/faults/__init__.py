"""Real network faults between a Kafka client and the course's broker, always undone.

The broker has a second listener, PROXIED, that advertises the fault proxy's address: a client
bootstrapped at ``proxy.bootstrap`` sends everything through the proxy, which can lose
requests, fail them, or drop and withhold the broker's responses (see proxy.py).

Example (in a demo or a test):
    >>> from autograder.faults import fault_proxy
    >>> with fault_proxy(bootstrap) as proxy:
    ...     producer = KafkaProducer(bootstrap_servers=proxy.bootstrap)
    ...     try:
    ...         with proxy.drop_responses("Produce", count=1):
    ...             producer.send(topic, b"once?").get(timeout=10)
    ...     finally:
    ...         producer.close()
    # leaving the block switches the fault off, closes the proxy's sockets and frees its port,
    # even when the block raised
"""

from __future__ import annotations

from autograder.faults.proxy import Fault, FaultProxy, ProxyError, Route
from autograder.faults.session import (
    FaultsUnavailable,
    fault_proxy,
    find_routes,
    start_timed,
    stop_timed,
)

__all__ = [
    "Fault",
    "FaultProxy",
    "FaultsUnavailable",
    "ProxyError",
    "Route",
    "fault_proxy",
    "find_routes",
    "start_timed",
    "stop_timed",
]
