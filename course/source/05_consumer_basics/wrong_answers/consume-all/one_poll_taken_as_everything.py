"""one poll, taken as everything"""

from kafka import KafkaConsumer


def revenue_per_customer(bootstrap, topic, group):
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        value_deserializer=JsonDeserializer(),
    )
    revenue = {}
    try:
        for records in consumer.poll(timeout_ms=5000).values():
            for record in records:
                order = record.value
                revenue[order["customer"]] = revenue.get(order["customer"], 0) + order["amount"]
    finally:
        consumer.close()  # auto-commit is on: close() commits what was read
    return revenue
