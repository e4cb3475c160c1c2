"""commits in on_partitions_assigned, once the partitions have already moved"""

from kafka import AsyncConsumerRebalanceListener


def consume_safely(consumer, topic, process, stop):
    class CommitAfterTheMove(AsyncConsumerRebalanceListener):
        async def on_partitions_revoked(self, revoked):
            pass

        async def on_partitions_assigned(self, assigned):
            # "The rebalance is over: save progress now." The partitions taken away are gone
            # from this consumer already, so their positions are not among those committed.
            await consumer.commit_async()

    consumer.subscribe([topic], listener=CommitAfterTheMove())
    consumer.topics()
    while not stop():
        for records in consumer.poll(timeout_ms=200).values():
            for record in records:
                process(record)
    consumer.commit()
