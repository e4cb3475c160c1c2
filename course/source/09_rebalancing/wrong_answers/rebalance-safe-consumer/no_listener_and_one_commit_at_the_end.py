"""no rebalance listener: one commit at the end, whatever moved in between"""


def consume_safely(consumer, topic, process, stop):
    consumer.subscribe([topic])
    consumer.topics()
    while not stop():
        for records in consumer.poll(timeout_ms=200).values():
            for record in records:
                process(record)
    consumer.commit()
