"""lz4 for speed, at the default batch size"""

from kafka import KafkaProducer


def ship_events(bootstrap, topic, events):
    # lz4 is the fastest codec, and 16 KiB batches leave quickly.
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        compression_type="lz4",
        linger_ms=50,
        value_serializer=JsonValueSerializer(),
    )
    try:
        for event in events:
            producer.send(topic, value=event)
        producer.flush()
    finally:
        producer.close()
