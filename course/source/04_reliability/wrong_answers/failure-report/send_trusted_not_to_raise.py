"""send() trusted not to raise"""

from kafka import KafkaProducer


def publish_readings(bootstrap, topic, readings):
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, max_request_size=2048, value_serializer=JsonValueSerializer()
    )
    delivered, failed = {}, {}
    try:
        for reading in readings:
            rid = reading["id"]
            future = producer.send(topic, value=reading)
            future.add_callback(
                lambda metadata, rid=rid: delivered.update(
                    {rid: [metadata.partition, metadata.offset]}
                )
            )
            future.add_errback(lambda error, rid=rid: failed.update({rid: type(error).__name__}))
        producer.flush(timeout=10)
    finally:
        producer.close(timeout=5)
    return {"delivered": delivered, "failed": failed}
