"""Lesson 11, pitfall 3: a slow stream handled one record at a time.

The learner's ``enrich_all(bootstrap, topic, group, output_topic, lookup)`` reads a topic of 48
records under ``group`` and writes, for each one, the value ``lookup(record)`` returns to
``output_topic``, committing what it has finished. ``lookup`` is the grader's stand-in for a
remote call: it sleeps ``LOOKUP_S`` and returns the enriched value (bytes). One record after
the other, the 48 calls alone take 7.2 s, beyond the check's time limit; a poll's lookups run
side by side in a pool take a fraction of a second.

What the judge reads:

* from ``lookup`` itself (in the grader's process, into ``Outcome.evidence``): how many calls
  ran at the same moment at most, how many calls there were, and how many of them came from the
  thread that called ``enrich_all`` (a loop calling ``lookup`` in turn) rather than from worker
  threads (a pool whose every result is waited for before the next submit). Not a stopwatch:
  overlapping calls either happened or they did not, however loaded the machine is;
* from the broker: the output topic must hold each input's enriched value exactly once, and the
  group's committed offsets must be at the input's end offsets, both when the function returned
  (the grader reads them then, into the evidence) and when the verdict is given.

A rejudge reads the output topic and the committed offsets again; only what ``lookup`` saw is
taken from the claim, and a forged claim still needs the records and commits behind it.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from autograder.grading import kafka_io
from autograder.grading.exercises.base import Attempt, Exercise
from autograder.grading.harness import Outcome, run_learner_function
from autograder.grading.result import CheckResult

PARTITIONS = 2
RECORDS = 48
LOOKUP_S = 0.15  # 48 in turn: 7.2 s, more than the time limit
MIN_CONCURRENT = 4  # lookups at the same moment a repair must reach at least once

ONE_AT_A_TIME_HINT = (
    "Is each lookup waited for before the next one starts? Your loop calls lookup(record) "
    "itself, one record after the other, so 48 calls of 150 ms take 7.2 s. Submit a poll's "
    "records to a ThreadPoolExecutor(max_workers=16), wait(futures) for all of them, and "
    "only then send the results and commit."
)
WAITED_EACH_HINT = (
    "Does `pool.submit(...).result()` in the loop run anything side by side? It waits for each "
    "lookup before submitting the next, so the pool works on one call at a time. Submit every "
    "record of the poll first, keep the futures, then wait(futures) once and produce the "
    "results."
)
TOO_FEW_WORKERS_HINT = (
    "How many lookups can your pool run at once? Give the ThreadPoolExecutor more workers "
    "(max_workers=16) and submit a whole poll's records before waiting for them."
)


def enriched(value: bytes) -> bytes:
    """What the lookup returns for an input value: the value with the price found for it."""
    order = json.loads(value)
    return json.dumps({**order, "price": 100 + 7 * order["n"]}).encode()


def _inputs(attempt: Attempt) -> list[tuple[int, str | None, bytes]]:
    return [
        (
            n % PARTITIONS,
            f"order-{n:02d}",
            json.dumps({"order": f"{attempt.attempt_id}-{n:02d}", "n": n}).encode(),
        )
        for n in range(RECORDS)
    ]


class _Lookup:
    """The grader's slow `lookup(record)`: counts calls, and how many overlap."""

    def __init__(self, topic: str):
        self.topic = topic
        self.caller: int | None = None  # the thread that called the learner's function
        self._lock = threading.Lock()
        self.active = self.most_at_once = self.calls = self.from_caller = 0

    def __call__(self, record: Any) -> bytes:
        if getattr(record, "topic", None) != self.topic or not isinstance(
            getattr(record, "value", None), bytes
        ):
            raise TypeError("lookup() takes one record polled from the topic you were given")
        with self._lock:
            self.calls += 1
            self.from_caller += threading.get_ident() == self.caller
            self.active += 1
            self.most_at_once = max(self.most_at_once, self.active)
        try:
            time.sleep(LOOKUP_S)
            return enriched(record.value)
        finally:
            with self._lock:
                self.active -= 1

    def seen(self) -> dict[str, int]:
        with self._lock:
            return {
                "most at once": self.most_at_once,
                "calls": self.calls,
                "from your function's own thread": self.from_caller,
            }


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 0


def _show(offsets: dict[int, int]) -> str:
    return "{" + ", ".join(f"{p}: {o}" for p, o in sorted(offsets.items())) + "}"


