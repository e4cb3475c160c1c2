"""Lesson 09, consumer-group rebalancing: judged from what the group coordinator stored.

Every check here forms real groups on the broker with the check's own members (real kafka-python
consumers in threads of the grader's process, see ``group_members``) and reads the verdict from
the history the coordinator keeps of each classic group: one GroupMetadata record in
``__consumer_offsets`` per generation, with each member and the partitions the leader gave it
(``kafka_io.group_history``). That history is written by the broker alone, so a rejudge in the
grader's own process reads the same thing, and a notebook that redefines the check finds
nothing to forge.

* ``rebalance-safe-consumer``: the learner's consumer processes a stream through the grader's
  ``process`` (each call written to an audit topic by the grader's producer, see
  ``stream_audit``) while the check's members join and leave; judged from the audit topic, the
  committed offsets and the stored generations that show the members really came and went.
* ``predict-assignment``: the learner predicts what the range and round-robin assignors give
  three members on two topics; the check forms both groups and compares with what the broker
  stored.
* ``restart-without-rebalance``: the learner's settings make a member the check closes and
  starts again; the stored history must show one generation throughout, the member's partitions
  unchanged under its new member id (a kafka-python static member's close() sends no
  LeaveGroup).
* ``slow-handler-kept``: the learner's settings for a slow worker the check runs; the stored
  history must show it in one generation, with the poll interval it told the broker within the
  limit, and the group's committed offset at the end.

What the grader cannot find again on the broker later (the window of the history an attempt
covers, which steps the check took) is the attempt's evidence; a forged claim still needs the
stored generations, audit records and commits behind it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from kafka import KafkaConsumer
from kafka.coordinator.assignors.range import RangePartitionAssignor
from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor

from autograder.grading import kafka_io
from autograder.grading.exercises import assignor_rules
from autograder.grading.exercises.base import Attempt, Exercise
from autograder.grading.exercises.group_members import (
    CheckMember,
    close_all,
    close_in_time,
    wait_until,
)
from autograder.grading.exercises.stream_audit import LEARNER, Audit, Membership, prepare_stream
from autograder.grading.harness import Outcome, run_learner_function
from autograder.grading.result import CheckResult

GROUP_FORMS_S = 15.0  # generous: under load a rebalance of three fresh members takes seconds


def _short(topic: str) -> str:
    return topic.rsplit("-", 1)[-1]


def _show(assignment: Mapping[str, Mapping[str, Any]]) -> str:
    return "; ".join(
        f"{member}: "
        + (", ".join(f"{_short(t)} {list(ps)}" for t, ps in sorted(topics.items())) or "nothing")
        for member, topics in sorted(assignment.items())
    )


def stored_assignment(
    history: list[kafka_io.GroupGeneration], members: list[str], partitions: int
) -> tuple[int, assignor_rules.Assignment] | None:
    """(generation, assignment) of the group's last stored generation that has every one of
    ``members`` in it and hands out all ``partitions``; None when the history has none."""
    for generation in reversed(history):
        found = {name: generation.member(name) for name in members}
        handed = sum(len(ps) for m in generation.members for ps in m.assignment.values())
        if all(found.values()) and handed == partitions:
            return generation.generation, {
                name: dict(member.assignment) for name, member in found.items() if member
            }
    return None


def _history(
    attempt: Attempt, group: str, outcome: Outcome, case: str | None = None
) -> list[kafka_io.GroupGeneration]:
    """The group's stored generations from where the attempt's evidence says its history
    starts (the whole partition when it says nothing). A later start cannot forge anything: it
    can only leave generations out, and every verdict needs the ones the check made."""
    found: Any = outcome.evidence
    if case is not None:
        formed = found.get("formed")
        found = formed.get(case) if isinstance(formed, dict) else None
    since = found.get("since") if isinstance(found, dict) else None
    return kafka_io.group_history(
        attempt.bootstrap, group, since if isinstance(since, int) and since >= 0 else 0
    )


# ----- predict-assignment -------------------------------------------------------------------

PREDICT_TOPICS = (("clicks", 4), ("views", 3))  # (suffix, partitions)
# Members are given out of name order on purpose: the assignors sort them, whatever the order
# they joined in. Round-robin's members all read both topics: kafka-python 3.0.12's round-robin
# leader raises KeyError when a member skips a topic (its skip loop takes the wrong key), and the
# group then never gets an assignment.
PREDICT_CASES = (
    ("range", (("ben", ("clicks", "views")), ("cleo", ("clicks",)), ("ana", ("clicks", "views")))),
    (
        "roundrobin",
        (("cleo", ("clicks", "views")), ("ana", ("clicks", "views")), ("ben", ("clicks", "views"))),
    ),
)
PREDICT_ASSIGNORS = {"range": RangePartitionAssignor, "roundrobin": RoundRobinPartitionAssignor}

_RULE_HINTS = {
    "range": "Range works one topic at a time: for each topic it takes the members subscribed "
    "to it, sorted by member id, and cuts the topic's partitions into consecutive runs, the "
    "first members getting one partition more when the count does not divide evenly.",
    "roundrobin": "Round-robin sorts every partition of every topic by (topic, partition) and "
    "deals them one at a time around the members sorted by member id, passing over a member "
    "that does not subscribe to the partition's topic.",
}


def _mistake_hint(mistake: str, assignor: str) -> str:
    if mistake == "members in the order given":
        return (
            "In which order does the assignor take the members: the order they joined, or "
            "sorted? It sorts them by member id, which starts with the client id (here the "
            "member's name): sort the names first."
        )
    if mistake == "dealt topic by topic":
        return (
            "Does round-robin start again at the first member for each topic? It deals every "
            "partition of every topic in one circle, sorted by (topic, partition): keep one "
            "turn counter across topics."
        )
    if mistake == "one range over every partition":
        return (
            "Does range lay all the topics' partitions out in one row? It works topic by "
            "topic, among the members subscribed to that topic: split each topic on its own."
        )
    return (
        f"Which assignor did you apply? The case asked for {assignor}, and your answer is "
        f"what {mistake.removeprefix('the ').removesuffix(' rule')} gives. "
        f"{_RULE_HINTS[assignor]} Branch on `assignor`."
    )


class PredictAssignment(Exercise):
    id = "predict-assignment"
    time_limit_s = 10.0  # for each prediction: the function only computes

    def cases(self, attempt: Attempt) -> list[dict]:
        topics = {attempt.topic(suffix): count for suffix, count in PREDICT_TOPICS}
        return [
            {
                "assignor": assignor,
                "members": {
                    name: [attempt.topic(suffix) for suffix in subscribed]
                    for name, subscribed in members
                },
                "partitions": topics,
                "group": attempt.group(assignor),
            }
            for assignor, members in PREDICT_CASES
        ]

    def prepare(self, attempt: Attempt) -> dict:
        for suffix, count in PREDICT_TOPICS:
            kafka_io.create_topic(attempt.bootstrap, attempt.topic(suffix), count)
        return {"bootstrap": attempt.bootstrap, "cases": self.cases(attempt)}

    def run_learner(self, function: Callable[..., Any], kwargs: dict) -> Outcome:
        """Each prediction first (bounded), then both groups formed on the broker."""
        answers: dict[str, Any] = {}
        notes: list[str] = []
        for case in kwargs["cases"]:
            outcome = run_learner_function(
                function,
                {
                    "assignor": case["assignor"],
                    "members": {m: list(ts) for m, ts in case["members"].items()},
                    "partitions": dict(case["partitions"]),
                },
                self.time_limit_s,
            )
            notes += outcome.notes
            if outcome.error or outcome.timed_out:
                return outcome
            answers[case["assignor"]] = outcome.returned
        formed = _form_groups(kwargs["bootstrap"], kwargs["cases"])
        return Outcome(returned=answers, notes=tuple(notes), evidence={"formed": formed})

    def unmet_condition(self, attempt: Attempt, outcome: Outcome) -> CheckResult | None:
        for case in self.cases(attempt):
            history = _history(attempt, case["group"], outcome, case["assignor"])
            if stored_assignment(history, list(case["members"]), _count(case)) is None:
                return self.failure(
                    f"the check's {case['assignor']} group never formed on the broker",
                    "a stored generation with the members ana, ben and cleo",
                    f"{len(history)} stored generation(s), none with all three",
                    "Is the broker busy with other work? Stop the other notebooks' kernels.",
                )
        return None

    def verdict(self, attempt: Attempt, outcome: Outcome) -> CheckResult:
        answers = outcome.returned if isinstance(outcome.returned, dict) else {}
        for case in self.cases(attempt):
            assignor, members = case["assignor"], case["members"]
            history = _history(attempt, case["group"], outcome, assignor)
            stored = stored_assignment(history, list(members), _count(case))
            assert stored is not None  # unmet_condition saw to it
            generation, truth = stored
            found = assignor_rules.normalised(answers.get(assignor), members)
            if found is None:
                return self.failure(
                    "the result has the wrong shape",
                    "{member: {topic: [partition, ...]}}, e.g. " + _show(truth).split(";")[0],
                    repr(answers.get(assignor))[:120],
                    "What should your function return? Return a dict from each member's name to "
                    "a dict from topic to the list of partitions that member gets.",
                )
            if found == truth:
                continue
            for mistake, predicted in assignor_rules.mistakes(
                assignor, members, case["partitions"]
            ).items():
                if found == predicted:
                    hint = _mistake_hint(mistake, assignor)
                    break
            else:
                unsubscribed = [
                    (m, _short(t))
                    for m, ts in found.items()
                    for t in ts
                    if t not in members.get(m, ())
                ]
                hint = (
                    f"Can a member get a partition of a topic it does not subscribe to? "
                    f"{unsubscribed[0][0]} does not read {unsubscribed[0][1]}: pass over such a "
                    "member."
                    if unsubscribed
                    else f"Which rule does {assignor} follow? {_RULE_HINTS[assignor]} Work the "
                    "case through by hand."
                )
            return self.failure(
                f"your {assignor} prediction differs from what the group's leader assigned",
                f"generation {generation} on the broker: {_show(truth)}",
                _show(found),
                hint,
            )
        return self.success(
            "both predictions match what the broker stored for the real groups "
            "(range and round-robin, three members, two topics)"
        )


def _count(case: dict) -> int:
    return sum(case["partitions"].values())


def _form_groups(bootstrap: str, cases: list[dict]) -> dict[str, dict]:
    """Start every case's members at once, wait until the coordinator stored a generation with
    all of each group's members, then close them; what was seen, by assignor, for the evidence
    (with where each group's history starts, so the verdict reads from there on). One thread
    watches every group: the grader's clients are used by one caller at a time."""
    since = {c["assignor"]: kafka_io.group_log_end(bootstrap, c["group"]) for c in cases}
    members = {
        c["assignor"]: [
            CheckMember(
                bootstrap, c["group"], topics, name, assignors=[PREDICT_ASSIGNORS[c["assignor"]]]
            )
            for name, topics in c["members"].items()
        ]
        for c in cases
    }
    formed = dict.fromkeys(since, False)
    try:
        for group in members.values():
            for member in group:
                member.start()
        stop_at = time.monotonic() + GROUP_FORMS_S
        while not all(formed.values()) and time.monotonic() < stop_at:
            for c in cases:
                if not formed[c["assignor"]]:
                    history = kafka_io.group_history(bootstrap, c["group"], since[c["assignor"]])
                    stored = stored_assignment(history, list(c["members"]), _count(c))
                    formed[c["assignor"]] = stored is not None
            time.sleep(0.3)
    finally:
        close_all([m for group in members.values() for m in group])
    return {
        assignor: {
            "since": since[assignor],
            "formed": formed[assignor],
            "errors": [m.error for m in members[assignor] if m.error],
        }
        for assignor in since
    }


# ----- restart-without-rebalance ------------------------------------------------------------

RESTART_PARTITIONS = 6
RESTART_PAUSE_S = 2.0  # how long the member is gone: the time a redeploy takes
REJOIN_WAIT_S = 5.0  # how long the restarted member has to get its partitions back
SETTLE_S = 1.5  # then how long the check watches for a rebalance the restart set off
# Dynamic on purpose: kafka-python 3.0.12's range assignor groups static and dynamic members
# with an unsorted itertools.groupby, so a static member listed between two dynamic ones makes it
# drop one of them (which then gets nothing). The learner's member, the one static member when
# the answer is right, is never the one dropped.
CHECK_NAMES = ("check-member-1", "check-member-2")


def _learner_members(generation: kafka_io.GroupGeneration) -> list[kafka_io.GroupMember]:
    return [m for m in generation.members if m.client_id not in CHECK_NAMES]


def _partitions_of(member: kafka_io.GroupMember) -> str:
    return ", ".join(f"{_short(t)} {list(ps)}" for t, ps in sorted(member.assignment.items()))


class RestartWithoutRebalance(Exercise):
    id = "restart-without-rebalance"
    time_limit_s = 10.0  # for each call of the function; the check's own waits come on top
    error_hints = {
        "KafkaConfigurationError": "Which setting did kafka-python refuse? The error names it; "
        "heartbeat_interval_ms must stay below session_timeout_ms. Fix that setting.",
        "TypeError": "Does KafkaConsumer know every key you returned? Return only "
        "KafkaConsumer keyword settings (bootstrap_servers, group_id, ...).",
    }

    def prepare(self, attempt: Attempt) -> dict:
        kafka_io.create_topic(attempt.bootstrap, attempt.topic(), RESTART_PARTITIONS)
        return {"bootstrap": attempt.bootstrap, "topic": attempt.topic(), "group": attempt.group()}

    def run_learner(self, function: Callable[..., Any], kwargs: dict) -> Outcome:
        """The check's two members join; the learner's member joins, is closed, and after
        RESTART_PAUSE_S starts again from a second call of the function."""
        bootstrap, topic, group = kwargs["bootstrap"], kwargs["topic"], kwargs["group"]
        arguments = {"bootstrap": bootstrap, "group": group, "name": "orders-worker"}
        since = kafka_io.group_log_end(bootstrap, group)
        others = [CheckMember(bootstrap, group, [topic], name) for name in CHECK_NAMES]
        configs: list[dict] = []
        notes: list[str] = []
        evidence: dict[str, Any] = {"since": since, "restarted": False}
        learner: CheckMember | None = None
        try:
            for member in others:
                member.start()
            for start in ("first start", "restart"):
                outcome = run_learner_function(function, arguments, self.time_limit_s)
                notes += outcome.notes
                if outcome.error or outcome.timed_out:
                    return outcome
                if not isinstance(outcome.returned, dict):
                    return Outcome(returned=outcome.returned, notes=tuple(notes), evidence=evidence)
                configs.append(outcome.returned)
                learner = CheckMember.from_config(outcome.returned, [topic], start).start()
                if learner.error:
                    return Outcome(
                        error=learner.error,
                        error_type=learner.error.split(":")[0],
                        notes=tuple(notes),
                    )
                if start == "first start":
                    evidence["joined"] = wait_until(
                        lambda: _joined_with_partitions(bootstrap, group, since, 3),
                        GROUP_FORMS_S,
                        every_s=0.2,
                    )
                    # Only a settled group is stopped: right after a join, kafka-python's leader
                    # may still ask for one more round (a generation with nothing changed).
                    _settle(bootstrap, group, since)
                    evidence["stopped_at"] = kafka_io.group_log_end(bootstrap, group)
                    learner.close()  # the check stops the member as a redeploy would
                    learner = None
                    time.sleep(RESTART_PAUSE_S)
                    evidence["restarted"] = True
                else:
                    wait_until(
                        lambda: _rejoined(bootstrap, group, since), REJOIN_WAIT_S, every_s=0.2
                    )
                    time.sleep(SETTLE_S)
            evidence["until"] = kafka_io.group_log_end(bootstrap, group)
        finally:
            close_all([m for m in [learner, *others] if m is not None])
        return Outcome(returned=configs, notes=tuple(notes), evidence=evidence)

    def unmet_condition(self, attempt: Attempt, outcome: Outcome) -> CheckResult | None:
        if outcome.evidence.get("restarted"):
            return None
        return self.failure(
            "the check never got to restart your member",
            "your function returns a dict of KafkaConsumer settings, twice",
            repr(outcome.returned)[:120],
            "What should your function return? Return a dict the check can pass to "
            "KafkaConsumer(**settings), with bootstrap_servers and group_id set.",
        )

    def verdict(self, attempt: Attempt, outcome: Outcome) -> CheckResult:
        evidence = outcome.evidence
        since = evidence["since"] if isinstance(evidence.get("since"), int) else 0
        until = evidence["until"] if isinstance(evidence.get("until"), int) else None
        stopped = evidence["stopped_at"] if isinstance(evidence.get("stopped_at"), int) else 0
        history = kafka_io.group_history(attempt.bootstrap, attempt.group(), since, until)
        configs = outcome.returned if isinstance(outcome.returned, list) else []
        before = [g for g in history if g.offset < stopped and _learner_members(g)]
        if not before:
            return self.failure(
                "your member never joined the check's group",
                f"a member of group {attempt.group()} beside the check's two",
                f"{len(history)} stored generation(s) without it",
                "Which group did your member join? Set group_id to the `group` argument and "
                "bootstrap_servers to `bootstrap`.",
            )
        last = before[-1]
        [member] = _learner_members(last)[:1]
        after = [g for g in history if g.offset >= stopped]
        back = next(
            (m for g in after for m in _learner_members(g) if m.member_id != member.member_id),
            None,
        )
        gone = any(not _learner_members(g) for g in after)
        strangers = any(
            m.group_instance_id != member.group_instance_id
            for g in after
            for m in _learner_members(g)
        )
        if back is None or gone or strangers:
            return self._rebalanced(last, member, after, configs)
        moved = [m for g in after for m in _learner_members(g) if m.assignment != member.assignment]
        if moved:
            return self.failure(
                "your member came back with other partitions",
                _partitions_of(member),
                _partitions_of(moved[0]),
                "Did the restarted member rejoin exactly as the first one had (the same "
                "group_instance_id, subscription and assignor)? Build the same settings "
                "every time.",
            )
        generations = sorted({g.generation for g in after} - {last.generation})
        # A round the check's own leader started, with nobody gone and nothing moved, is not
        # the restart's doing: the verdict says so rather than blame the learner.
        aside = (
            f" (the check's own leader started generation {generations[-1]} meanwhile, with "
            "nothing moved)"
            if generations
            else ""
        )
        return self.success(
            f"restarted in {RESTART_PAUSE_S:.0f} s with no rebalance: generation "
            f"{last.generation}, your member never left it and got {_partitions_of(member)} "
            f"back under its new member id{aside}"
        )

    def _rebalanced(self, last, member, after, configs) -> CheckResult:
        """The failure for a restart that cost a rebalance (or never finished), with the hint
        for the setting behind it."""
        generations = sorted({g.generation for g in after} - {last.generation})
        found = (
            f"generation {last.generation}, then {', '.join(map(str, generations))}"
            + (
                ", with your member out of the group in between"
                if any(not _learner_members(g) for g in after)
                else ""
            )
            if generations
            else f"generation {last.generation}, and your restarted member still waiting to "
            f"rejoin {REJOIN_WAIT_S:.0f} s later"
        )
        instances = [c.get("group_instance_id") if isinstance(c, dict) else None for c in configs]
        first = configs[0] if configs and isinstance(configs[0], dict) else {}
        session = first.get("session_timeout_ms")
        if not any(instances):
            hint = (
                "What does a dynamic member do when it closes? It sends LeaveGroup, and the group "
                "rebalances at once, then again when it comes back. Give the member a "
                "group_instance_id: a static member leaves no gap on close()."
            )
        elif len(set(instances)) > 1:
            hint = (
                "Is the restarted member the same static member as before? A new "
                "group_instance_id is a new member: the group rebalances for it, and again when "
                "the old one's session runs out. Derive group_instance_id from `name` alone, "
                "the same on every start."
            )
        elif isinstance(session, int) and session <= RESTART_PAUSE_S * 1000:
            hint = (
                f"How long does the broker keep a silent static member? session_timeout_ms "
                f"({session} ms) ran out during the {RESTART_PAUSE_S:.0f} s the member was gone, "
                "so the group moved on without it. Choose a session timeout longer than a "
                "restart takes."
            )
        else:
            hint = (
                "How long does the broker keep a silent static member? Until its "
                "session_timeout_ms runs out. Keep the same group_instance_id and choose a "
                f"session timeout well above the {RESTART_PAUSE_S:.0f} s restart."
            )
        return self.failure(
            "restarting your member cost a rebalance",
            f"generation {last.generation} throughout, your member back on "
            f"{_partitions_of(member)}",
            found,
            hint,
        )


def _settle(bootstrap: str, group: str, since: int, quiet_s: float = 1.0) -> None:
    """Wait (at most GROUP_FORMS_S) until the group stored nothing new for ``quiet_s``."""
    stop_at = time.monotonic() + GROUP_FORMS_S
    seen, quiet_since = -1, time.monotonic()
    while time.monotonic() < stop_at:
        end = kafka_io.group_log_end(bootstrap, group)
        history = kafka_io.group_history(bootstrap, group, since, end)
        latest = history[-1].offset if history else -1
        if latest != seen:
            seen, quiet_since = latest, time.monotonic()
        elif time.monotonic() - quiet_since >= quiet_s:
            return
        time.sleep(0.2)


def _joined_with_partitions(bootstrap: str, group: str, since: int, members: int) -> bool:
    return any(
        len(g.members) == members and _learner_members(g) and _learner_members(g)[0].assignment
        for g in kafka_io.group_history(bootstrap, group, since)
    )


def _rejoined(bootstrap: str, group: str, since: int) -> bool:
    """Whether a second member id of the learner's holds partitions in the stored history."""
    ids = {
        m.member_id
        for g in kafka_io.group_history(bootstrap, group, since)
        for m in _learner_members(g)
        if m.assignment
    }
    return len(ids) >= 2


# ----- rebalance-safe-consumer --------------------------------------------------------------

SAFE_PARTITIONS = 2  # with three members, the last by member id (yours) is left with none
SAFE_RECORDS = 40  # per partition: enough work left on each when the group moves
LEARNER_CLIENT_ID = "your-consumer"  # sorts after "check-member-…": range gives it the last share
STEPS = ("check-member-1 joined", "check-member-2 joined", "check-member-1 left")


def learner_consumer(bootstrap: str, topic: str, group: str) -> KafkaConsumer:
    """The consumer the check hands in: in the group, nothing committed for it, small polls."""
    return KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        client_id=LEARNER_CLIENT_ID,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=3,
        session_timeout_ms=3000,
        heartbeat_interval_ms=300,
        max_poll_interval_ms=10_000,
    )


