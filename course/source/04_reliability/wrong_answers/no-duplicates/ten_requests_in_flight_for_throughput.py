"""ten requests in flight for throughput"""

from kafka import KafkaProducer
from kafka.serializer import DefaultSerializer


def send_payments(bootstrap, topic, payments):
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        max_in_flight_requests_per_connection=10,
        key_serializer=DefaultSerializer(),
        value_serializer=JsonValueSerializer(),
    )
    try:
        for payment in payments:
            producer.send(topic, key=payment["account"], value=payment)
        producer.flush(timeout=15)
    finally:
        producer.close(timeout=5)
