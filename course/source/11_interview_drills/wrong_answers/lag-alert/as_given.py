"""the program as given: a group whose members are all there is keeping up"""


def lag_alerts(bootstrap, groups, max_lag):
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        described = admin.describe_groups(groups)
        # Members in a Stable group are consuming: nothing to worry about there.
        quiet = [g for g in groups if described[g]["group_state"] != "Stable"]
        alerts = {}
        for group, offsets in admin.list_group_offsets({g: None for g in quiet}).items():
            ends = admin.list_partition_offsets({tp: OffsetSpec.LATEST for tp in offsets})
            lag = sum(ends[tp].offset - offsets[tp].offset for tp in offsets)
            if lag > max_lag:
                alerts[group] = lag
        return alerts
    finally:
        admin.close()
