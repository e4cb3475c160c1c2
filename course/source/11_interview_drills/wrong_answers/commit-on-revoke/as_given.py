"""the program as given: a commit every 50 records is enough, as if partitions never moved"""


def consume_shared(bootstrap, topic, group, process, stop):
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=10,
    )
    consumer.subscribe([topic])
    consumer.topics()  # the topic's partitions known before the first poll joins
    since_commit = 0
    try:
        while not stop.is_set():
            for records in consumer.poll(timeout_ms=200).values():
                for record in records:
                    process(record)
                    since_commit += 1
            if since_commit >= 50:  # one commit per 50 records: fewer round trips
                consumer.commit()
                since_commit = 0
        consumer.commit()
    finally:
        consumer.close()
