"""no key"""

from kafka import KafkaProducer


def publish_orders(bootstrap, topic, orders):
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=5000, value_serializer=JsonValueSerializer()
    )
    for order in orders:
        producer.send(topic, value=order)
    producer.flush()
    producer.close()
