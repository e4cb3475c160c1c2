"""Recognising a delivery report written by callbacks that read the loop variable late.

``future.add_callback(lambda metadata: report.update({order_id: ...}))`` inside a loop looks
right, but Python looks ``order_id`` up when the callback *runs*, and by then (the producer's
thread answers after the loop has moved on, usually after it ended) it names a later order,
most often the last one. The report then holds few ids, positions filed under the wrong id, or
the id of an order that failed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

HINT = (
    "Your callbacks filed their answers under the wrong ids: a lambda that uses the loop "
    "variable reads it when the producer calls it, after the loop has moved on (Python's late "
    "binding), so most of them saw the last {what}. How does each callback keep its own id? "
    "Bind it when you create the callback, as a default argument: "
    "`lambda metadata, rid=rid: ...` (the same for the errback)."
)


def looks_late_bound(
    delivered: Mapping, failed: Iterable, sent_ids: list[str], on_broker: Mapping[str, list[int]]
) -> bool:
    """Whether a report's ``delivered`` ({id: [partition, offset]}) and ``failed`` ids have the
    shape late-bound callbacks leave: fewer delivered ids than the broker holds, and among them
    the last id sent, an id that never reached the broker, or a position the broker holds
    under another id; or one id reported as failed more than once."""
    failed = [str(i) for i in failed]
    if len(failed) != len(set(failed)):
        return True
    reported = {
        str(k): list(v) if isinstance(v, (list, tuple)) else v for k, v in delivered.items()
    }
    if not reported or len(reported) >= len(on_broker):
        return False
    holder = {tuple(position): record_id for record_id, position in on_broker.items()}
    filed_elsewhere = any(
        isinstance(position, list) and holder.get(tuple(position), record_id) != record_id
        for record_id, position in reported.items()
    )
    return (
        bool(sent_ids and sent_ids[-1] in reported)
        or any(record_id not in on_broker for record_id in reported)
        or filed_elsewhere
    )
