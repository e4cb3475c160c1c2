"""callbacks that read the loop variable when they run (late binding)"""

from kafka import KafkaProducer
from kafka.errors import KafkaError


def publish_readings(bootstrap, topic, readings):
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, max_request_size=2048, value_serializer=JsonValueSerializer()
    )
    delivered, failed = {}, {}
    try:
        for reading in readings:
            rid = reading["id"]
            try:
                future = producer.send(topic, value=reading)
            except KafkaError as error:
                failed[rid] = type(error).__name__
                continue
            # rid is looked up when the callback runs, not when it is attached.
            future.add_callback(
                lambda metadata: delivered.update({rid: [metadata.partition, metadata.offset]})  # noqa: B023
            )
            future.add_errback(lambda error: failed.update({rid: type(error).__name__}))  # noqa: B023
        producer.flush(timeout=10)
    finally:
        producer.close(timeout=5)
    return {"delivered": delivered, "failed": failed}
