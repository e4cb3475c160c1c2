"""commits the offset of the last record processed instead of the next one to read"""

from kafka import AsyncConsumerRebalanceListener, OffsetAndMetadata


def consume_safely(consumer, topic, process, stop):
    last = {}  # TopicPartition -> offset of the last record processed

    class CommitOnRevoke(AsyncConsumerRebalanceListener):
        async def on_partitions_revoked(self, revoked):
            offsets = {tp: OffsetAndMetadata(last.pop(tp), "", -1) for tp in revoked if tp in last}
            if offsets:
                await consumer.commit_async(offsets)

        async def on_partitions_assigned(self, assigned):
            pass

    consumer.subscribe([topic], listener=CommitOnRevoke())
    consumer.topics()
    while not stop():
        for tp, records in consumer.poll(timeout_ms=200).items():
            for record in records:
                process(record)
                last[tp] = record.offset
    if last:
        consumer.commit({tp: OffsetAndMetadata(offset, "", -1) for tp, offset in last.items()})
