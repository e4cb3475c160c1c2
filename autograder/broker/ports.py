"""Which TCP ports on this machine are free."""

from __future__ import annotations

import socket

from autograder.broker.errors import BrokerError


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing listens on `host:port`, judged the way Kafka will bind it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR as the JVM sets it: a port in TIME_WAIT is free, a listening one is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(avoid: set[int] | None = None) -> int:
    """A port the kernel says is free right now (another process may still take it later)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port not in (avoid or set()):
            return port


def port_in_use_error(port: int) -> BrokerError:
    """The one-line error for a busy broker port, with the ways out."""
    return BrokerError(
        f"Port {port} is already in use, so the broker cannot listen on localhost:{port}; "
        "check `kafka-course broker status`, stop the other process, pick another port "
        f"(`kafka-course broker up --port {port + 1}`), or point KAFKA_BOOTSTRAP_SERVERS "
        "at the broker already running there."
    )
