"""the program as given: auto-commit looks after the offsets, so slow work can go to threads"""


def run_pipeline(bootstrap, topic, group, handle):
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=True,  # commits the position every 200 ms: looks safe
        auto_commit_interval_ms=200,
        auto_offset_reset="earliest",
    )
    # Every partition assigned by hand: no group membership waits for a dead predecessor.
    partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
    consumer.assign(partitions)
    pool = ThreadPoolExecutor(max_workers=4)
    pending = []
    try:
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=200).values():
                pending += [pool.submit(handle, record) for record in records]
            ends = consumer.end_offsets(partitions)
            caught_up = all(consumer.position(tp) >= ends[tp] for tp in partitions)
            if caught_up and all(future.done() for future in pending):
                break  # everything read and handled
    finally:
        pool.shutdown(wait=True)
        consumer.close()
