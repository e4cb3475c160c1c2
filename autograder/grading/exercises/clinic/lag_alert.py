"""Pitfall 5 · lag nobody watches: alert on every group whose total lag exceeds a threshold.

The check prepares four real groups on two topics, their commits made through the admin API and
derived from the attempt id:

* ``billing`` has read everything (committed = end offsets) and has no member running;
* ``search`` is alive, a real member of the check's holding both partitions of its topic
  during the call (see ``group_members``), and far behind: its lag is over the threshold in
  total, though under it on each partition;
* ``audit`` has no member and a small lag, under the threshold;
* ``mailer`` has no member and committed on two of its topic's three partitions only: the
  third, never committed, holds enough records to put it over the threshold.

The learner's ``lag_alerts(bootstrap, groups, max_lag)`` returns ``{group: total_lag}`` for the
groups whose total lag is above ``max_lag``. A group's total lag is the sum, over every
partition of every topic it has committed offsets on, of the end offset minus its committed
offset; a partition of such a topic without a commit counts its whole end offset (the broker
knows of nothing read there). The judge recomputes it from the broker after the call, and checks
that the function left every group's commits as they were.

Why the verdict can be trusted: the expected alerts come from committed and end offsets the
broker holds, and the live member's presence from the generations the group coordinator stored
(``kafka_io.group_history``) between two offsets the grader noted before and after the call
(the attempt's evidence); a rejudge reads both again.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from autograder.grading import kafka_io
from autograder.grading.exercises.base import Attempt, Exercise
from autograder.grading.exercises.group_members import CheckMember, wait_until
from autograder.grading.harness import Outcome, run_learner_function
from autograder.grading.result import CheckResult

MAX_LAG = 20
TOPICS = {"ledger": 3, "searches": 2}  # suffix -> partitions
GROUPS = {"billing": "ledger", "search": "searches", "audit": "ledger", "mailer": "ledger"}
LIVE = "search"  # the group with a member running during the call
LIVE_MEMBER = "check-member"
JOIN_WAIT_S = 10.0


def _plan(attempt: Attempt) -> tuple[dict[tuple[str, int], int], dict[str, dict]]:
    """(records per partition, {group suffix: {(topic, partition): committed}}) for the attempt."""
    rng = random.Random(f"lag-alert:{attempt.attempt_id}")
    counts = {
        (attempt.topic(suffix), p): rng.randint(22, 30)
        if suffix == "ledger"
        else rng.randint(16, 20)
        for suffix, partitions in TOPICS.items()
        for p in range(partitions)
    }
    ledger = [(attempt.topic("ledger"), p) for p in range(TOPICS["ledger"])]
    searches = [(attempt.topic("searches"), p) for p in range(TOPICS["searches"])]
    commits = {
        "billing": {tp: counts[tp] for tp in ledger},
        "search": {tp: rng.randint(1, 3) for tp in searches},  # 13-19 behind on each
        "audit": {tp: counts[tp] - rng.randint(0, 2) for tp in ledger},  # at most 6 in all
        "mailer": {tp: counts[tp] - rng.randint(1, 3) for tp in ledger[:2]},  # the third: none
    }
    return counts, commits


def _short(name: str) -> str:
    return name.rsplit("-", 1)[-1]


def _show(alerts: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{_short(g)}: {lag}" for g, lag in sorted(alerts.items())) + "}"


def _normalised(returned: Any) -> dict[str, int] | None:
    if not isinstance(returned, dict):
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in returned.values()):
        return None
    return {str(g): v for g, v in returned.items()}


class LagAlert(Exercise):
    id = "lag-alert"
    time_limit_s = 10.0

    def prepare(self, attempt: Attempt) -> dict:
        counts, commits = _plan(attempt)
        for suffix, partitions in TOPICS.items():
            topic = attempt.topic(suffix)
            kafka_io.create_topic(attempt.bootstrap, topic, partitions)
            kafka_io.append_to_partitions(
                attempt.bootstrap,
                topic,
                [
                    (p, None, b"%s event %d" % (suffix.encode(), n))
                    for p in range(partitions)
                    for n in range(counts[(topic, p)])
                ],
            )
        for suffix, offsets in commits.items():
            kafka_io.commit_offsets_for_group(attempt.bootstrap, attempt.group(suffix), offsets)
        return {
            "bootstrap": attempt.bootstrap,
            "groups": [attempt.group(suffix) for suffix in GROUPS],
            "max_lag": MAX_LAG,
            "live_topic": attempt.topic(GROUPS[LIVE]),
        }

    def run_learner(self, function: Callable[..., Any], kwargs: dict) -> Outcome:
        """The live group's member joins and holds its partitions while the function runs."""
        bootstrap = kwargs["bootstrap"]
        group = next(g for g in kwargs["groups"] if _short(g) == LIVE)
        topic = kwargs["live_topic"]
        call = {name: kwargs[name] for name in ("bootstrap", "groups", "max_lag")}
        since = kafka_io.group_log_end(bootstrap, group)
        member = CheckMember(bootstrap, group, [topic], LIVE_MEMBER)
        try:
            member.start()
            joined = wait_until(
                lambda: _holding(kafka_io.group_history(bootstrap, group, since)), JOIN_WAIT_S, 0.2
            )
            outcome = run_learner_function(function, call, self.time_limit_s)
            until = kafka_io.group_log_end(bootstrap, group)
        finally:
            member.close()
        return Outcome(
            outcome.returned,
            outcome.error,
            outcome.error_type,
            outcome.timed_out,
            outcome.notes,
            evidence={"since": since, "until": until, "joined": joined},
        )

    def unmet_condition(self, attempt: Attempt, outcome: Outcome) -> CheckResult | None:
        since, until = outcome.evidence.get("since"), outcome.evidence.get("until")
        if isinstance(since, int) and isinstance(until, int):
            history = kafka_io.group_history(attempt.bootstrap, attempt.group(LIVE), since, until)
            if _holding(history) and history[-1].member(LIVE_MEMBER):
                return None
        return self.failure(
            "the live group's member never held its partitions during your call",
            f"group {_short(attempt.group(LIVE))} with the check's member in it while your "
            "function ran",
            "no stored generation with the member holding partitions",
            "Did your function change the live group, for instance by joining it with a "
            "KafkaConsumer of the same group_id? Read the groups through KafkaAdminClient only.",
        )

    def verdict(self, attempt: Attempt, outcome: Outcome) -> CheckResult:
        _, planned = _plan(attempt)
        for suffix, offsets in planned.items():
            committed = kafka_io.committed_offsets(attempt.bootstrap, attempt.group(suffix))
            if committed != offsets:
                return self.failure(
                    "your function changed a group's committed offsets",
                    f"group {suffix} committed at {_offsets(offsets)}",
                    f"committed at {_offsets(committed)}",
                    "Did you open a KafkaConsumer with group_id set to a group you measure? "
                    "It commits its positions on close (enable_auto_commit is on by default). "
                    "Read committed offsets with KafkaAdminClient.list_group_offsets instead.",
                )
        lags = _lags(attempt)
        expected = {attempt.group(s): lag for s, lag in lags.items() if lag > MAX_LAG}
        found = _normalised(outcome.returned)
        if found is None:
            return self.failure(
                "the result has the wrong shape",
                "{group: total lag} for the groups over max_lag, e.g. " + _show(expected),
                repr(outcome.returned)[:120],
                "What should your function return? Return a dict from each lagging group's "
                "id to its total lag, an int.",
            )
        if found == expected:
            return self.success(
                f"alerted {_show(expected)} (max_lag {MAX_LAG}): the live group that falls "
                "behind and the one whose never-committed partition holds records; the caught-up "
                "and slightly behind groups left out"
            )
        every = _show({attempt.group(s): v for s, v in lags.items()})
        shown = (f"{_show(expected)} (every group's lag: {every})", _show(found))
        missing = {_short(g) for g in expected if g not in found}
        extra = {_short(g) for g in found if g not in expected}
        if LIVE in missing:
            hint = (
                "Does a group whose members are all there keep up? Its state says it is alive, "
                "not how far behind it is. Measure every group's lag, members or none, and "
                "alert on the lag."
            )
        elif "mailer" in missing:
            hint = (
                "What has a group read on a partition it never committed on? Nothing the broker "
                "knows of: list_group_offsets leaves that partition out, and its records count. "
                "List every partition of the group's topics and count a partition without a "
                "commit at its whole end offset."
            )
        elif "billing" in extra:
            hint = (
                "Is a group without members behind? Not when it has read everything: alert on "
                "lag, not on membership."
            )
        elif extra:
            hint = (
                f"Which groups are over the threshold? Only those whose total lag is above "
                f"max_lag ({MAX_LAG}): leave the others out."
            )
        elif missing:
            hint = (
                "Do you compare the total lag of each group, summed over all its partitions, "
                "with max_lag? Sum the lag of every partition before comparing."
            )
        else:
            hint = (
                "Which offsets did you subtract? A partition's lag is its end offset "
                "(OffsetSpec.LATEST) minus the group's committed offset; add them up per group."
            )
        return self.failure("the alerts do not match the groups' lag", *shown, hint)


def _offsets(offsets: dict[tuple[str, int], int]) -> str:
    return ", ".join(f"{_short(t)}/{p}={o}" for (t, p), o in sorted(offsets.items())) or "nothing"


def _lags(attempt: Attempt) -> dict[str, int]:
    """Every group's total lag, from the broker: over all partitions of the topics it committed
    on, end offset minus committed offset (the whole end offset where it never committed)."""
    lags = {}
    for suffix in GROUPS:
        committed = kafka_io.committed_offsets(attempt.bootstrap, attempt.group(suffix))
        total = 0
        for topic in sorted({t for t, _ in committed}):
            for p, end in kafka_io.end_offsets(attempt.bootstrap, topic).items():
                total += end - committed.get((topic, p), 0)
        lags[suffix] = total
    return lags


def _holding(history: list[kafka_io.GroupGeneration]) -> bool:
    """Whether a stored generation has the check's member holding partitions."""
    return any((m := g.member(LIVE_MEMBER)) is not None and bool(m.assignment) for g in history)


EXERCISES = (LagAlert(),)
