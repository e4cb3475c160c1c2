"""str() instead of JSON"""

from kafka import KafkaProducer
from kafka.serializer import DefaultSerializer


def publish_orders(bootstrap, topic, orders):
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=5000, key_serializer=DefaultSerializer()
    )
    for order in orders:
        producer.send(topic, key=order["customer"], value=str(order).encode())
    producer.flush()
    producer.close()
