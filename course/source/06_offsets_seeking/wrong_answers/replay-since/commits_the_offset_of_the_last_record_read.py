"""commits the offset of the last record read"""

import time

from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition


def replay_since(bootstrap, topic, group, since_ms):
    processed = []
    with KafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    ) as consumer:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        ends = consumer.end_offsets(partitions)
        starts = consumer.offsets_for_times({tp: since_ms for tp in partitions})
        for tp in partitions:
            consumer.seek(tp, ends[tp] if starts[tp] is None else starts[tp].offset)
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            for tp, records in consumer.poll(timeout_ms=200).items():
                processed += [record.value.decode() for record in records]
                consumer.commit({tp: OffsetAndMetadata(records[-1].offset, "", -1)})
            if all(consumer.position(tp) >= ends[tp] for tp in partitions):
                break
    return processed
