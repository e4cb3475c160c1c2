"""a consumer in the group, asked for its positions"""

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition


def group_lag(bootstrap, group):
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    topics = sorted({tp.topic for tp in admin.list_group_offsets(group)[group]})
    admin.close()
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    try:
        partitions = [
            TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t))
        ]
        consumer.assign(partitions)
        ends = consumer.end_offsets(partitions)
        lag = {topic: {} for topic in topics}
        for tp in partitions:
            lag[tp.topic][tp.partition] = ends[tp] - consumer.position(tp)
        return lag
    finally:
        consumer.close()
