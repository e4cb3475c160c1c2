"""one poll taken as everything: it returns after the first batch"""


def store_orders(consumer, sink):
    sink.execute(
        "CREATE TABLE IF NOT EXISTS orders "
        "(order_id TEXT PRIMARY KEY, customer TEXT, amount INTEGER)"
    )
    batch = consumer.poll(timeout_ms=1000)  # at most 5 of the 12 orders (max_poll_records=5)
    for records in batch.values():
        for record in records:
            order = record.value
            sink.execute(
                "INSERT OR IGNORE INTO orders VALUES (?, ?, ?)",
                (order["order_id"], order["customer"], order["amount"]),
            )
    sink.commit()
    consumer.commit()
