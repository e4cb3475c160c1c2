"""offsets counted by hand"""

from kafka import KafkaProducer


def publish_with_report(bootstrap, topic, orders):
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, max_request_size=2048, value_serializer=JsonValueSerializer()
    )
    report = {"delivered": {}, "failed": []}
    for position, order in enumerate(orders):
        future = producer.send(topic, value=order)
        future.add_callback(
            lambda metadata, oid=order["order_id"], n=position: report["delivered"].update(
                {oid: [metadata.partition, n]}
            )
        )
        future.add_errback(lambda error, oid=order["order_id"]: report["failed"].append(oid))
    producer.flush()
    producer.close()
    return report
