"""max_poll_interval_ms raised instead of smaller batches"""


def slow_handler_settings(handle_ms, max_poll_interval_ms):
    return {"max_poll_interval_ms": 60_000}
