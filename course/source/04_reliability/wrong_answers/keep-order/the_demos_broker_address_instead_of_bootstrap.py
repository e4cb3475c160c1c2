"""the demos' broker address instead of the `bootstrap` given"""

from kafka import KafkaProducer
from kafka.serializer import DefaultSerializer


def send_account_events(bootstrap, topic, feed):
    # Copied from a demo cell: straight to the broker, past the check's fault proxy.
    producer = KafkaProducer(
        bootstrap_servers=course.bootstrap,
        acks=1,
        enable_idempotence=False,
        max_in_flight_requests_per_connection=1,
        key_serializer=DefaultSerializer(),
        value_serializer=JsonValueSerializer(),
    )
    try:
        for event in feed:
            producer.send(topic, key=event["account"], value=event)
        producer.flush(timeout=15)
    finally:
        producer.close(timeout=5)
