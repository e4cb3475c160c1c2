"""a thread pool makes the lookups parallel, even when each result is waited for at once"""


def enrich_all(bootstrap, topic, group, output_topic, lookup):
    from kafka import KafkaProducer

    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
    consumer.assign(partitions)
    pool = ThreadPoolExecutor(max_workers=16)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=200).values():
                for record in records:
                    value = pool.submit(lookup, record).result()
                    producer.send(output_topic, key=record.key, value=value)
            producer.flush()
            consumer.commit()
            ends = consumer.end_offsets(partitions)
            if all(consumer.position(tp) >= ends[tp] for tp in partitions):
                break
    finally:
        pool.shutdown(wait=True)
        producer.close()
        consumer.close()
