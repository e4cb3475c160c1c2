"""BrokerStatus: which broker the course is using, where, and how it is doing."""

from __future__ import annotations

from dataclasses import dataclass

MODES = ("external", "docker", "jvm", "stopped")


@dataclass(frozen=True)
class BrokerStatus:
    """The course broker as `kafka-course broker status` reports it.

    Attributes:
        mode: "external" (KAFKA_BOOTSTRAP_SERVERS), "docker", "jvm" or "stopped".
        bootstrap: the address clients should use; "" when stopped.
        pid: the broker process id in "jvm" mode, else None.
        detail: one human sentence: version, data dir, cluster id, or what to do next.
    """

    mode: str
    bootstrap: str
    pid: int | None = None
    detail: str = ""

    @property
    def running(self) -> bool:
        return self.mode != "stopped"

    def describe(self) -> str:
        """One line for `kafka-course broker status`.

        Example:
            >>> BrokerStatus("jvm", "localhost:9092", 42, "Kafka 4.3.1").describe()
            'running at localhost:9092 (JVM process, pid 42); Kafka 4.3.1'
        """
        where = {
            "external": "external cluster at {bootstrap} (KAFKA_BOOTSTRAP_SERVERS)",
            "docker": "running at {bootstrap} (Docker Compose service `kafka`)",
            "jvm": "running at {bootstrap} (JVM process, pid {pid})",
            "stopped": "stopped",
        }[self.mode].format(bootstrap=self.bootstrap, pid=self.pid)
        return f"{where}; {self.detail}" if self.detail else where
