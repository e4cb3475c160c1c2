"""only the partitions the group committed on count, as if list_group_offsets listed them all"""


def lag_alerts(bootstrap, groups, max_lag):
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        alerts = {}
        for group, offsets in admin.list_group_offsets({g: None for g in groups}).items():
            ends = admin.list_partition_offsets({tp: OffsetSpec.LATEST for tp in offsets})
            lag = sum(ends[tp].offset - offsets[tp].offset for tp in offsets)
            if lag > max_lag:
                alerts[group] = lag
        return alerts
    finally:
        admin.close()
