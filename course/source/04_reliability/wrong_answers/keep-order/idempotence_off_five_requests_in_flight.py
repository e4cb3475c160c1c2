"""idempotence off, five requests in flight"""

from kafka import KafkaProducer
from kafka.serializer import DefaultSerializer


def send_account_events(bootstrap, topic, feed):
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        enable_idempotence=False,
        max_in_flight_requests_per_connection=5,
        key_serializer=DefaultSerializer(),
        value_serializer=JsonValueSerializer(),
    )
    try:
        for event in feed:
            producer.send(topic, key=event["account"], value=event)
        producer.flush(timeout=15)
    finally:
        producer.close(timeout=5)
