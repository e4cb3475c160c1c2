"""a consumer left at its default isolation level, read_uncommitted"""

import json
import time

from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition


def run_pipeline(producer, bootstrap, input_topic, output_topic, group):
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    try:
        partitions = sorted(consumer.partitions_for_topic(input_topic))
        consumer.assign([TopicPartition(input_topic, p) for p in partitions])
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            batch = consumer.poll(timeout_ms=2000)
            if not batch:
                return
            producer.begin_transaction()
            for records in batch.values():
                for record in records:
                    output = to_fahrenheit(json.loads(record.value))
                    producer.send(output_topic, key=record.key, value=json.dumps(output).encode())
            offsets = {tp: OffsetAndMetadata(consumer.position(tp), "", -1) for tp in batch}
            producer.send_offsets_to_transaction(offsets, consumer.group_metadata())
            producer.commit_transaction()
    finally:
        consumer.close()
