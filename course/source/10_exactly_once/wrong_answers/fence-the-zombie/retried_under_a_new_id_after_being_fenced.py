"""fenced, so the processor retries with a fresh producer under a new transactional id"""

import json
import time

from kafka import KafkaConsumer, KafkaProducer, OffsetAndMetadata, TopicPartition
from kafka.errors import KafkaError


def process_readings(bootstrap, transactional_id, input_topic, output_topic, group):
    producer = KafkaProducer(bootstrap_servers=bootstrap, transactional_id=transactional_id)
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    retries = 0
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
                if not is_fenced(error):
                    raise
                # Someone took our id: carry on under one of our own.
                producer.close(timeout=5)
                retries += 1
                producer = KafkaProducer(
                    bootstrap_servers=bootstrap, transactional_id=f"{transactional_id}-{retries}"
                )
                producer.init_transactions()
        return "done"
    finally:
        consumer.close()
        producer.close(timeout=5)
