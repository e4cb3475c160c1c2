"""batch_size read as a number of records"""

from kafka import KafkaProducer


def ship_events(bootstrap, topic, events):
    # 500 events per batch, compressed with gzip
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        compression_type="gzip",
        batch_size=500,
        linger_ms=50,
        value_serializer=JsonValueSerializer(),
    )
    for event in events:
        producer.send(topic, value=event)
    producer.flush()
    producer.close()
