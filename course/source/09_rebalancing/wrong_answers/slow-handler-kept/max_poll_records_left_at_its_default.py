"""max_poll_records left at its default of 500: only the interval is set"""


def slow_handler_settings(handle_ms, max_poll_interval_ms):
    return {"max_poll_interval_ms": max_poll_interval_ms}
