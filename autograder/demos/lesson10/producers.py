"""The transactional producer every demo of the lesson starts from."""

from __future__ import annotations

from kafka import KafkaProducer

# max.block.ms of seconds, not kafka-python's 60 s: a demo that cannot reach the coordinator
# says so quickly. request.timeout.ms stays at kafka-python's 30 s: kafka-python 3.0.12 treats a
# transactional request that times out as a fatal error rather than retrying it, and a busy
# machine can take more than a few seconds to answer one.
FAST = {"request_timeout_ms": 30_000, "max_block_ms": 10_000}


def transactional(bootstrap: str, transactional_id: str, **settings) -> KafkaProducer:
    """A producer with ``transactional_id`` (which turns idempotence on too), not yet
    initialised: the caller runs ``init_transactions()``."""
    return KafkaProducer(
        bootstrap_servers=bootstrap, transactional_id=transactional_id, **{**FAST, **settings}
    )
