"""A partition's log record by record, transaction markers and aborted records included.

A consumer never shows a transaction marker (a control record) and, under ``read_committed``,
drops the records of aborted transactions; both still take offsets in the log. This module turns
the record batches of a raw Fetch (``kafka_io.read_log`` sends it) into ``LogEntry`` rows, and
says from the log alone how each transaction ended. It does no I/O itself.

    LogEntry                       one record or marker, with its batch's producer and flags
    entries_of(partition, batch)   the LogEntry rows of one kafka-python record batch
    transaction_outcomes(entries)  (partition, offset) -> "committed" | "aborted" | "open"
    CommittedFilter, committed_view  what a read_committed consumer gets (markers kept)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# The type field of a control record's key (Kafka's ControlRecordType).
MARKERS = {0: "ABORT", 1: "COMMIT"}

COMMITTED, ABORTED, OPEN = "committed", "aborted", "open"


@dataclass(frozen=True)
class LogEntry:
    """One record of a partition's log, as the broker stores it.

    ``transactional`` is True for every record of a transactional batch, its marker included.
    ``control`` is "COMMIT" or "ABORT" for a transaction marker (its key and value are the
    marker's encoded fields, not data), None for a data record. ``producer_id`` and
    ``producer_epoch`` are -1 for a producer that is neither idempotent nor transactional.
    """

    partition: int
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...]
    producer_id: int
    producer_epoch: int
    transactional: bool
    control: str | None


def entries_of(partition: int, batch: Any) -> list[LogEntry]:
    """The records of one kafka-python ``DefaultRecordBatch`` as LogEntry rows."""
    control = batch.is_control_batch
    return [
        LogEntry(
            partition=partition,
            offset=record.offset,
            timestamp=record.timestamp,
            key=record.key,
            value=record.value,
            headers=tuple((k, v) for k, v in (record.headers or [])),
            producer_id=batch.producer_id,
            producer_epoch=batch.producer_epoch,
            transactional=bool(batch.is_transactional),
            # kafka-python's ControlRecord has already read the type out of the key.
            control=MARKERS.get(record.type, f"CONTROL-{record.type}") if control else None,
        )
        for record in batch
    ]


def transaction_outcomes(entries: Iterable[LogEntry]) -> dict[tuple[int, int], str]:
    """(partition, offset) -> how the transaction of each transactional data record ended.

    A record's transaction ends at the first marker its producer id writes after it in the same
    partition: "committed" for a COMMIT marker, "aborted" for ABORT, "open" when no such marker
    is among ``entries`` (the transaction is still going, or the entries stop before its marker:
    pass entries that run to the end of the log to tell the two apart). Markers and
    non-transactional records have no entry.
    """
    outcomes: dict[tuple[int, int], str] = {}
    # Walking each partition backwards, the marker last seen for a producer id is the next one.
    next_marker: dict[tuple[int, int], str] = {}
    ordered = sorted(entries, key=lambda e: (e.partition, e.offset), reverse=True)
    for entry in ordered:
        producer = (entry.partition, entry.producer_id)
        if entry.control in ("COMMIT", "ABORT"):
            next_marker[producer] = COMMITTED if entry.control == "COMMIT" else ABORTED
        elif entry.transactional and entry.control is None:
            outcomes[(entry.partition, entry.offset)] = next_marker.get(producer, OPEN)
    return dict(sorted(outcomes.items()))


class CommittedFilter:
    """Drops what a ``read_committed`` consumer never receives, as Kafka's consumer does it:
    the data records of aborted transactions. Markers are kept (they still take offsets).

    A read_committed Fetch answers, besides the records, the (producer id, first offset) of each
    aborted transaction in the range it returns: hand those to ``learn`` before asking ``keeps``
    about that answer's entries, in offset order, one partition per filter. Records past the last
    stable offset are not in a read_committed fetch at all, so open transactions never get here.
    """

    def __init__(self) -> None:
        self._pending: list[tuple[int, int]] = []
        self._aborting: set[int] = set()  # producer ids inside an aborted transaction

    def learn(self, aborted_transactions: Iterable[tuple[int, int]]) -> None:
        self._pending = sorted([*self._pending, *aborted_transactions], key=lambda t: t[1])

    def keeps(self, entry: LogEntry) -> bool:
        while self._pending and self._pending[0][1] <= entry.offset:
            self._aborting.add(self._pending.pop(0)[0])
        if entry.control == "ABORT":
            self._aborting.discard(entry.producer_id)  # its aborted transaction ends here
            return True
        return not (
            entry.control is None and entry.transactional and entry.producer_id in self._aborting
        )


def committed_view(
    entries: Iterable[LogEntry], aborted_transactions: Iterable[tuple[int, int]]
) -> list[LogEntry]:
    """The entries (of one partition) a read_committed consumer receives, markers kept; see
    ``CommittedFilter``."""
    only_committed = CommittedFilter()
    only_committed.learn(aborted_transactions)
    return [e for e in sorted(entries, key=lambda e: e.offset) if only_committed.keeps(e)]
