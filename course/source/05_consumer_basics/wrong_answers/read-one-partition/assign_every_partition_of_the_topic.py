"""assign every partition of the topic"""

import time

from kafka import KafkaConsumer, TopicPartition


def read_partition(bootstrap, topic, partition):
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        value_deserializer=JsonDeserializer(),
    )
    order_ids = []
    try:
        consumer.assign(
            [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
        )
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and not caught_up(consumer):
            for records in consumer.poll(timeout_ms=500).values():
                order_ids += [record.value["order_id"] for record in records]
    finally:
        consumer.close()
    return order_ids
