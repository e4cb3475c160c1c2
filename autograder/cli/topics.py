"""`kafka-course topic dump`: a topic's log record by record, transaction markers included.

    kafka-course topic dump TOPIC [--partition N] [--from OFFSET] [--limit N]
                                  [--isolation read_committed|read_uncommitted] [--json]

It shows what the broker stores, which no consumer shows: like Kafka's `kafka-dump-log
--print-data-log`, but read over the network from the running broker. Each partition starts
with a line giving its high watermark and last stable offset; then one line per record:

    partition: 0 offset: 0 timestamp: 1764633600000 isTransactional: true producerId: 7
      producerEpoch: 0 transaction: committed headers: [] key: k1 payload: hello
    partition: 0 offset: 1 timestamp: 1764633600012 isTransactional: true producerId: 7
      producerEpoch: 0 endTxnMarker: COMMIT

(each on one line). Keys, values and header values print as text where they are UTF-8 (quoted
like JSON strings when they hold line breaks or other control characters), as `0x` and hex
digits where they are not, and as `null` where absent. `transaction:` says how the record's
transaction ended: `committed`, `aborted` or `open` (no marker yet).

`--from` is the first offset shown and `--limit` the most records shown in each partition.
`--isolation read_committed` shows what a read_committed consumer receives: nothing at or past
the last stable offset, and no record of an aborted transaction. Transaction markers are still
shown there (COMMIT and ABORT alike): they take offsets, and the gaps they leave are what a
consumer's positions jump over.

`--json` prints a list of objects with the keys `partition`, `offset`, `timestamp`,
`transactional`, `producer_id`, `producer_epoch`, `control` ("COMMIT", "ABORT" or null),
`transaction` ("committed", "aborted", "open" or null for a marker or a plain record), `key`,
`value` and `headers` (a list of [key, value] pairs). A byte string is a JSON string where it is
UTF-8, `{"hex": "..."}` where it is not, and null where absent; a marker's key and value are
null (what it stores there encodes the marker, not data).

Exit codes: 0 done; 1 the broker is down, the topic is unknown or the partition is not one of
the topic's (one line on stderr says what to do); 2 the command line itself is wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when the command runs: the parser needs no kafka-python
    from autograder.grading.raw_log import LogEntry

EXIT_CODES = (
    "exit codes: 0 done; 1 the broker is down, the topic is unknown or the partition is not "
    "one of its partitions; 2 the command line is wrong"
)
ISOLATIONS = ("read_uncommitted", "read_committed")


class TopicError(Exception):
    """A one-line reason the dump could not be made, saying what to do instead."""


def bytes_text(data: bytes | None) -> str:
    """``data`` for a dump line: text, a JSON-quoted string, 0x-hex, or ``null``."""
    if data is None:
        return "null"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "0x" + data.hex()
    return text if text.isprintable() and text else json.dumps(text, ensure_ascii=False)


def bytes_json(data: bytes | None) -> str | dict[str, str] | None:
    """``data`` for JSON: a string where it is UTF-8, {"hex": ...} where not, None if absent."""
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return {"hex": data.hex()}


def entry_line(entry: LogEntry, outcome: str | None) -> str:
    """One record as one dump line, fields named as in Kafka's `kafka-dump-log`."""
    fields = [
        f"partition: {entry.partition}",
        f"offset: {entry.offset}",
        f"timestamp: {entry.timestamp}",
        f"isTransactional: {str(entry.transactional).lower()}",
        f"producerId: {entry.producer_id}",
        f"producerEpoch: {entry.producer_epoch}",
    ]
    if entry.control is not None:
        fields.append(f"endTxnMarker: {entry.control}")
        return " ".join(fields)
    if outcome is not None:
        fields.append(f"transaction: {outcome}")
    headers = ", ".join(f"{key}={bytes_text(value)}" for key, value in entry.headers)
    fields += [f"headers: [{headers}]", f"key: {bytes_text(entry.key)}"]
    fields.append(f"payload: {bytes_text(entry.value)}")
    return " ".join(fields)


def entry_json(entry: LogEntry, outcome: str | None) -> dict:
    return {
        "partition": entry.partition,
        "offset": entry.offset,
        "timestamp": entry.timestamp,
        "transactional": entry.transactional,
        "producer_id": entry.producer_id,
        "producer_epoch": entry.producer_epoch,
        "control": entry.control,
        "transaction": outcome,
        # A marker's key and value encode the marker itself, not data: `control` says it all.
        "key": None if entry.control else bytes_json(entry.key),
        "value": None if entry.control else bytes_json(entry.value),
        "headers": [[key, bytes_json(value)] for key, value in entry.headers],
    }


def _outcomes(bootstrap: str, topic: str, entries: list[LogEntry], isolation: str) -> dict:
    """(partition, offset) -> how each shown transactional record's transaction ended."""
    from autograder.grading import kafka_io

    if isolation == "read_committed":
        # Below the last stable offset every transaction has ended, and the aborted ones are
        # not shown: what is left was committed (its marker may lie past the LSO).
        return {
            (e.partition, e.offset): "committed"
            for e in entries
            if e.transactional and e.control is None
        }
    outcomes = kafka_io.transaction_outcomes(entries)
    # A record whose marker lies past what --limit showed is not known to be open yet:
    # read the rest of its partition for the marker.
    later: list[LogEntry] = []
    for partition in sorted({p for (p, _), outcome in outcomes.items() if outcome == "open"}):
        last = max(e.offset for e in entries if e.partition == partition)
        later += kafka_io.read_log(bootstrap, topic, partition=partition, start=last + 1)
    if later:
        found = kafka_io.transaction_outcomes(entries + later)
        outcomes = {key: found[key] for key in outcomes}
    return outcomes


