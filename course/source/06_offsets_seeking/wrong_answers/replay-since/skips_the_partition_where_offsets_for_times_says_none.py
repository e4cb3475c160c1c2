"""skips the partition where offsets_for_times says None"""

import time

from kafka import KafkaConsumer, TopicPartition


def replay_since(bootstrap, topic, group, since_ms):
    processed = []
    with KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    ) as consumer:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        ends = consumer.end_offsets(partitions)
        starts = consumer.offsets_for_times({tp: since_ms for tp in partitions})
        for tp in partitions:
            if starts[tp] is not None:  # nothing new there: leave it alone
                consumer.seek(tp, starts[tp].offset)
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=200).values():
                processed += [record.value.decode() for record in records]
            consumer.commit()
            if all(consumer.position(tp) >= ends[tp] for tp in partitions):
                break
    return processed
