"""Lesson 08's demonstrations: what lag counts, where an uncommitted group starts, remedies.

Every consumer a function here starts is closed before it returns, whatever happens, so no
group is left with a member that would slow the next run down.
"""

from __future__ import annotations

from autograder.demos.lesson08.chart import LiveLagChart
from autograder.demos.lesson08.cli import kafka_course
from autograder.demos.lesson08.race import RaceResult, lag_race
from autograder.demos.lesson08.small import (
    crowd,
    fill,
    grow_partitions,
    member_of,
    offsets_for_transactional_records,
    poll_sizes,
    read_and_commit,
    read_without_commit,
    skipped_in_new_partitions,
    starting_positions,
    try_shrink,
)

__all__ = [
    "LiveLagChart",
    "RaceResult",
    "crowd",
    "fill",
    "grow_partitions",
    "kafka_course",
    "lag_race",
    "member_of",
    "offsets_for_transactional_records",
    "poll_sizes",
    "read_and_commit",
    "read_without_commit",
    "skipped_in_new_partitions",
    "starting_positions",
    "try_shrink",
]
