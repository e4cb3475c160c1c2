"""Lesson 09's demonstrations: consumer-group rebalancing seen happening, with real members in
forked processes that join, close, crash and are removed, and the broker's own view of it.

Every function starts its own members and stops every one of them before it returns.
"""

from __future__ import annotations

from autograder.demos.lesson09.assignors import (
    co_partitioned,
    compare,
    print_broker_agreement,
    print_co_partitioned,
    print_comparison,
    timeline,
)
from autograder.demos.lesson09.kip848 import broker_view, refusals, set_group_timeouts
from autograder.demos.lesson09.kip848 import scenario as consumer_protocol_scenario
from autograder.demos.lesson09.listener import compare as listener_compare
from autograder.demos.lesson09.listener import fill, print_table
from autograder.demos.lesson09.playground import play_script, playground
from autograder.demos.lesson09.shutdown import compare as shutdown_compare
from autograder.demos.lesson09.static import compare as restart_compare
from autograder.demos.lesson09.timeouts import crash_table, slow_table
from autograder.demos.lesson09.triggers import (
    join_close_crash,
    partitions_added,
    pattern_picks_up,
    slow_handler,
)

__all__ = [
    "broker_view",
    "co_partitioned",
    "compare",
    "consumer_protocol_scenario",
    "crash_table",
    "fill",
    "join_close_crash",
    "listener_compare",
    "partitions_added",
    "pattern_picks_up",
    "play_script",
    "playground",
    "print_broker_agreement",
    "print_co_partitioned",
    "print_comparison",
    "print_table",
    "refusals",
    "restart_compare",
    "set_group_timeouts",
    "shutdown_compare",
    "slow_handler",
    "slow_table",
    "timeline",
]
