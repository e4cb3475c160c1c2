"""Sample orders for the producer exercises, the same for a given attempt wherever they are made.

The grader rebuilds them from the attempt id alone, so no list is passed around or trusted.
"""

from __future__ import annotations

import random

CUSTOMERS = ("alice", "bob", "chen", "dana", "emeka", "farah")


def make_orders(attempt_id: str, count: int, customers: int = 4, oversized: int = 0) -> list[dict]:
    """``count`` orders spread over ``customers`` customers; ``oversized`` of them carry a
    3 KB note so they exceed a 2 KB request limit."""
    rng = random.Random(attempt_id)
    who = rng.sample(CUSTOMERS, customers)
    big = set(rng.sample(range(count), oversized))
    orders = []
    for n in range(count):
        order = {
            "order_id": f"o-{attempt_id}-{n:02d}",
            "customer": who[n % customers],
            "amount": rng.randint(5, 500),
        }
        if n in big:
            order["note"] = "gift message " * 250  # about 3.2 KB once serialized
        orders.append(order)
    return orders
