"""no unique key, so a redelivered order is stored again"""

import time


def store_orders(consumer, sink):
    sink.execute("CREATE TABLE IF NOT EXISTS orders (order_id TEXT, customer TEXT, amount INTEGER)")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        batch = consumer.poll(timeout_ms=1000)
        if not batch:
            return
        for records in batch.values():
            for record in records:
                order = record.value
                sink.execute(
                    "INSERT INTO orders VALUES (?, ?, ?)",
                    (order["order_id"], order["customer"], order["amount"]),
                )
        sink.commit()
        consumer.commit()
