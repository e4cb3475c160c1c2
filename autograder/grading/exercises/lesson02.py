"""Lesson 02, keys and partitioning: predict murmur2 placement, route events by region."""

from __future__ import annotations

import json
import random
import zlib
from collections import defaultdict

from kafka.partitioner import murmur2

from autograder.grading import kafka_io
from autograder.grading.exercises import scans
from autograder.grading.exercises.base import Attempt, Exercise
from autograder.grading.harness import Outcome
from autograder.grading.result import CheckResult

SIGN_BIT = 0x80000000
POSITIVE_MASK = 0x7FFFFFFF
PARTITION_COUNTS = (5, 6, 7)  # none divides 2**31: a forgotten mask always shows
KEY_COUNT = 12


def _masked(key: str, partitions: int) -> int:
    return (murmur2(key.encode("utf-8")) & POSITIVE_MASK) % partitions


def _unmasked(key: str, partitions: int) -> int:
    return murmur2(key.encode("utf-8")) % partitions


def prediction_inputs(attempt_id: str) -> tuple[list[str], int]:
    """This attempt's keys and partition count, the same wherever they are rebuilt.

    The keys always include one whose hash has the sign bit set (so a forgotten mask gives a
    wrong answer) and one that crc32 places elsewhere.
    """
    rng = random.Random(f"{attempt_id}-predict")
    partitions = rng.choice(PARTITION_COUNTS)
    while True:
        keys = [
            f"{rng.choice(('cust', 'user', 'device', 'store'))}-{rng.randint(100, 9999)}"
            for _ in range(KEY_COUNT)
        ]
        if len(set(keys)) < KEY_COUNT:
            continue
        sign_bit = any(murmur2(k.encode()) & SIGN_BIT for k in keys)
        crc_differs = any(
            zlib.crc32(k.encode()) % partitions != _masked(k, partitions) for k in keys
        )
        if sign_bit and crc_differs:
            return keys, partitions


class PredictPartitions(Exercise):
    id = "predict-partitions"

    def prepare(self, attempt: Attempt) -> dict:
        keys, partitions = prediction_inputs(attempt.attempt_id)
        kafka_io.create_topic(attempt.bootstrap, attempt.topic(), partitions)
        # The broker is the referee: the keys go through kafka-python's own default partitioner.
        kafka_io.append_keyed(
            attempt.bootstrap,
            attempt.topic(),
            [(key, b"where does this key land?") for key in keys],
        )
        return {"keys": list(keys), "num_partitions": partitions}

    def verdict(self, attempt: Attempt, outcome: Outcome) -> CheckResult:
        keys, partitions = prediction_inputs(attempt.attempt_id)
        on_broker = {
            r.key_text: r.partition for r in kafka_io.read_all(attempt.bootstrap, attempt.topic())
        }
        if set(on_broker) != set(keys):
            return self.failure(
                "the check's own records are not all on the broker",
                f"one record for each of the {len(keys)} keys",
                f"{len(on_broker)} of them",
                "Was the broker busy or restarting while the check ran? Wait a moment.",
            )
        predicted = outcome.returned
        if not isinstance(predicted, dict):
            return self.failure(
                "the function did not return a dict",
                "{key: partition} for every key",
                repr(predicted)[:100],
                "What should the function give back? Return a dict mapping each key "
                "to its partition number.",
            )
        missing = [k for k in keys if k not in predicted]
        if missing:
            return self.failure(
                f"{len(missing)} key(s) have no prediction",
                f"a partition for each of the {len(keys)} keys",
                f"no entry for {', '.join(missing[:4])}",
                "Did you loop over every key you were given? Put each one in the dict.",
            )
        wrong = [k for k in keys if predicted[k] != on_broker.get(k)]
        if not wrong:
            return self.success(
                f"all {len(keys)} predictions match the partitions the broker "
                f"holds the keys in ({partitions} partitions)"
            )
        shown = ", ".join(f"{k} → {on_broker.get(k)}" for k in wrong[:3])
        found = ", ".join(f"{k} → {predicted[k]!r}" for k in wrong[:3])
        if all(predicted[k] == _unmasked(k, partitions) for k in keys):
            hint = (
                "murmur2 in kafka-python returns an unsigned 32-bit number; what does the "
                "producer do to its top bit before the modulo? Apply `& 0x7fffffff` to the "
                "hash before taking `% num_partitions`."
            )
        else:
            hint = (
                "Which hash does the producer use, and over which bytes? Take "
                "`murmur2(key.encode('utf-8')) & 0x7fffffff`, then `% num_partitions`."
            )
        return self.failure(
            f"{len(wrong)} of {len(keys)} predictions differ from the broker",
            f"(where the broker stored them) {shown}",
            f"(your prediction) {found}",
            hint,
        )


