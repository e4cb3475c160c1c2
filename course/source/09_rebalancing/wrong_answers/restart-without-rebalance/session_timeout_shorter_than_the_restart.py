"""a session timeout shorter than the restart takes"""


def static_member_settings(bootstrap, group, name):
    return {
        "bootstrap_servers": bootstrap,
        "group_id": group,
        "client_id": name,
        "group_instance_id": name,
        "session_timeout_ms": 1_000,  # "fast failure detection"
        "heartbeat_interval_ms": 300,
    }
