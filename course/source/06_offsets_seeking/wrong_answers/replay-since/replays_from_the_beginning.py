"""replays from the beginning"""

import time

from kafka import KafkaConsumer, TopicPartition


def replay_since(bootstrap, topic, group, since_ms):
    processed = []
    with KafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    ) as consumer:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        ends = consumer.end_offsets(partitions)
        consumer.seek_to_beginning(*partitions)
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=200).values():
                processed += [record.value.decode() for record in records]
            consumer.commit()
            if all(consumer.position(tp) >= ends[tp] for tp in partitions):
                break
    return processed
