"""no retries, so nothing can overtake"""

from kafka import KafkaProducer
from kafka.serializer import DefaultSerializer


def send_account_events(bootstrap, topic, feed):
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks=1,
        retries=0,
        key_serializer=DefaultSerializer(),
        value_serializer=JsonValueSerializer(),
    )
    try:
        for event in feed:
            producer.send(topic, key=event["account"], value=event)
        producer.flush(timeout=15)
    finally:
        producer.close(timeout=5)
