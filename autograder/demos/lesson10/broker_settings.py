"""The broker side of transactions: the settings of the transaction coordinator, this broker's
value beside Kafka's own default (both as the broker reports them)."""

from __future__ import annotations

from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType

from autograder.demos.lesson10.reading import close_quietly
from autograder.grading import kafka_io

TRANSACTION_SETTINGS = (
    "transaction.state.log.replication.factor",
    "transaction.state.log.min.isr",
    "transaction.max.timeout.ms",
    "transaction.abort.timed.out.transaction.cleanup.interval.ms",
)


def transaction_settings(bootstrap: str, names=TRANSACTION_SETTINGS) -> dict[str, dict[str, str]]:
    """setting -> {"this broker": value, "Kafka default": value} for the first broker."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=6000)
    try:
        node = str(admin.describe_cluster()["brokers"][0]["broker_id"])
        resource = ConfigResource(ConfigResourceType.BROKER, node, dict.fromkeys(names))
        found = admin.describe_configs([resource], include_synonyms=True, config_filter="all")
        configs = found["broker"][node]
        return {
            name: {
                "this broker": configs[name]["value"],
                # The broker lists where a value comes from, Kafka's built-in default last.
                "Kafka default": next(
                    (
                        s["value"]
                        for s in configs[name]["synonyms"]
                        if s["source"] == "DEFAULT_CONFIG"
                    ),
                    "-",
                ),
            }
            for name in names
        }
    finally:
        close_quietly(admin)


def print_settings(settings: dict[str, dict[str, str]]) -> None:
    """The settings as a small table."""
    width = max(len(name) for name in settings)
    print(f"{'broker setting':<{width}}  {'this broker':>12}  {'Kafka default':>13}")
    for name, values in settings.items():
        print(f"{name:<{width}}  {values['this broker']:>12}  {values['Kafka default']:>13}")


def transaction_state_log(bootstrap: str) -> dict[str, int]:
    """The internal topic the transaction coordinators keep their state in: its partitions and
    its replicas per partition."""
    info = kafka_io.describe_topic(bootstrap, "__transaction_state")
    if info is None:
        return {"partitions": 0, "replicas": 0}
    return {"partitions": info.partitions, "replicas": info.replication_factor}
