"""max_poll_interval_ms raised to fit the batch, instead of a batch that fits the interval"""


def bulk_loader(bootstrap, topic, group, write_batch, max_poll_interval_ms, stop):
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_interval_ms=max_poll_interval_ms * 10,  # room for a batch of 500
        heartbeat_interval_ms=500,
        max_poll_records=500,
    )
    consumer.topics()  # the topic's partitions known before the first poll joins
    try:
        while not stop.is_set():
            batch = consumer.poll(timeout_ms=200)
            records = [record for part in batch.values() for record in part]
            if records:
                write_batch(records)
                consumer.commit()
    finally:
        consumer.close()
