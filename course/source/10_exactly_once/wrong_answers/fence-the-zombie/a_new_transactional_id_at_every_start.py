"""a new transactional id at every start, so that instances never get in each other's way"""

import json
import time
import uuid

from kafka import KafkaConsumer, KafkaProducer, OffsetAndMetadata, TopicPartition
from kafka.errors import KafkaError


def process_readings(bootstrap, transactional_id, input_topic, output_topic, group):
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, transactional_id=f"{transactional_id}-{uuid.uuid4().hex[:8]}"
    )
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    try:
        producer.init_transactions()
        partitions = sorted(consumer.partitions_for_topic(input_topic))
        consumer.assign([TopicPartition(input_topic, p) for p in partitions])
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            batch = consumer.poll(timeout_ms=2000)
            if not batch:
                return "done"
            try:
                producer.begin_transaction()
                for records in batch.values():
                    for record in records:
                        output = to_fahrenheit(json.loads(record.value))
                        producer.send(
                            output_topic, key=record.key, value=json.dumps(output).encode()
                        )
                offsets = {tp: OffsetAndMetadata(consumer.position(tp), "", -1) for tp in batch}
                producer.send_offsets_to_transaction(offsets, consumer.group_metadata())
                producer.commit_transaction()
            except KafkaError as error:
                if is_fenced(error):
                    return "fenced"
                raise
        return "done"
    finally:
        consumer.close()
        producer.close(timeout=5)
