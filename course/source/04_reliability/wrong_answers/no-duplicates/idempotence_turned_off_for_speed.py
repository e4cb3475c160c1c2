"""idempotence turned off for speed"""

from kafka import KafkaProducer
from kafka.serializer import DefaultSerializer


def send_payments(bootstrap, topic, payments):
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        enable_idempotence=False,
        key_serializer=DefaultSerializer(),
        value_serializer=JsonValueSerializer(),
    )
    try:
        for payment in payments:
            producer.send(topic, key=payment["account"], value=payment)
        producer.flush(timeout=15)
    finally:
        producer.close(timeout=5)
