"""callbacks that read the loop variable when they run (late binding)"""

from kafka import KafkaProducer
from kafka.errors import KafkaError


def publish_with_report(bootstrap, topic, orders):
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, max_request_size=2048, value_serializer=JsonValueSerializer()
    )
    delivered, failed = {}, []
    for order in orders:
        order_id = order["order_id"]
        try:
            future = producer.send(topic, value=order)
        except KafkaError:
            failed.append(order_id)
            continue
        # order_id is looked up when the callback runs, not when it is attached.
        future.add_callback(
            lambda metadata: delivered.update({order_id: [metadata.partition, metadata.offset]})  # noqa: B023
        )
        future.add_errback(lambda error: failed.append(order_id))  # noqa: B023
    producer.flush()
    producer.close()
    return {"delivered": delivered, "failed": failed}
