"""auto-commit off, and a commit() as soon as the records are handed to the pool"""


def run_pipeline(bootstrap, topic, group, handle):
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
    consumer.assign(partitions)
    pool = ThreadPoolExecutor(max_workers=4)
    pending = []
    try:
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline:
            batch = consumer.poll(timeout_ms=200)
            for records in batch.values():
                pending += [pool.submit(handle, record) for record in records]
            if batch:
                consumer.commit()  # the records are in the pool: committed as taken care of
            ends = consumer.end_offsets(partitions)
            caught_up = all(consumer.position(tp) >= ends[tp] for tp in partitions)
            if caught_up and all(future.done() for future in pending):
                break
    finally:
        pool.shutdown(wait=True)
        consumer.close()
