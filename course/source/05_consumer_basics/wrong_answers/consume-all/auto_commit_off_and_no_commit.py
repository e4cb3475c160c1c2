"""auto-commit off and no commit"""

import time

from kafka import KafkaConsumer


def revenue_per_customer(bootstrap, topic, group):
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        value_deserializer=JsonDeserializer(),
    )
    revenue = {}
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and not caught_up(consumer):
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    order = record.value
                    revenue[order["customer"]] = revenue.get(order["customer"], 0) + order["amount"]
    finally:
        consumer.close()
    return revenue
