"""The course's Kafka broker: one single-node KRaft broker on localhost:9092.

Public API (everything else in this package is private):

    bootstrap_servers()               where clients connect
    up(port=9092) / down() / reset()  start, stop, wipe
    status() -> BrokerStatus          what runs, where
    logs(lines=50)                    the broker's log tail
    wait_until_ready(bootstrap, timeout)
    BrokerError                       one-line, actionable failures

Example:
    >>> from autograder import broker
    >>> broker.up().bootstrap
    'localhost:9092'
"""

from autograder.broker.control import bootstrap_servers, down, logs, reset, status, up
from autograder.broker.errors import BrokerError
from autograder.broker.probe import wait_until_ready as _wait_until_ready
from autograder.broker.status import BrokerStatus


def wait_until_ready(bootstrap: str, timeout: float) -> None:
    """Return once the broker at `bootstrap` answers ApiVersions and Metadata; else BrokerError.

    Polls every 50 ms; never sleeps a fixed time.

    Example:
        >>> wait_until_ready("localhost:9092", timeout=30)
    """
    _wait_until_ready(bootstrap, timeout)


__all__ = [
    "BrokerError",
    "BrokerStatus",
    "bootstrap_servers",
    "down",
    "logs",
    "reset",
    "status",
    "up",
    "wait_until_ready",
]
