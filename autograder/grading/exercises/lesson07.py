"""Lesson 07, delivery semantics: a consumer that survives real crashes without losing or
duplicating a record.

The learner's ``store_orders(consumer, sink)`` runs three times in a forked child process (see
``autograder.grading.crash_runner``): killed while storing, killed between the sink's commit and the
offsets' commit, then once to the end. The judge reads two things the grader finds on its own:
the SQLite sink at a path it derives from the attempt, and the group's committed offsets on the
broker.

Why a file the learner's code wrote can be judged: the file *is* the work asked for, the way a
topic is in lesson 01. The grader picks its path, opens it read-only itself, and checks every
row against the orders it rebuilds from the attempt id; the offsets come from the broker. A
notebook that redefines the check never runs the attempt, so there is no claim, no file and no
commit to find. What the grader cannot see again later is that the crashes happened: the crash
runner's record of each run is the attempt's evidence (``Outcome.evidence``, kept in the claim),
and a claim without the rows and the offsets behind it earns nothing.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable
from contextlib import closing
from functools import partial
from pathlib import Path
from typing import Any

from autograder.grading import kafka_io
from autograder.grading.crash_runner import ChildResult, run_forked
from autograder.grading.exercises.base import Attempt, Exercise
from autograder.grading.exercises.crash_sink import (
    TABLE,
    CrashBeforeOffsetCommit,
    CrashPlan,
    CrashWhileStoring,
    open_consumer,
    open_sink,
)
from autograder.grading.exercises.orders import make_orders
from autograder.grading.harness import Outcome
from autograder.grading.paths import state_dir
from autograder.grading.result import CheckResult

ORDERS_PARTITIONS = 3
ORDERS = 12
CRASH_AFTER_ROWS = 3
MAX_NOTES = 12
EMPTY_POLL_HINT = (
    "An empty poll does not mean the end (poll() without timeout_ms returns at once: "
    "kafka-python's default is 0). Poll until every assigned partition's position has "
    "reached its end offset, with a deadline, storing every order."
)


def sink_path(attempt: Attempt) -> Path:
    """Where this attempt's SQLite sink lives: chosen by the grader, found again by rejudge."""
    return state_dir() / "sinks" / f"{attempt.topic()}.db"


def _one_run(function: Callable[..., Any], kwargs: dict, crash: str) -> Any:
    """In the child: make the consumer and the sink, arm the crash, call the learner."""
    path = Path(kwargs["sink_path"])
    plans = {
        "while storing": CrashWhileStoring(CRASH_AFTER_ROWS),
        "before offset commit": CrashBeforeOffsetCommit(path),
        "none": CrashPlan(),
    }
    consumer = open_consumer(kwargs["bootstrap"], kwargs["topic"], kwargs["group"])
    sink = open_sink(path)
    consumer.sink = sink
    sink.watch(plans[crash])
    try:
        return function(consumer=consumer, sink=sink)
    finally:
        sink.watch(CrashPlan())
        consumer.close(autocommit=False)
        sink.close()  # a transaction left open is rolled back, as a dying process's would be


def _ended(result: ChildResult) -> str:
    if result.crashed:
        return "crashed"
    if result.timed_out:
        return "timed out"
    return "raised" if result.error else "returned"


