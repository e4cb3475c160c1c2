"""Lesson 08, consumer lag: compute a group's lag per partition from the broker.

The check prepares two topics with records in every partition and a group that committed
offsets on some partitions and never on others, all derived from the attempt id. The learner's
``group_lag(bootstrap, group)`` returns ``{topic: {partition: lag}}``; the judge compares it with
the end offsets and committed offsets the broker holds, and also makes sure the function left the
group's commits as they were (measuring lag must not move what it measures).
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from autograder.grading import kafka_io
from autograder.grading.exercises.base import Attempt, Exercise
from autograder.grading.harness import Outcome
from autograder.grading.result import CheckResult

TOPICS = (("orders", 3), ("payments", 2))  # suffix, partitions


def _plan(attempt: Attempt) -> tuple[dict[tuple[str, int], int], dict[tuple[str, int], int]]:
    """(records per partition, committed offset per partition) for this attempt.

    One partition of the first topic is never committed; every other partition is.
    """
    rng = random.Random(f"group-lag:{attempt.attempt_id}")
    counts: dict[tuple[str, int], int] = {}
    commits: dict[tuple[str, int], int] = {}
    for index, (suffix, partitions) in enumerate(TOPICS):
        topic = attempt.topic(suffix)
        never = rng.randrange(partitions) if index == 0 else None
        for partition in range(partitions):
            counts[(topic, partition)] = rng.randint(4, 12)
            if partition != never:
                commits[(topic, partition)] = rng.randint(0, counts[(topic, partition)])
    return counts, commits


def _show(lags: Mapping[str, Mapping[int, object]]) -> str:
    return "; ".join(
        f"{topic.rsplit('-', 1)[-1]} {dict(sorted(parts.items()))}"
        for topic, parts in sorted(lags.items())
    )


def _normalised(returned) -> dict[str, dict[int, object]] | None:
    """``{topic: {partition: lag}}`` with int partitions (JSON made them strings); None when the
    value has another shape."""
    if not isinstance(returned, dict):
        return None
    result: dict[str, dict[int, object]] = {}
    for topic, parts in returned.items():
        if not isinstance(parts, dict):
            return None
        try:
            result[str(topic)] = {int(p): lag for p, lag in parts.items()}
        except (TypeError, ValueError):
            return None
    return result


class GroupLag(Exercise):
    id = "group-lag"

    def prepare(self, attempt: Attempt) -> dict:
        counts, commits = _plan(attempt)
        for suffix, partitions in TOPICS:
            topic = attempt.topic(suffix)
            kafka_io.create_topic(attempt.bootstrap, topic, partitions)
            kafka_io.append_to_partitions(
                attempt.bootstrap,
                topic,
                [
                    (p, None, b"event %d" % n)
                    for p in range(partitions)
                    for n in range(counts[(topic, p)])
                ],
            )
        kafka_io.commit_offsets_for_group(attempt.bootstrap, attempt.group(), commits)
        return {"bootstrap": attempt.bootstrap, "group": attempt.group()}

    def _expected(
        self, attempt: Attempt, committed: dict[tuple[str, int], int]
    ) -> dict[str, dict[int, int | None]]:
        """What the broker holds: each partition's end offset minus ``committed``."""
        expected: dict[str, dict[int, int | None]] = {}
        for suffix, _ in TOPICS:
            topic = attempt.topic(suffix)
            ends = kafka_io.end_offsets(attempt.bootstrap, topic)
            expected[topic] = {
                p: (None if (topic, p) not in committed else end - committed[(topic, p)])
                for p, end in sorted(ends.items())
            }
        return expected

    def verdict(self, attempt: Attempt, outcome: Outcome) -> CheckResult:
        _, planned = _plan(attempt)
        committed = kafka_io.committed_offsets(attempt.bootstrap, attempt.group())
        if committed != planned:
            moved = sorted(set(committed.items()) ^ set(planned.items()))
            topic, partition = moved[0][0]
            return self.failure(
                "your function changed the group's committed offsets",
                f"{topic.rsplit('-', 1)[-1]}/{partition} committed at "
                f"{planned.get((topic, partition), 'nothing (never committed)')}",
                f"committed at {committed.get((topic, partition), 'nothing')}",
                "Did you open a KafkaConsumer with group_id=group? Closing it commits "
                "its positions (enable_auto_commit is on by default), so measuring lag "
                "moved it. Read both offsets with KafkaAdminClient instead "
                "(list_group_offsets, list_partition_offsets).",
            )
        expected = self._expected(attempt, committed)
        found = _normalised(outcome.returned)
        example = _show(expected).split(";")[0]
        if found is None:
            return self.failure(
                "the result has the wrong shape",
                "{topic: {partition: lag}}, e.g. " + example,
                repr(outcome.returned)[:120],
                "What should your function return? Return a dict with one entry per "
                "topic, each a dict from partition number to lag.",
            )
        if set(found) != set(expected):
            return self.failure(
                "the result does not cover the group's topics",
                f"the topics {sorted(t.rsplit('-', 1)[-1] for t in expected)} (every "
                "topic the group committed on)",
                f"{len(found)} topic(s): {sorted(found)}"[:160],
                "Which topics has the group committed offsets on? Take them from "
                "list_group_offsets(group).",
            )
        never = {(t, p) for t, parts in expected.items() for p, lag in parts.items() if lag is None}
        missing = {(t, p) for t, parts in expected.items() for p in parts if p not in found[t]}
        if missing:
            hint = (
                "Does list_group_offsets return a partition the group never committed? It "
                "does not: list every partition of the topic (describe_topics) and give the "
                "ones without a commit the lag None."
                if missing <= never
                else "Did you list every partition of each topic? Add the missing ones."
            )
            return self.failure(
                f"{len(missing)} partition(s) are missing from your result",
                _show(expected),
                _show({t: dict(parts) for t, parts in found.items()}),
                hint,
            )
        extra = sorted((t, p) for t, parts in found.items() for p in parts if p not in expected[t])
        if extra:
            return self.failure(
                "your result has partitions the topics do not have",
                _show(expected),
                _show({t: dict(parts) for t, parts in found.items()}),
                "Where do the partition numbers come from? Take them from the "
                "topic's description (describe_topics).",
            )
        if found == expected:
            return self.success(
                f"the lag of all {sum(map(len, expected.values()))} "
                "partitions, the never-committed one as None"
            )
        wrong = sorted(
            (t, p) for t, parts in expected.items() for p in parts if found[t][p] != parts[p]
        )
        committed_wrong = [(t, p) for t, p in wrong if expected[t][p] is not None]
        off_by_one = committed_wrong and all(
            isinstance(found[t][p], int) and found[t][p] == (expected[t][p] or 0) - 1
            for t, p in committed_wrong
        )
        if off_by_one:
            hint = (
                "Is the end offset the offset of the last record, or of the next one to be "
                "written? It is the next one, like the committed offset: lag is end minus "
                "committed, with no -1. Fix that."
            )
        elif all(expected[t][p] is None for t, p in wrong):
            hint = (
                "What has a group that never committed on a partition read there? Nothing "
                "you can know: where it starts depends on auto.offset.reset, not on the "
                "broker. Give such a partition the lag None."
            )
        else:
            hint = (
                "Which offset did you subtract? Lag is the end offset (OffsetSpec.LATEST) "
                "minus the group's committed offset (list_group_offsets); compare the two "
                "for one partition by hand."
            )
        return self.failure(
            f"the lag of {len(wrong)} partition(s) is wrong",
            _show(expected),
            _show({t: dict(parts) for t, parts in found.items()}),
            hint,
        )


EXERCISES = (GroupLag(),)
