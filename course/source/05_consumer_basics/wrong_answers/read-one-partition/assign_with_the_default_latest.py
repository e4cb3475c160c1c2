"""assign with the default 'latest'"""

import time

from kafka import KafkaConsumer, TopicPartition


def read_partition(bootstrap, topic, partition):
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, value_deserializer=JsonDeserializer()
    )
    tp = TopicPartition(topic, partition)
    order_ids = []
    try:
        consumer.assign([tp])
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and not caught_up(consumer):
            for record in consumer.poll(timeout_ms=500).get(tp, []):
                order_ids.append(record.value["order_id"])
    finally:
        consumer.close()
    return order_ids