def _audit(attempt: Attempt) -> list[tuple[str, int, int]]:
    """(who, partition, offset) for every processing call, from the audit topic."""
    found = []
    for record in kafka_io.read_all(attempt.bootstrap, attempt.topic("audit")):
        try:
            value = record.value_json()
            found.append((record.key_text or "", int(value["partition"]), int(value["offset"])))
        except (ValueError, KeyError, TypeError):
            continue
    return found


def _seen_on_broker(history: list[kafka_io.GroupGeneration]) -> list[str]:
    """The membership steps the group's stored generations show, in order."""
    shown, step = [], 0
    wanted = (
        lambda g: g.member("check-member-1") and g.member(LEARNER_CLIENT_ID),
        lambda g: g.member("check-member-2") and g.member("check-member-1"),
        lambda g: g.member("check-member-2") and not g.member("check-member-1"),
    )
    for generation in history:
        if step < len(wanted) and wanted[step](generation):
            shown.append(STEPS[step])
            step += 1
    return shown


class RebalanceSafeConsumer(Exercise):
    id = "rebalance-safe-consumer"
    time_limit_s = 30.0
    error_hints = {
        "KafkaError": "Did the error say the rebalance callback threw? In kafka-python 3 the "
        "listener's callbacks run on the consumer's IO loop, where a blocking "
        "consumer.commit() raises. Subclass AsyncConsumerRebalanceListener, write `async def "
        "on_partitions_revoked`, and `await consumer.commit_async(offsets)` in it.",
        "RuntimeError": "Did you call a blocking consumer method inside a rebalance callback? "
        "kafka-python 3 runs them on the consumer's IO loop: subclass "
        "AsyncConsumerRebalanceListener and `await consumer.commit_async(offsets)` instead.",
    }

    def prepare(self, attempt: Attempt) -> dict:
        return prepare_stream(attempt, SAFE_PARTITIONS, SAFE_RECORDS)

    def run_learner(self, function: Callable[..., Any], kwargs: dict) -> Outcome:
        """The learner's function consumes with the check's consumer while the check's members
        join and leave; every record processed goes through the grader's audit."""
        bootstrap, topic = kwargs["bootstrap"], kwargs["topic"]
        audit = Audit(bootstrap, topic, kwargs["audit"])
        since = kafka_io.group_log_end(bootstrap, kwargs["group"])
        consumer = learner_consumer(bootstrap, topic, kwargs["group"])
        membership = Membership(
            bootstrap, kwargs["group"], topic, audit, SAFE_PARTITIONS * SAFE_RECORDS
        ).start()
        try:
            outcome = run_learner_function(
                function,
                {
                    "consumer": consumer,
                    "topic": topic,
                    "process": audit.process,
                    "stop": membership.stop.is_set,
                },
                self.time_limit_s,
            )
        finally:
            # The learner's consumer first: while it is still a member, the group cannot
            # finish the rebalance the check's members' leaving starts.
            membership.stop.set()
            close_in_time(consumer, autocommit=False)
            membership.finish()
            audit.close()  # every call on the audit topic before the verdict reads it
        return Outcome(
            outcome.returned,
            outcome.error,
            outcome.error_type,
            outcome.timed_out,
            outcome.notes,
            evidence={"steps": list(membership.steps), "since": since},
        )

    def unmet_condition(self, attempt: Attempt, outcome: Outcome) -> CheckResult | None:
        steps = outcome.evidence.get("steps") or []
        shown = _seen_on_broker(_history(attempt, attempt.group(), outcome))
        if all(step in steps for step in STEPS) and shown == list(STEPS):
            return None
        mine = sum(1 for who, _, _ in _audit(attempt) if who == LEARNER)
        return self.failure(
            "the group never changed under your consumer",
            "the check's members joining and leaving while your consumer works: "
            + ", then ".join(STEPS),
            f"your consumer processed {mine} record(s); the broker stored: "
            + (", then ".join(shown) or "no generation with the check's members"),
            "Did your function keep polling, and call process(record) for each record, until "
            "stop() returned True? Loop on `while not stop():` around a bounded "
            "consumer.poll(timeout_ms=...).",
        )

    def verdict(self, attempt: Attempt, outcome: Outcome) -> CheckResult:
        calls = _audit(attempt)
        ends = kafka_io.end_offsets(attempt.bootstrap, attempt.topic())
        wanted = {(p, o) for p, end in ends.items() for o in range(end)}
        counts = Counter((p, o) for _, p, o in calls)
        lost = sorted(wanted - set(counts))
        if lost:
            return self.failure(
                f"{len(lost)} of {len(wanted)} records were never processed",
                "every record processed once",
                "never processed: " + ", ".join(f"partition {p} offset {o}" for p, o in lost[:4]),
                "Did you commit offsets past records you had not processed? Commit only the "
                "offset after the last record you handed to process().",
            )
        twice = sorted(key for key, n in counts.items() if n > 1)
        committed = kafka_io.committed_offsets(attempt.bootstrap, attempt.group())
        mine = {(t, p): o for (t, p), o in committed.items() if t == attempt.topic()}
        if twice:
            isolated = all(
                counts[(p, o)] == 2 and (p, o - 1) not in twice and (p, o + 1) not in twice
                for p, o in twice
            )
            if isolated:
                hint = (
                    "Which offset does a commit name: the last record processed, or the next one "
                    "to read? The next one: commit record.offset + 1, in on_partitions_revoked "
                    "and at the end."
                )
            else:
                hint = (
                    "When partitions move, the new owner starts from the group's committed "
                    "offset: did your consumer commit what it had processed before it gave them "
                    "up? Commit in on_partitions_revoked, which runs before they leave "
                    "(on_partitions_assigned runs after, too late)."
                )
            p, o = twice[0]
            who = sorted({w for w, cp, co in calls if (cp, co) == (p, o)})
            return self.failure(
                f"{len(twice)} record{'s were' if len(twice) > 1 else ' was'} processed more "
                "than once",
                "each record processed once, across every member",
                f"partition {p} offset {o} {counts[(p, o)]} times (by {', '.join(who)}), "
                f"and {len(twice) - 1} more",
                hint,
            )
        behind = {
            p: mine.get((attempt.topic(), p))
            for p, end in ends.items()
            if mine.get((attempt.topic(), p)) != end
        }
        if behind:
            off_by_one = all(isinstance(o, int) and o == ends[p] - 1 for p, o in behind.items())
            return self.failure(
                "the group's committed offsets do not reach the end",
                f"committed = end offsets {dict(sorted(ends.items()))}",
                f"committed {dict(sorted(behind.items()))}",
                "Which offset does a commit name? The next record to read: record.offset + 1. "
                "Commit that before returning."
                if off_by_one
                else "Did your consumer commit what it processed before returning? Commit the "
                "offset after the last record processed of each partition it still owns.",
            )
        return self.success(
            f"all {len(wanted)} records processed exactly once and committed while the check's "
            "members joined and left: " + ", then ".join(STEPS)
        )


