"""Lesson 10's demonstrations: transactions, read_committed, the last stable offset,
consume-transform-produce under real crashes, zombie fencing, what it costs, and where
exactly-once ends. One module per section; every client a function starts is closed before it
returns, and every crashing process is gone.

    recap           section 1: what an idempotent producer alone does not give
    transactions    section 2: the raw log with its transaction markers, what is refused
    blocking        section 2: how long init_transactions() and commit_transaction() may block
    lso             section 3: the last stable offset, timeouts, a new instance's abort
    pipeline        section 4: consume-transform-produce, crashed and restarted
    fencing         section 5: zombies, epochs, one transactional.id against many
    cost            section 6: records/s and read_committed delay
    side_effects    section 7: a side effect outside Kafka
    broker_settings the transaction coordinator's settings on this broker
    reading, producers   what they all share: consumers of each isolation level, the producer
"""

from __future__ import annotations

from autograder.demos.lesson10.producers import transactional
from autograder.demos.lesson10.reading import both_views, end_and_stable_offsets, read_values

__all__ = ["both_views", "end_and_stable_offsets", "read_values", "transactional"]
