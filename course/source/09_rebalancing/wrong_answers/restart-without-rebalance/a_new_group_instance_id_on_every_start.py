"""a new group_instance_id on every start"""

import uuid


def static_member_settings(bootstrap, group, name):
    return {
        "bootstrap_servers": bootstrap,
        "group_id": group,
        "client_id": name,
        "group_instance_id": f"{name}-{uuid.uuid4().hex[:8]}",  # unique, but new every start
        "session_timeout_ms": 6_000,
        "heartbeat_interval_ms": 1_000,
    }
