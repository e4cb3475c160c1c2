"""a blocking commit() in a plain ConsumerRebalanceListener, as a Java consumer would do it"""

from kafka import ConsumerRebalanceListener


def consume_shared(bootstrap, topic, group, process, stop):
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=10,
    )

    class CommitOnRevoke(ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            consumer.commit()  # kafka-python 3 runs this on its IO loop: a blocking call there

        def on_partitions_assigned(self, assigned):
            pass

    consumer.subscribe([topic], listener=CommitOnRevoke())

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
