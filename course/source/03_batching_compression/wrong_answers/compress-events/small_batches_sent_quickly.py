"""small batches sent quickly"""

from kafka import KafkaProducer


def ship_events(bootstrap, topic, events):
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        compression_type="lz4",
        batch_size=1024,
        linger_ms=5,
        value_serializer=JsonValueSerializer(),
    )
    for event in events:
        producer.send(topic, value=event)
    producer.flush()
    producer.close()
