"""callbacks only, errors ignored"""

from kafka import KafkaProducer


def publish_with_report(bootstrap, topic, orders):
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, max_request_size=2048, value_serializer=JsonValueSerializer()
    )
    delivered = {}
    for order in orders:
        future = producer.send(topic, value=order)
        future.add_callback(
            lambda metadata, oid=order["order_id"]: delivered.update(
                {oid: [metadata.partition, metadata.offset]}
            )
        )
    producer.flush()
    producer.close()
    return {"delivered": delivered, "failed": []}
