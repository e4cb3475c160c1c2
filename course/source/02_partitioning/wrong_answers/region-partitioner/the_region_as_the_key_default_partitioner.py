"""the region as the key, default partitioner"""

from kafka import KafkaProducer
from kafka.serializer import DefaultSerializer


def publish_by_region(bootstrap, topic, events):
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        key_serializer=DefaultSerializer(),
        value_serializer=JsonValueSerializer(),
    )
    for event in events:
        producer.send(topic, key=event["region"], value=event)
    producer.flush()
    producer.close()