class ParallelSlowStream(Exercise):
    id = "parallel-slow-stream"
    time_limit_s = 6.0  # the lookups alone take 7.2 s in turn, 0.5 s side by side (16 workers)

    def prepare(self, attempt: Attempt) -> dict:
        kafka_io.create_topic(attempt.bootstrap, attempt.topic(), PARTITIONS)
        kafka_io.create_topic(attempt.bootstrap, attempt.topic("enriched"), 1)
        kafka_io.append_to_partitions(attempt.bootstrap, attempt.topic(), _inputs(attempt))
        return {
            "bootstrap": attempt.bootstrap,
            "topic": attempt.topic(),
            "group": attempt.group(),
            "output_topic": attempt.topic("enriched"),
        }

    def run_learner(self, function: Callable[..., Any], kwargs: dict) -> Outcome:
        """The function with the grader's lookup; what the lookup saw, and the committed
        offsets when the function ended, go into the evidence."""
        lookup = _Lookup(kwargs["topic"])

        def call(**arguments: Any) -> Any:
            lookup.caller = threading.get_ident()
            return function(**arguments)

        outcome = run_learner_function(call, {**kwargs, "lookup": lookup}, self.time_limit_s)
        committed = kafka_io.committed_offsets(kwargs["bootstrap"], kwargs["group"])
        evidence = {
            "lookup": lookup.seen(),
            "committed on return": {
                str(p): o for (t, p), o in committed.items() if t == kwargs["topic"]
            },
        }
        return Outcome(
            outcome.returned,
            outcome.error,
            outcome.error_type,
            outcome.timed_out,
            outcome.notes,
            evidence,
        )

    def _serial(self, outcome: Outcome) -> CheckResult | None:
        """The failure for lookups that never overlapped, else None."""
        seen = outcome.evidence.get("lookup") or {}
        calls, most = _int(seen.get("calls")), _int(seen.get("most at once"))
        if calls == 0 or most >= MIN_CONCURRENT:
            return None
        own = _int(seen.get("from your function's own thread"))
        ran = (
            f"{calls} lookups in {self.time_limit_s:.0f} s"
            if outcome.timed_out
            else f"{calls} lookups"
        )
        if most <= 1:
            hint = ONE_AT_A_TIME_HINT if own else WAITED_EACH_HINT
            where = "called by your loop itself" if own else "in a pool, each waited for"
            return self.failure(
                "your lookups ran one at a time: the stream cannot keep up",
                f"at least {MIN_CONCURRENT} lookups running at the same moment "
                f"({RECORDS} in turn take {RECORDS * LOOKUP_S:.1f} s)",
                f"{ran}, never two at once ({where})",
                hint,
            )
        return self.failure(
            f"at most {most} lookups ran at once",
            f"at least {MIN_CONCURRENT} lookups running at the same moment",
            f"{ran}, at most {most} at once",
            TOO_FEW_WORKERS_HINT,
        )

    def judge(self, attempt: Attempt, outcome: Outcome) -> CheckResult:
        """A function that ran out of time with its lookups in turn is told so, not only that it
        was late: that is the pitfall."""
        if outcome.timed_out:
            return self._serial(outcome) or super().judge(attempt, outcome)
        return super().judge(attempt, outcome)

    def verdict(self, attempt: Attempt, outcome: Outcome) -> CheckResult:
        serial = self._serial(outcome)
        if serial:
            return serial
        wanted: Counter[bytes | None] = Counter(enriched(v) for _, _, v in _inputs(attempt))
        found: Counter[bytes | None] = Counter(
            record.value
            for record in kafka_io.read_all(attempt.bootstrap, attempt.topic("enriched"))
        )
        missing = sum((wanted - found).values())
        if missing:
            return self.failure(
                f"{missing} of {RECORDS} enriched records are not in the output topic",
                f"{RECORDS} records in the output topic, one per input",
                f"{sum(found.values())} records there, {missing} inputs without theirs",
                "Did every lookup's result reach the broker before you returned? Send each "
                "one with producer.send(output_topic, value=...), then producer.flush() "
                "before committing.",
            )
        extra = found - wanted
        if extra:
            return self.failure(
                "the output topic holds records that are not one enriched value per input",
                f"{RECORDS} records, each input's enriched value once",
                f"{sum(found.values())} records, {sum(extra.values())} of them extra",
                "Did you send some results twice, or send something other than lookup's "
                "return value? Send exactly what lookup(record) returned, once per record.",
            )
        ends = kafka_io.end_offsets(attempt.bootstrap, attempt.topic())
        committed = {
            p: o
            for (t, p), o in kafka_io.committed_offsets(attempt.bootstrap, attempt.group()).items()
            if t == attempt.topic()
        }
        on_return = {
            int(p): o
            for p, o in (outcome.evidence.get("committed on return") or {}).items()
            if str(p).isdigit()
        }
        for offsets, when in ((on_return, "when your function returned"), (committed, "now")):
            if offsets != ends:
                return self.failure(
                    "the group's committed offsets do not reach the end",
                    f"committed = end offsets {_show(ends)} before the function returns",
                    f"committed {_show(offsets)} {when}",
                    "Did you commit after producing each poll's results? Call "
                    "consumer.commit() once producer.flush() returned, before closing.",
                )
        seen = outcome.evidence.get("lookup") or {}
        return self.success(
            f"all {RECORDS} records enriched once each and committed, with up to "
            f"{_int(seen.get('most at once'))} lookups at the same moment"
        )


EXERCISES = (ParallelSlowStream(),)
