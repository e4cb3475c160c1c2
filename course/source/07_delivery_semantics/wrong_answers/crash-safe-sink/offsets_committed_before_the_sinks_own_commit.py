"""offsets committed before the sink's own commit"""

import time


def store_orders(consumer, sink):
    sink.execute(
        "CREATE TABLE IF NOT EXISTS orders "
        "(order_id TEXT PRIMARY KEY, customer TEXT, amount INTEGER)"
    )
    partitions = list(consumer.assignment())
    ends = consumer.end_offsets(partitions)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if all(consumer.position(tp) >= ends[tp] for tp in partitions):
            return
        batch = consumer.poll(timeout_ms=500)
        for records in batch.values():
            for record in records:
                order = record.value
                sink.execute(
                    "INSERT OR IGNORE INTO orders VALUES (?, ?, ?)",
                    (order["order_id"], order["customer"], order["amount"]),
                )
        consumer.commit()
        sink.commit()
