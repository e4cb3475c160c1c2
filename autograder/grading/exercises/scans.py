"""Scans of what a topic holds against what an exercise sent through the learner's code.

The producer lessons (01-04) ask the same questions of a topic: does it hold every expected
record exactly once, as JSON; how many copies of each id does it hold; are the positions the
learner reported the ones the broker holds. The scans answer them once; each judge phrases the
answer for its own exercise.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from autograder.grading.kafka_io import StoredRecord

_NOT_JSON = object()


def _json(record: StoredRecord) -> Any:
    try:
        return record.value_json()
    except ValueError:
        return _NOT_JSON


def _unreadable(record: StoredRecord) -> str:
    return f"<unreadable at {record.partition}/{record.offset}>"


def _id_of(record: StoredRecord, id_key: str) -> str:
    value = _json(record)
    try:
        return str(value[id_key])
    except (KeyError, TypeError, IndexError):
        return _unreadable(record)


def copies_by_id(stored: list[StoredRecord], id_key: str) -> Counter:
    """How many records carry each id in their JSON value; a record whose id cannot be read
    counts under ``<unreadable at partition/offset>``."""
    return Counter(_id_of(record, id_key) for record in stored)


def positions_by_id(
    stored: list[StoredRecord], id_key: str, unreadable: bool = False
) -> dict[str, list[int]]:
    """``{id: [partition, offset]}`` of every record with a readable id (the last copy wins);
    with ``unreadable``, the others too, under ``<unreadable at partition/offset>``."""
    positions = {}
    for record in stored:
        record_id = _id_of(record, id_key)
        if unreadable or record_id != _unreadable(record):
            positions[record_id] = [record.partition, record.offset]
    return positions


def misreported(reported: Mapping, on_broker: Mapping[str, list[int]]) -> dict[str, Any]:
    """The entries of a learner's ``{id: [partition, offset]}`` report that are not where the
    broker holds the id (tuples and lists alike; JSON made every id a string)."""
    delivered = {
        str(key): list(value) if isinstance(value, (list, tuple)) else value
        for key, value in (reported or {}).items()
    }
    return {key: value for key, value in delivered.items() if on_broker.get(key) != value}


@dataclass(frozen=True)
class Match:
    """A topic's records matched, as JSON values, against the records expected in it.

    ``odd`` holds, in the topic's order, the records whose value is not JSON or is none of the
    expected records as given; ``copies`` counts each expected id stored, and ``missing``
    lists the expected ids the topic lacks.
    """

    stored: list[StoredRecord]
    expected: list[dict]
    odd: tuple[StoredRecord, ...] = ()
    copies: Counter = field(default_factory=Counter)
    missing: list[str] = field(default_factory=list)

    @property
    def fewer(self) -> int:
        """How many records short of the expected count the topic is (0 when not short)."""
        return max(len(self.expected) - len(self.stored), 0)

    @property
    def more(self) -> bool:
        return len(self.stored) > len(self.expected)

    @property
    def not_json(self) -> StoredRecord | None:
        """The first record whose value is not JSON text."""
        return next((record for record in self.odd if _json(record) is _NOT_JSON), None)

    @property
    def strangers(self) -> list[Any]:
        """The JSON values that are none of the expected records as given."""
        return [value for value in map(_json, self.odd) if value is not _NOT_JSON]

    @property
    def doubled(self) -> dict[str, int]:
        """Expected ids stored more than once, with their number of copies."""
        return {record_id: n for record_id, n in self.copies.items() if n > 1}

    @property
    def each_once(self) -> bool:
        """Every expected record stored exactly once, as JSON, and nothing else."""
        return not (self.more or self.fewer or self.odd or self.missing or self.doubled)


def match_expected(stored: list[StoredRecord], expected: list[dict], id_key: str) -> Match:
    """Every expected record exactly once, as JSON: how the topic's ``stored`` records fall
    short of ``expected`` (matched by ``id_key``)."""
    wanted = {str(record[id_key]): record for record in expected}
    odd = []
    copies: Counter = Counter()
    for record in stored:  # sorted by partition, then offset: the first problem is stable
        value = _json(record)
        record_id = str(value.get(id_key)) if isinstance(value, dict) else None
        if record_id is None or wanted.get(record_id) != value:
            odd.append(record)
        else:
            copies[record_id] += 1
    missing = [record_id for record_id in wanted if record_id not in copies]
    return Match(stored, list(expected), tuple(odd), copies, missing)