REGION_PARTITIONS = {"us": 0, "eu": 1}
OTHER_REGIONS_PARTITION = 2
REGION_TOPIC_PARTITIONS = 3
_USERS = ("ada", "bo", "cyd", "dee", "eli", "fox", "gus", "hal")


def region_partition(region: str) -> int:
    return REGION_PARTITIONS.get(region, OTHER_REGIONS_PARTITION)


def make_events(attempt_id: str, count: int = 12) -> list[dict]:
    """Events from several regions, every partition's share present, "us" the busiest."""
    rng = random.Random(f"{attempt_id}-regions")
    regions = ["us", "us", "us", "eu", "eu", "apac", "latam"]
    regions += rng.choices(("us", "eu", "apac", "latam", "mea"), k=count - len(regions))
    rng.shuffle(regions)
    return [
        {"event_id": f"e-{attempt_id}-{n:02d}", "user": rng.choice(_USERS), "region": region}
        for n, region in enumerate(regions)
    ]


class RegionRouting(Exercise):
    id = "region-partitioner"
    error_hints = {
        "KeyError": "A partitioner runs inside send(), so its errors surface there: does yours "
        'know every region? Send "us" to 0, "eu" to 1 and any other region to 2.'
    }

    def prepare(self, attempt: Attempt) -> dict:
        kafka_io.create_topic(attempt.bootstrap, attempt.topic(), REGION_TOPIC_PARTITIONS)
        return {
            "bootstrap": attempt.bootstrap,
            "topic": attempt.topic(),
            "events": make_events(attempt.attempt_id),
        }

    def verdict(self, attempt: Attempt, outcome: Outcome) -> CheckResult:
        events = make_events(attempt.attempt_id)
        stored = kafka_io.read_all(attempt.bootstrap, attempt.topic())
        content = self._content(scans.match_expected(stored, events, "event_id"))
        if content:
            return content
        by_id = {e["event_id"]: e for e in events}
        misplaced: dict[str, set[int]] = defaultdict(set)
        for record in stored:
            event = by_id[record.value_json()["event_id"]]
            if record.key_text != event["user"]:
                return self.failure(
                    "a record has the wrong key",
                    f"key {event['user']!r} (the event's user)",
                    f"key {record.key_text!r}",
                    "What keeps one user's events together and in order, and what "
                    "routes them by region? Key each event by event['user'], let "
                    "partitioner=RegionPartitioner() pick the partition.",
                )
            if record.partition != region_partition(event["region"]):
                misplaced[event["region"]].add(record.partition)
        if misplaced:
            expected = ", ".join(f"{r} → {region_partition(r)}" for r in sorted(misplaced))
            found = ", ".join(f"{r} → {sorted(p)}" for r, p in sorted(misplaced.items()))
            return self.failure(
                "some regions landed in the wrong partition",
                expected,
                found,
                "Where does your partitioner find the region: in the key (the user) "
                "or in the value? Read value['region'], return 0 for \"us\", 1 for "
                '"eu" and 2 otherwise, and pass partitioner=RegionPartitioner() to '
                "the producer.",
            )
        counts: dict[int, int] = defaultdict(int)
        for record in stored:
            counts[record.partition] += 1
        return self.success(
            f"{len(stored)} events routed by region, keyed by user; records "
            f"per partition: {dict(sorted(counts.items()))}"
        )

    def _content(self, match: scans.Match) -> CheckResult | None:
        """A failure unless the topic holds every event exactly once, as JSON."""
        events, stored = match.expected, match.stored
        if match.fewer:
            return self.failure(
                f"{match.fewer} event(s) are not on the broker",
                f"{len(events)} records",
                f"{len(stored)} records",
                "What makes the producer send what it buffers before your function "
                "returns? Call producer.flush() (or close()) before returning.",
            )
        if match.more:
            return self.failure(
                "the topic holds more records than there are events",
                f"{len(events)} records",
                f"{len(stored)} records",
                "Did you send some events twice? Send each event exactly once.",
            )
        if match.not_json is not None:
            value = match.not_json.value
            return self.failure(
                "a value is not JSON",
                "values like " + json.dumps(events[0]),
                repr(value[:60] if value else value),
                "What turns a dict into JSON bytes? Give the producer "
                "value_serializer=JsonValueSerializer().",
            )
        if match.strangers:
            return self.failure(
                "a value is not one of the events",
                "each event dict as given",
                json.dumps(match.strangers[0])[:80],
                "Did you change the event before sending? Send the dict you were "
                "given, serialized to JSON.",
            )
        return None


EXERCISES = (PredictPartitions(), RegionRouting())
