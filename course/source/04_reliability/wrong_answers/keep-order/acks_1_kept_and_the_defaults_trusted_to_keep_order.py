"""the team's acks=1 kept, the defaults trusted to keep order"""

from kafka import KafkaProducer
from kafka.serializer import DefaultSerializer


def send_account_events(bootstrap, topic, feed):
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks=1,  # the team's latency budget; idempotence is on by default, isn't it?
        key_serializer=DefaultSerializer(),
        value_serializer=JsonValueSerializer(),
    )
    try:
        for event in feed:
            producer.send(topic, key=event["account"], value=event)
        producer.flush(timeout=15)
    finally:
        producer.close(timeout=5)
