"""What a topic holds, seen twice: as a ``read_committed`` consumer gets it, and as the raw log
stores it (aborted records and transaction markers included). Lesson 10's judges ask both.

    TopicView.read(bootstrap, topic, "transfer")   both reads of one topic, keyed by an id field
    view.visible[id]                               the records a read_committed consumer gets
    view.logged[id]                                every data record in the log, aborted included
    view.outcome(record)                           "committed", "aborted", "open" or None (plain)
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from autograder.grading import kafka_io
from autograder.grading.kafka_io import LogEntry, StoredRecord

UNREADABLE = "<unreadable>"


def _id(value: bytes | None, id_key: str) -> str:
    try:
        return str(json.loads(value or b"")[id_key])
    except (ValueError, KeyError, TypeError, IndexError):
        return UNREADABLE


def parsed(value: bytes | None) -> Any:
    """The JSON a record value holds, or None when it holds none."""
    try:
        return json.loads(value or b"")
    except ValueError:
        return None


@dataclass
class TopicView:
    """One topic's records by the id in their JSON value, under both readings."""

    visible: dict[str, list[StoredRecord]] = field(default_factory=lambda: defaultdict(list))
    logged: dict[str, list[LogEntry]] = field(default_factory=lambda: defaultdict(list))
    entries: dict[tuple[int, int], LogEntry] = field(default_factory=dict)
    outcomes: dict[tuple[int, int], str] = field(default_factory=dict)

    @classmethod
    def read(cls, bootstrap: str, topic: str, id_key: str) -> TopicView:
        view = cls()
        raw = kafka_io.read_log(bootstrap, topic)
        view.outcomes = kafka_io.transaction_outcomes(raw)
        for entry in raw:
            view.entries[(entry.partition, entry.offset)] = entry
            if entry.control is None:
                view.logged[_id(entry.value, id_key)].append(entry)
        for record in kafka_io.read_all(bootstrap, topic, isolation="read_committed"):
            view.visible[_id(record.value, id_key)].append(record)
        return view

    def outcome(self, record: StoredRecord | LogEntry) -> str | None:
        """How the record's transaction ended; None for a record written outside any."""
        return self.outcomes.get((record.partition, record.offset))

    def producer_of(self, record: StoredRecord) -> tuple[int, int] | None:
        """(producer id, epoch) of the batch the record sits in."""
        entry = self.entries.get((record.partition, record.offset))
        return None if entry is None else (entry.producer_id, entry.producer_epoch)

    def last_data_offsets(self) -> dict[int, int]:
        """partition -> the offset after its last data record (markers not counted)."""
        ends: dict[int, int] = {}
        for (partition, offset), entry in self.entries.items():
            if entry.control is None:
                ends[partition] = max(ends.get(partition, 0), offset + 1)
        return ends

    def copies(self) -> dict[str, int]:
        return {key: len(records) for key, records in self.visible.items() if records}
