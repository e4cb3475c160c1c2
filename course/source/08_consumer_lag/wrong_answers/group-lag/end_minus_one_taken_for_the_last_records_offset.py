"""end minus one, taken for the last record's offset"""

from kafka import KafkaAdminClient, TopicPartition
from kafka.admin import OffsetSpec


def group_lag(bootstrap, group):
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        committed = admin.list_group_offsets(group)[group]
        topics = sorted({tp.topic for tp in committed})
        partitions = [
            TopicPartition(t["name"], p["partition_index"])
            for t in admin.describe_topics(topics)
            for p in t["partitions"]
        ]
        ends = admin.list_partition_offsets({tp: OffsetSpec.LATEST for tp in partitions})
        lag = {topic: {} for topic in topics}
        for tp in partitions:
            done = committed.get(tp)
            last = ends[tp].offset - 1  # the last record's offset
            lag[tp.topic][tp.partition] = None if done is None else last - done.offset
        return lag
    finally:
        admin.close()