def dump(
    bootstrap: str,
    topic: str,
    partition: int | None = None,
    start: int = 0,
    limit: int | None = None,
    isolation: str = "read_uncommitted",
) -> tuple[dict[int, tuple[int, int]], list[LogEntry], dict[tuple[int, int], str]]:
    """What `topic dump` prints: partition -> (high watermark, last stable offset), the entries,
    and each shown transactional record's outcome. Raises TopicError."""
    from autograder.grading import kafka_io

    try:
        info = kafka_io.describe_topic(bootstrap, topic)
        if info is None:
            raise TopicError(
                f"no topic {topic!r} at {bootstrap}; check its name (each lesson's setup cell "
                "prints the topics it uses)"
            )
        if partition is not None and not 0 <= partition < info.partitions:
            raise TopicError(
                f"topic {topic!r} has partitions 0 to {info.partitions - 1}; "
                f"choose --partition among them"
            )
        high = kafka_io.end_offsets(bootstrap, topic)
        stable = kafka_io.end_offsets(bootstrap, topic, "read_committed")
        entries = kafka_io.read_log(bootstrap, topic, partition, start, limit, isolation)
        outcomes = _outcomes(bootstrap, topic, entries, isolation)
    except kafka_io.BrokerUnreachable:
        raise TopicError(
            f"no Kafka broker answers at {bootstrap}; start one with `kafka-course broker up` "
            "(or set KAFKA_BOOTSTRAP_SERVERS to your broker)"
        ) from None
    shown = sorted(high) if partition is None else [partition]
    return {p: (high[p], stable[p]) for p in shown}, entries, outcomes


def dump_text(
    topic: str,
    bounds: dict[int, tuple[int, int]],
    entries: list[LogEntry],
    outcomes: dict[tuple[int, int], str],
    isolation: str,
    start: int,
) -> str:
    lines = []
    for partition, (high, stable) in bounds.items():
        lines.append(
            f"Dumping {topic}-{partition} ({isolation}): high watermark {high}, "
            f"last stable offset {stable}"
        )
        mine = [e for e in entries if e.partition == partition]
        lines += [entry_line(e, outcomes.get((e.partition, e.offset))) for e in mine]
        if not mine:
            lines.append(f"no records from offset {start}")
    return "\n".join(lines)


def _dump(args: argparse.Namespace) -> int:
    from autograder.broker import bootstrap_servers

    try:
        bounds, entries, outcomes = dump(
            bootstrap_servers(), args.topic, args.partition, args.start, args.limit, args.isolation
        )
    except TopicError as error:
        print(f"kafka-course topic dump: {error}", file=sys.stderr)
        return 1
    if args.json:
        rows = [entry_json(e, outcomes.get((e.partition, e.offset))) for e in entries]
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        print(dump_text(args.topic, bounds, entries, outcomes, args.isolation, args.start))
    return 0


def _at_least(minimum: int):
    def parse(text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if number < minimum:
            raise argparse.ArgumentTypeError(f"must be {minimum} or more, not {number}")
        return number

    return parse


def add_topic_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register `topic dump` on a parser's subparsers."""
    topic = subparsers.add_parser(
        "topic",
        help="a topic's stored records, transaction markers included",
        description="Look at what a topic's log holds.",
        epilog=EXIT_CODES,
    )
    verbs = topic.add_subparsers(dest="topic_command", required=True, metavar="COMMAND")
    dump = verbs.add_parser(
        "dump",
        help="every record of a topic as stored, markers and aborted records included",
        description="Every record of a topic as the broker stores it, like Kafka's "
        "kafka-dump-log --print-data-log: transaction markers and aborted records included.",
        epilog=EXIT_CODES,
    )
    dump.add_argument("topic", metavar="TOPIC")
    dump.add_argument(
        "--partition", type=_at_least(0), metavar="N", help="only this partition (default: all)"
    )
    dump.add_argument(
        "--from",
        dest="start",
        type=_at_least(0),
        default=0,
        metavar="OFFSET",
        help="the first offset shown in each partition (0)",
    )
    dump.add_argument(
        "--limit", type=_at_least(1), metavar="N", help="at most N records from each partition"
    )
    dump.add_argument(
        "--isolation",
        choices=ISOLATIONS,
        default="read_uncommitted",
        help="read_committed: only what a read_committed consumer gets, up to the last stable "
        "offset (markers still shown); default read_uncommitted: everything stored",
    )
    dump.add_argument(
        "--json",
        action="store_true",
        help="a JSON list of {partition, offset, timestamp, transactional, producer_id, "
        "producer_epoch, control, transaction, key, value, headers}",
    )
    dump.set_defaults(handler=_dump)
