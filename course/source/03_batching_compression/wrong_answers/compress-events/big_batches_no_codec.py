"""big batches, no codec"""

from kafka import KafkaProducer


def ship_events(bootstrap, topic, events):
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        linger_ms=50,
        batch_size=65536,
        value_serializer=JsonValueSerializer(),
    )
    for event in events:
        producer.send(topic, value=event)
    producer.flush()
    producer.close()
