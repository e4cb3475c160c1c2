"""the demos' broker address instead of the `bootstrap` given"""

from kafka import KafkaProducer
from kafka.serializer import DefaultSerializer


def send_payments(bootstrap, topic, payments):
    # Copied from a demo cell: straight to the broker, past the check's fault proxy.
    producer = KafkaProducer(
        bootstrap_servers=course.bootstrap,
        acks=1,
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
