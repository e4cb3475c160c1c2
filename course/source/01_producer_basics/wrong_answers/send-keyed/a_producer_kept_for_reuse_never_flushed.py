"""a producer kept for reuse, never flushed"""

from kafka import KafkaProducer
from kafka.serializer import DefaultSerializer

producers = {}


def publish_orders(bootstrap, topic, orders):
    # One long-lived producer per broker, as a service would keep it.
    if bootstrap not in producers:
        producers[bootstrap] = KafkaProducer(
            bootstrap_servers=bootstrap,
            linger_ms=5000,
            key_serializer=DefaultSerializer(),
            value_serializer=JsonValueSerializer(),
        )
    for order in orders:
        producers[bootstrap].send(topic, key=order["customer"], value=order)
