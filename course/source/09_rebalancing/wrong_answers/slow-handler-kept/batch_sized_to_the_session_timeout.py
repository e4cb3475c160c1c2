"""a batch sized to the session timeout, as if heartbeats kept a slow handler in the group"""

SESSION_TIMEOUT_MS = 3000  # the worker's session.timeout.ms


def slow_handler_settings(handle_ms, max_poll_interval_ms):
    # "As long as a batch ends before the session times out, the group keeps the worker."
    return {"max_poll_records": SESSION_TIMEOUT_MS // handle_ms}