class CrashSafeSink(Exercise):
    id = "crash-safe-sink"
    time_limit_s = 15.0  # for each of the three runs
    crashes = ("while storing", "before offset commit", "none")
    error_hints = {
        "IntegrityError": "The restart was handed records your sink already held, and the "
        "unique key refused them loudly. How can an INSERT skip a row whose key exists? Use "
        "INSERT OR IGNORE (or ON CONFLICT DO NOTHING)."
    }

    def orders(self, attempt: Attempt) -> list[dict]:
        return make_orders(attempt.attempt_id, ORDERS)

    def prepare(self, attempt: Attempt) -> dict:
        kafka_io.create_topic(attempt.bootstrap, attempt.topic(), ORDERS_PARTITIONS)
        for order in self.orders(attempt):
            kafka_io.append_json(attempt.bootstrap, attempt.topic(), order["customer"], order)
        path = sink_path(attempt)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        return {
            "bootstrap": attempt.bootstrap,
            "topic": attempt.topic(),
            "group": attempt.group(),
            "sink_path": str(path),
        }

    def run_learner(self, function: Callable[..., Any], kwargs: dict) -> Outcome:
        """Three runs in a forked child: two killed at the injected moments, one to the end."""
        runs, notes = [], []
        error = error_type = None
        timed_out = False
        for number, crash in enumerate(self.crashes, start=1):
            result = run_forked(partial(_one_run, function, kwargs, crash), self.time_limit_s)
            runs.append({"run": number, "crash planned": crash, "ended": _ended(result)})
            notes += [
                f"run {number}: {line}"
                for line in result.output.splitlines()
                if line.strip() and "blocking the event loop" not in line
            ]
            if result.timed_out or result.error:
                error, error_type, timed_out = result.error, result.error_type, result.timed_out
                break
        return Outcome(
            error=error,
            error_type=error_type,
            timed_out=timed_out,
            notes=tuple(notes[:MAX_NOTES]),
            evidence={"runs": runs},
        )

    def unmet_condition(self, attempt: Attempt, outcome: Outcome) -> CheckResult | None:
        if _crashes(outcome):
            return None
        return self.failure(
            "your function was never caught by the injected crash",
            "a run killed while it stores orders",
            "every run returned on its own",
            "The crash comes when the sink commits rows: did your function store "
            "and commit anything before it returned, or did it stop at an empty poll? "
            + EMPTY_POLL_HINT,
        )

    def verdict(self, attempt: Attempt, outcome: Outcome) -> CheckResult:
        crashes = _crashes(outcome)
        orders = self.orders(attempt)
        rows, problem = _read_sink(sink_path(attempt))
        if problem:
            return self.failure(
                "the sink has no readable orders table",
                f"a table `{TABLE}` with columns order_id, customer, amount",
                problem,
                "Did your function create the table before inserting? Run "
                f"`CREATE TABLE IF NOT EXISTS {TABLE} (...)` first.",
            )
        counts = Counter(row[0] for row in rows)
        lost = [o["order_id"] for o in orders if counts[o["order_id"]] == 0]
        ends = kafka_io.end_offsets(attempt.bootstrap, attempt.topic())
        committed = kafka_io.committed_offsets(attempt.bootstrap, attempt.group())
        behind = {
            p: committed.get((attempt.topic(), p))
            for p, end in ends.items()
            if committed.get((attempt.topic(), p)) != end
        }
        if lost and behind:  # neither stored nor committed: the last run stopped too early
            return self.failure(
                f"your function returned before reading everything: {len(lost)} of "
                f"{len(orders)} orders never reached the sink",
                f"every order stored and committed = end offsets {dict(sorted(ends.items()))}",
                f"committed {dict(sorted(behind.items()))}",
                "Did your loop stop at an empty poll? " + EMPTY_POLL_HINT,
            )
        if lost:
            return self.failure(
                f"{len(lost)} of {len(orders)} orders were lost in the crashes",
                "every order in the sink",
                f"missing: {', '.join(lost[:4])}" + (" …" if len(lost) > 4 else ""),
                "A crash came after the offsets were committed but before the sink "
                "committed the orders: which must be durable first? Commit the sink, "
                "then the consumer's offsets.",
            )
        twice = sorted(order_id for order_id, n in counts.items() if n > 1)
        if twice:
            return self.failure(
                f"{len(twice)} orders are stored more than once",
                "each order exactly once",
                f"{twice[0]} {counts[twice[0]]} times, and {len(twice) - 1} more",
                "The restart is handed again every record whose offset was not "
                "committed: how can the sink refuse a second copy? Give order_id a "
                "PRIMARY KEY (or UNIQUE) and insert with INSERT OR IGNORE.",
            )
        wanted = {o["order_id"]: (o["customer"], o["amount"]) for o in orders}
        wrong = [row for row in rows if wanted.get(row[0]) != (row[1], row[2])]
        if wrong:
            order_id = wrong[0][0]
            return self.failure(
                "a row does not match its order",
                f"{order_id}: {wanted.get(order_id, 'no such order')}",
                f"{order_id}: {tuple(wrong[0][1:])}",
                "Did you store each order's own customer and amount? Take them from record.value.",
            )
        if behind:
            return self.failure(
                "the group's committed offsets do not reach the end",
                f"committed = end offsets {dict(sorted(ends.items()))}",
                f"committed {dict(sorted(behind.items()))}",
                "A restart starts from the committed offsets: did you commit after "
                "storing each batch? Call consumer.commit() once the sink committed.",
            )
        return self.success(
            f"all {len(orders)} orders stored exactly once and every offset "
            f"committed, through {crashes} real crash"
            f"{'es' if crashes > 1 else ''}"
        )


def _crashes(outcome: Outcome) -> int:
    """How many runs the crash runner saw killed, from the attempt's evidence."""
    runs = outcome.evidence.get("runs") or []
    return sum(1 for run in runs if isinstance(run, dict) and run.get("ended") == "crashed")


def _read_sink(path: Path) -> tuple[list[tuple], str | None]:
    """(rows, None), or ([], what went wrong). Opened read-only: the judge changes nothing."""
    if not path.exists():
        return [], "no sink file: your function never ran"
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as reader:
            rows = reader.execute(f"SELECT order_id, customer, amount FROM {TABLE}").fetchall()
        return rows, None
    except sqlite3.Error as error:
        return [], f"{type(error).__name__}: {error}"


EXERCISES = (CrashSafeSink(),)