# ----- slow-handler-kept --------------------------------------------------------------------

SLOW_HANDLE_MS = 250  # what the check's handler takes per record
SLOW_POLL_LIMIT_MS = 1500  # the most max_poll_interval_ms may be: a stuck worker is seen fast
SLOW_RECORDS = 12
SLOW_DONE_S = 7.0  # the reference needs about 3 s
SLOW_NAME = "slow-worker"
SLOW_BASE = {  # what the learner's settings go on top of
    "max_poll_interval_ms": SLOW_POLL_LIMIT_MS,
    "session_timeout_ms": 3000,
    "heartbeat_interval_ms": 300,
}


def slow_config(bootstrap: str, group: str, settings: dict) -> dict:
    """The worker's KafkaConsumer settings: the learner's over SLOW_BASE, under the check's own
    (which group, where to start, and no auto-commit: the check commits after each batch)."""
    return {
        **SLOW_BASE,
        **settings,
        "bootstrap_servers": bootstrap,
        "group_id": group,
        "client_id": SLOW_NAME,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
    }


class SlowHandlerKept(Exercise):
    id = "slow-handler-kept"
    time_limit_s = 10.0
    error_hints = {
        "KafkaConfigurationError": "Which setting did kafka-python refuse? The error names "
        "it. Return only KafkaConsumer settings with valid values.",
        "TypeError": "Does KafkaConsumer know every key you returned? Return only "
        "KafkaConsumer keyword settings, such as max_poll_records.",
    }

    def prepare(self, attempt: Attempt) -> dict:
        kafka_io.create_topic(attempt.bootstrap, attempt.topic(), 1)
        kafka_io.append_to_partitions(
            attempt.bootstrap,
            attempt.topic(),
            [(0, None, b"slow job %d" % n) for n in range(SLOW_RECORDS)],
        )
        return {"bootstrap": attempt.bootstrap, "topic": attempt.topic(), "group": attempt.group()}

    def run_learner(self, function: Callable[..., Any], kwargs: dict) -> Outcome:
        """The learner's settings, then the check's own slow worker running with them."""
        bootstrap, topic, group = kwargs["bootstrap"], kwargs["topic"], kwargs["group"]
        outcome = run_learner_function(
            function,
            {"handle_ms": SLOW_HANDLE_MS, "max_poll_interval_ms": SLOW_POLL_LIMIT_MS},
            self.time_limit_s,
        )
        if outcome.error or outcome.timed_out or not isinstance(outcome.returned, dict):
            return outcome
        handled: Counter[int] = Counter()

        def handle(_who: str, record: Any) -> None:
            time.sleep(SLOW_HANDLE_MS / 1000)
            handled[record.offset] += 1

        since = kafka_io.group_log_end(bootstrap, group)
        worker = CheckMember.from_config(
            slow_config(bootstrap, group, outcome.returned), [topic], SLOW_NAME, handle=handle
        )
        try:
            worker.start()
            if worker.error:
                return Outcome(error=worker.error, error_type=worker.error.split(":")[0])
            wait_until(
                lambda: (
                    kafka_io.committed_offsets(bootstrap, group).get((topic, 0)) == SLOW_RECORDS
                ),
                SLOW_DONE_S,
                every_s=0.3,
            )
            until = kafka_io.group_log_end(bootstrap, group)
        finally:
            worker.close()
        return Outcome(
            returned=outcome.returned,
            notes=outcome.notes,
            evidence={
                "since": since,
                "until": until,
                "handled": {str(offset): n for offset, n in sorted(handled.items())},
                "commit_failures": worker.commit_failures,
            },
        )

    def verdict(self, attempt: Attempt, outcome: Outcome) -> CheckResult:
        settings = outcome.returned
        if not isinstance(settings, dict):
            return self.failure(
                "the result has the wrong shape",
                'a dict of KafkaConsumer settings, e.g. {"max_poll_records": 100}',
                repr(settings)[:120],
                "What should your function return? Return a dict of KafkaConsumer keyword "
                "settings.",
            )
        evidence = outcome.evidence
        since = evidence["since"] if isinstance(evidence.get("since"), int) else 0
        until = evidence["until"] if isinstance(evidence.get("until"), int) else None
        history = kafka_io.group_history(attempt.bootstrap, attempt.group(), since, until)
        mine = [(g, g.member(SLOW_NAME)) for g in history]
        joined = [(g, m) for g, m in mine if m is not None]
        if not joined:
            return self.failure(
                "the worker never joined its group",
                "a stored generation with the worker in it",
                f"{len(history)} stored generation(s) without it",
                "Did your settings change where the worker connects? Return only the settings "
                "that shape its polling, such as max_poll_records.",
            )
        interval = max(m.rebalance_timeout_ms for _, m in joined)
        if interval > SLOW_POLL_LIMIT_MS:
            return self.failure(
                "max_poll_interval_ms is above the limit",
                f"max_poll_interval_ms at most {SLOW_POLL_LIMIT_MS} ms",
                f"the worker told the broker {interval} ms",
                "A longer max_poll_interval_ms keeps a slow worker, but also a stuck one for "
                "as long: what else decides how long one loop between polls takes? Keep the "
                "interval and lower max_poll_records.",
            )
        first = joined[0][0]
        # Removed for polling late shows as a generation stored without the worker, and a new
        # member id when it rejoins (a round the leader starts keeps the same member id).
        ids = {m.member_id for _, m in joined}
        absent = [g for g, m in mine if g.offset > first.offset and m is None]
        moved = absent or [g for g, m in joined if len(ids) > 1 and g.offset > first.offset]
        if moved:
            records = settings.get("max_poll_records", 500)
            batch_ms = records * SLOW_HANDLE_MS if isinstance(records, int) else None
            return self.failure(
                "the worker was removed from its group for polling too late",
                f"generation {first.generation} from start to end",
                f"generation {first.generation}, then "
                + ", ".join(str(g) for g in sorted({g.generation for g in moved})),
                (
                    "How many records can one poll hand the worker, and how long do they take? "
                    f"max_poll_records={records} at {SLOW_HANDLE_MS} ms each is up to "
                    f"{batch_ms} ms between polls, more than max_poll_interval_ms "
                    f"({SLOW_POLL_LIMIT_MS} ms). Choose max_poll_records so that a whole batch "
                    "fits well inside the interval."
                )
                if "max_poll_records" in settings
                else "How many records can one poll return when you leave max_poll_records at "
                f"its default (500), at {SLOW_HANDLE_MS} ms each? Far more than fit in "
                f"max_poll_interval_ms ({SLOW_POLL_LIMIT_MS} ms). Set max_poll_records so that "
                "a whole batch fits well inside the interval.",
            )
        committed = kafka_io.committed_offsets(attempt.bootstrap, attempt.group())
        done = committed.get((attempt.topic(), 0))
        if done != SLOW_RECORDS:
            return self.failure(
                f"the worker did not get through the {SLOW_RECORDS} records in time",
                f"committed offset {SLOW_RECORDS}",
                f"committed offset {done}",
                "Is each poll so small that the worker spends its time polling? Choose a "
                "max_poll_records that fills most of the interval, with a margin.",
            )
        return self.success(
            f"all {SLOW_RECORDS} records handled and committed in generation "
            f"{first.generation}, with max_poll_interval_ms at {interval} ms"
        )


EXERCISES = (
    RebalanceSafeConsumer(),
    PredictAssignment(),
    RestartWithoutRebalance(),
    SlowHandlerKept(),
)
