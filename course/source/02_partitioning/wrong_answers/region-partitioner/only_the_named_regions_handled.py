"""only the named regions handled"""

from kafka import KafkaProducer
from kafka.partitioner import Partitioner
from kafka.serializer import DefaultSerializer


class RegionPartitioner(Partitioner):
    def partition(self, topic, key, serialized_key, value, serialized_value, cluster):
        return {"us": 0, "eu": 1}[value["region"]]


def publish_by_region(bootstrap, topic, events):
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        partitioner=RegionPartitioner(),
        key_serializer=DefaultSerializer(),
        value_serializer=JsonValueSerializer(),
    )
    try:
        for event in events:
            producer.send(topic, key=event["user"], value=event)
        producer.flush()
    finally:
        producer.close()
