"""Lesson 06, offsets and seeking: replay a topic from a point in time, committing as you go."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone

from autograder.grading import kafka_io
from autograder.grading.exercises.base import Attempt, Exercise
from autograder.grading.harness import Outcome
from autograder.grading.result import CheckResult

PARTITIONS = 3
PER_PARTITION = 8
MINUTE_MS = 60_000
# Midnight UTC, 1 June 2024: the readings' day starts here (old on purpose: a fixed past that
# the topic keeps forever, retention.ms = -1).
DAY_START_MS = 1717200000000
KEEP_FOREVER = {"retention.ms": "-1"}


@dataclass(frozen=True)
class Replay:
    """An attempt's data: which readings each partition gets, stamped when, and the moment to
    replay from. Rebuilt from the attempt id alone."""

    since_ms: int
    quiet: int  # the partition with nothing at/after since_ms
    stamps: dict[int, list[int]]  # partition -> timestamps (ms), ascending

    @classmethod
    def for_attempt(cls, attempt_id: str) -> Replay:
        rng = random.Random(attempt_id)
        start = DAY_START_MS + rng.randint(7, 10) * 60 * MINUTE_MS  # between 07:00 and 10:00
        since_minute = rng.randint(50, 70)
        quiet = rng.randrange(PARTITIONS)
        stamps = {}
        for partition in range(PARTITIONS):
            if partition == quiet:
                minutes = sorted(rng.sample(range(0, since_minute), PER_PARTITION))
            else:
                before = sorted(rng.sample(range(0, since_minute), rng.randint(2, 5)))
                after = sorted(
                    rng.sample(
                        range(since_minute + 1, since_minute + 60), PER_PARTITION - len(before) - 1
                    )
                )
                minutes = before + [since_minute] + after  # one reading exactly at since_ms
            stamps[partition] = [start + m * MINUTE_MS for m in minutes]
        return cls(start + since_minute * MINUTE_MS, quiet, stamps)

    def records(self) -> list[tuple[int, bytes, int]]:
        """(partition, value, timestamp_ms) for every reading, in the order they are written."""
        return [
            (partition, f"p{partition}-reading-{n:02d}".encode(), stamp)
            for partition, stamps in self.stamps.items()
            for n, stamp in enumerate(stamps)
        ]


def clock(ms: int) -> str:
    """A timestamp in ms as a UTC time of day, for messages."""
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%H:%M UTC")


class ReplaySince(Exercise):
    id = "replay-since"
    error_hints = {
        "AttributeError": "offsets_for_times() answers None for a partition that holds nothing "
        "at or after the timestamp: did you read `.offset` on that None? Seek such a partition "
        "to its end offset instead.",
        "TypeError": "offsets_for_times() answers None for a partition that holds nothing at or "
        "after the timestamp: did you pass that None on to seek()? Seek such a partition to its "
        "end offset instead.",
    }

    def prepare(self, attempt: Attempt) -> dict:
        replay = Replay.for_attempt(attempt.attempt_id)
        kafka_io.create_topic(attempt.bootstrap, attempt.topic(), PARTITIONS, KEEP_FOREVER)
        kafka_io.append_stamped(attempt.bootstrap, attempt.topic(), replay.records())
        return {
            "bootstrap": attempt.bootstrap,
            "topic": attempt.topic(),
            "group": attempt.group(),
            "since_ms": replay.since_ms,
        }

    def verdict(self, attempt: Attempt, outcome: Outcome) -> CheckResult:
        since_ms = Replay.for_attempt(attempt.attempt_id).since_ms
        returned = outcome.returned
        if not isinstance(returned, list) or not all(isinstance(v, str) for v in returned):
            return self.failure(
                "the function did not return a list of strings",
                "['p0-reading-03', …]: the value of every record you processed",
                repr(returned)[:100],
                "What should your function return? Collect record.value.decode() for "
                "every record you process and return the list.",
            )
        if any(v.startswith(("b'", 'b"')) for v in returned):
            return self.failure(
                "the values are bytes, not text",
                "'p0-reading-03'",
                repr(returned[0])[:60],
                "A record's value arrives as bytes: how do you turn them into text? "
                "Append record.value.decode().",
            )
        stored = kafka_io.read_all(attempt.bootstrap, attempt.topic())
        by_value = {r.value.decode(): r for r in stored if r.value is not None}
        wanted = {value for value, r in by_value.items() if r.timestamp >= since_ms}
        got = Counter(returned)
        result = (
            self._unknown(got, by_value)
            or self._twice(got)
            or self._missing(got, wanted, since_ms)
            or self._too_early(got, wanted, by_value, stored, since_ms)
        )
        if result:
            return result
        return self._commits(attempt, since_ms, len(wanted))

    def _unknown(self, got: Counter, by_value: dict) -> CheckResult | None:
        strangers = sorted(v for v in got if v not in by_value)
        if strangers:
            return self.failure(
                "you returned values that are not in the topic",
                "only values of records in the topic",
                ", ".join(strangers[:3]),
                "Where do your values come from? Return record.value.decode() of the "
                "records you polled.",
            )
        return None

    def _twice(self, got: Counter) -> CheckResult | None:
        twice = sorted(v for v, n in got.items() if n > 1)
        if twice:
            return self.failure(
                "some records were processed more than once",
                "each record once",
                f"{len(twice)} twice or more: {', '.join(twice[:3])}",
                "Did you seek again after you had started, or poll a partition from "
                "two consumers? Seek each partition once before the loop.",
            )
        return None

    def _missing(self, got: Counter, wanted: set, since_ms: int) -> CheckResult | None:
        missing = sorted(wanted - set(got))
        if missing:
            return self.failure(
                f"{len(missing)} record(s) stamped at or after "
                f"{clock(since_ms)} were not processed",
                f"all {len(wanted)} records from {clock(since_ms)} on",
                f"{len(wanted) - len(missing)} of them; missing " + ", ".join(missing[:4]),
                "Did you stop polling too early, or skip the record stamped exactly at "
                "the timestamp? Poll (with a deadline) until every partition's "
                "position() reaches its end offset.",
            )
        return None

    def _too_early(
        self, got: Counter, wanted: set, by_value: dict, stored: list, since_ms: int
    ) -> CheckResult | None:
        early = sorted(v for v in got if v not in wanted)
        if not early:
            return None
        quiet = {
            p
            for p in {r.partition for r in stored}
            if not any(r.timestamp >= since_ms for r in stored if r.partition == p)
        }
        found = f"{len(got)} records, {len(early)} of them older: " + ", ".join(early[:3])
        expected = f"the {len(wanted)} records stamped at or after {clock(since_ms)}"
        if all(by_value[v].partition in quiet for v in early):
            return self.failure(
                "old records of a partition with nothing new were replayed",
                expected,
                found,
                f"offsets_for_times() answered None for partition "
                f"{', '.join(map(str, sorted(quiet)))}: nothing there is at or after "
                "the timestamp. Where does a consumer start on a partition you never "
                "seek? Seek it to its end offset.",
            )
        return self.failure(
            "records older than the timestamp were replayed",
            expected,
            found,
            "Where did each partition start? offsets_for_times({tp: since_ms}) gives "
            "the first offset at or after the timestamp in each partition: seek every "
            "partition there.",
        )

    def _commits(self, attempt: Attempt, since_ms: int, replayed: int) -> CheckResult:
        ends = kafka_io.end_offsets(attempt.bootstrap, attempt.topic())
        commits = {
            partition: offset
            for (topic, partition), offset in kafka_io.committed_offsets(
                attempt.bootstrap, attempt.group()
            ).items()
            if topic == attempt.topic()
        }
        wrong = {p: commits.get(p) for p, end in ends.items() if commits.get(p) != end}
        if not wrong:
            return self.success(
                f"{replayed} records replayed from {clock(since_ms)} on, and "
                "the group's committed offsets are at the end of every "
                "partition"
            )
        expected = "committed " + ", ".join(f"p{p}: {end}" for p, end in sorted(ends.items()))
        found = "committed " + ", ".join(f"p{p}: {commits.get(p, 'nothing')}" for p in sorted(ends))
        if all(offset == ends[p] - 1 for p, offset in wrong.items() if offset is not None) and any(
            offset is not None for offset in wrong.values()
        ):
            return self.failure(
                "the committed offsets are one short",
                expected,
                found,
                "Is a committed offset the last record you processed, or the next one "
                "to read? Commit OffsetAndMetadata(record.offset + 1, '', -1).",
            )
        if all(offset is None for offset in wrong.values()):
            partitions = ", ".join(map(str, sorted(wrong)))
            return self.failure(
                f"the group has no committed offset for partition {partitions}",
                expected,
                found,
                "A partition with nothing to replay still needs its place recorded, or "
                "the group would read its old records one day: did you commit every "
                "assigned partition? Seek it to its end and commit.",
            )
        return self.failure(
            "the committed offsets are not where the replay ended",
            expected,
            found,
            "When your function returns, where should this group resume? Commit each "
            "partition's position after processing (consumer.commit()).",
        )


EXERCISES = (ReplaySince(),)
