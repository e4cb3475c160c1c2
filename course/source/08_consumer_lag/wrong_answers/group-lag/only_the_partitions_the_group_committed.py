"""only the partitions the group committed"""

from kafka import KafkaAdminClient
from kafka.admin import OffsetSpec


def group_lag(bootstrap, group):
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        committed = admin.list_group_offsets(group)[group]
        ends = admin.list_partition_offsets({tp: OffsetSpec.LATEST for tp in committed})
        lag = {}
        for tp, done in committed.items():
            lag.setdefault(tp.topic, {})[tp.partition] = ends[tp].offset - done.offset
        return lag
    finally:
        admin.close()
