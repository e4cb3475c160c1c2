"""no group_instance_id: a dynamic member leaves the group on close() and joins it anew"""


def static_member_settings(bootstrap, group, name):
    return {
        "bootstrap_servers": bootstrap,
        "group_id": group,
        "client_id": name,
        "session_timeout_ms": 10_000,
        "heartbeat_interval_ms": 1_000,
    }
