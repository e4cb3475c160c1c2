"""commits in on_partitions_assigned, once the partitions taken away are gone already"""


def consume_shared(bootstrap, topic, group, process, stop):
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=10,
    )

    class SaveProgress(AsyncConsumerRebalanceListener):
        async def on_partitions_revoked(self, revoked):
            pass

        async def on_partitions_assigned(self, assigned):
            # "The rebalance is over: save progress now." Only the partitions this consumer
            # still has are committed; the one the new member took is not among them.
            await consumer.commit_async()

    consumer.subscribe([topic], listener=SaveProgress())

    consumer.topics()  # the topic's partitions known before the first poll joins
    since_commit = 0
    try:
        while not stop.is_set():
            for records in consumer.poll(timeout_ms=200).values():
                for record in records:
                    process(record)
                    since_commit += 1
            if since_commit >= 50:
                consumer.commit()
                since_commit = 0
        consumer.commit()
    finally:
        consumer.close()
