"""Lesson 10, exactly once: transactions across two topics, a pipeline that survives real crashes,
and a zombie fenced by its successor.

* ``atomic-transfer``: the learner's function writes each transfer as a debit and a credit in one
  transaction; the check's ``credit_for`` refuses one transfer after its debit reached the log.
  Judged by the grader's own reads: every good transfer on both topics under read_committed, in
  committed transactions, the refused one on neither, and its debit in the log, aborted.
* ``exactly-once-pipeline``: consume-transform-produce in a forked child, given a transactional
  producer that kills the child once before a commit and once after one (see ``eos_pipeline``),
  then left to finish. The input holds an aborted transaction too. Judged: one output per
  committed input under read_committed, each in a committed transaction, none for the aborted
  input, and the group's committed offsets past every input record.
* ``fence-the-zombie``: two instances of the learner's processor with one transactional id, the
  second started while the first is mid-stream. Judged: every reading once in the output, all of
  it under that one id, and the first instance stopped saying it was fenced.

What the grader cannot see again later (the refusal, the crashes, when each instance ran) is the
attempt's evidence, kept in the claim; a claim without the records behind it earns nothing.
"""

from __future__ import annotations

import copy
import re
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any, ClassVar

from autograder.grading import kafka_io
from autograder.grading.crash_runner import ChildResult, run_forked
from autograder.grading.exercises.base import Attempt, Exercise
from autograder.grading.exercises.eos_pipeline import (
    PLANS,
    CrashPlan,
    encoded,
    make_readings,
    open_producer,
    to_fahrenheit,
)
from autograder.grading.exercises.transfers import (
    CreditDesk,
    credit_of,
    debit_of,
    make_transfers,
)
from autograder.grading.exercises.txn_scans import UNREADABLE, TopicView, parsed
from autograder.grading.harness import Outcome, run_learner_function
from autograder.grading.result import CheckResult

MAX_NOTES = 12
KAFKA_LOG_LINE = "kafka-python "  # the library's own log lines, routed to stdout by quiet
LIBRARY_ERROR = re.compile(r"^[\w.]+(Error|Exception)\b")  # the last line of a traceback


def _short(ids: list[str], limit: int = 3) -> str:
    return ", ".join(ids[:limit]) + (" …" if len(ids) > limit else "")


def _learner_notes(run: str, output: str) -> list[str]:
    """What the learner's code printed in one run, without kafka-python's own log lines and
    the tracebacks they carry (its I/O thread reports errors of a fenced producer that way)."""
    notes, in_library_report = [], False
    for line in output.splitlines():
        if line.startswith(KAFKA_LOG_LINE) or "blocking the event loop" in line:
            in_library_report = True
            continue
        if in_library_report and (line.startswith((" ", "Traceback")) or LIBRARY_ERROR.match(line)):
            continue
        in_library_report = False
        if line.strip():
            notes.append(f"{run}: {line}")
    return notes


def _ended(result: ChildResult) -> str:
    if result.crashed:
        return "crashed"
    if result.timed_out:
        return "timed out"
    return "raised" if result.error else "returned"


FENCED_RAISED_HINT = (
    "Being fenced is what the check does to your first instance: did you let the error escape? "
    "kafka-python raises ProducerFencedError where the broker's refusal arrives and a plain "
    "KafkaError naming it from the transactional calls after: catch KafkaError around each "
    'transaction, and when is_fenced(error) says so, close the producer and return "fenced".'
)
STATE_HINTS = {
    "IN_TRANSACTION to state IN_TRANSACTION": "kafka-python refused a begin_transaction() while "
    "a transaction was still open: what ended the one before? Nothing did. When a step inside "
    "a transaction fails (here, credit_for raising CreditRefused), call "
    "producer.abort_transaction() before beginning the next one.",
    "in state READY": "kafka-python refused a send while no transaction was open (the producer "
    "was READY): where does each transaction start? Call producer.begin_transaction() before "
    "its first send; init_transactions() only prepares the producer, once.",
    "before completing a call to init_transactions": "kafka-python refused a send from a "
    "transactional producer that was never initialised: which call comes first? Call "
    "producer.init_transactions() once, right after creating the producer.",
}


class TransactionalExercise(Exercise):
    """Lesson 10's exercises: a hint for each of kafka-python's transaction state errors, told
    apart by their message (they share the classes KafkaError and IllegalStateError)."""

    state_hints: ClassVar[dict[str, str]] = STATE_HINTS

    def judge(self, attempt: Attempt, outcome: Outcome) -> CheckResult:
        if outcome.error and not outcome.timed_out:
            for words, hint in self.state_hints.items():
                if words in outcome.error:
                    return self.failure(
                        f"`{self.function_name}` raised an error",
                        "the function returns normally",
                        outcome.error,
                        hint,
                    )
        return super().judge(attempt, outcome)


# ----- atomic-transfer ----------------------------------------------------------------------


class AtomicTransfer(TransactionalExercise):
    id = "atomic-transfer"
    time_limit_s = 15.0
    error_hints = {
        "CreditRefused": "A refused credit is part of the batch: did your function let "
        "CreditRefused escape? Catch it, call producer.abort_transaction() so the debit already "
        "sent is taken back, and go on with the next transfer.",
    }

    def prepare(self, attempt: Attempt) -> dict:
        debits, credits = attempt.topic("debits"), attempt.topic("credits")
        kafka_io.create_topic(attempt.bootstrap, debits, 2)
        kafka_io.create_topic(attempt.bootstrap, credits, 2)
        transfers, refused = make_transfers(attempt.attempt_id)
        return {
            "bootstrap": attempt.bootstrap,
            "transactional_id": attempt.group("bank"),
            "transfers": transfers,
            "debits": debits,
            "credits": credits,
            "credit_for": CreditDesk(attempt.bootstrap, debits, refused),
        }

    def run_learner(self, function: Callable[..., Any], kwargs: dict) -> Outcome:
        desk = kwargs["credit_for"]
        kwargs = {**kwargs, "transfers": copy.deepcopy(kwargs["transfers"])}
        outcome = run_learner_function(function, kwargs, self.time_limit_s)
        return replace(outcome, evidence={"credit desk": desk.evidence()})

    def unmet_condition(self, attempt: Attempt, outcome: Outcome) -> CheckResult | None:
        desk = outcome.evidence.get("credit desk") or {}
        if desk.get("refusals"):
            return None
        asked = desk.get("asked") or []
        return self.failure(
            "credit_for never refused a transfer",
            "credit_for(transfer) asked about every transfer, the refused one included",
            f"it was asked about {len(asked)} of {len(make_transfers(attempt.attempt_id)[0])}",
            "The refusal comes from credit_for: did your function ask it about each transfer? "
            "Send the debit, then call credit_for(transfer) for the credit's value, for every "
            "transfer.",
        )

    def verdict(self, attempt: Attempt, outcome: Outcome) -> CheckResult:
        transfers, refused = make_transfers(attempt.attempt_id)
        debits = TopicView.read(attempt.bootstrap, attempt.topic("debits"), "transfer")
        credits = TopicView.read(attempt.bootstrap, attempt.topic("credits"), "transfer")
        return (
            self._refused_half_visible(debits, credits, refused)
            or self._good_ones_missing(debits, credits, transfers, refused)
            or self._copies_and_values(debits, credits, transfers, refused)
            or self._outside_transactions(debits, credits, refused)
            or self._refused_debit_aborted(debits, refused)
            or self.success(
                f"{len(transfers) - 1} transfers on both topics in committed transactions; "
                "the refused one aborted in the log and invisible to read_committed"
            )
        )

    def _refused_half_visible(
        self, debits: TopicView, credits: TopicView, refused: str
    ) -> CheckResult | None:
        halves = [(name, view) for name, view in (("debit", debits), ("credit", credits))]
        visible = [
            (name, view, view.visible[refused][0]) for name, view in halves if view.visible[refused]
        ]
        if not visible:
            return None
        name, view, record = visible[0]
        plain = view.outcome(record) is None
        hint = (
            "Were these sends part of a transaction at all? A producer without transactional_id "
            "writes each record for good at once: create it with "
            "transactional_id=transactional_id, call init_transactions() once, and wrap each "
            "transfer in begin_transaction() … commit_transaction()."
            if plain
            else "What does committing a transaction whose second half failed make visible? "
            "Everything it holds, the debit included: when credit_for raises CreditRefused, "
            "call producer.abort_transaction() instead and go on with the next transfer."
        )
        return self.failure(
            f"half of the refused transfer {refused} is visible to read_committed consumers",
            "the refused transfer on neither topic under read_committed",
            f"its {name} at {record.partition}/{record.offset}, "
            + ("written outside any transaction" if plain else "in a committed transaction"),
            hint,
        )

    def _good_ones_missing(
        self, debits: TopicView, credits: TopicView, transfers: list[dict], refused: str
    ) -> CheckResult | None:
        good = [t["id"] for t in transfers if t["id"] != refused]
        missing = [i for i in good if not debits.visible[i] or not credits.visible[i]]
        if not missing:
            return None
        aborted = [
            i
            for i in missing
            if any(debits.outcome(e) == "aborted" for e in debits.logged[i])
            or any(credits.outcome(e) == "aborted" for e in credits.logged[i])
        ]
        if aborted:
            hint = (
                "How much does one abort_transaction() take back? Everything sent since "
                "begin_transaction(), good transfers included: give each transfer its own "
                "transaction, begun before its debit and committed after its credit."
            )
        else:
            hint = (
                "Did every transfer's transaction end with commit_transaction()? Records of a "
                "transaction never committed stay invisible to read_committed consumers: commit "
                "after each transfer's credit, and close the producer before returning."
            )
        return self.failure(
            f"{len(missing)} of {len(good)} good transfers are not visible on both topics",
            f"debit and credit of {_short(good)} under read_committed",
            f"missing: {_short(missing)}"
            + (f"; {len(aborted)} of them in the log, aborted" if aborted else ""),
            hint,
        )

    def _copies_and_values(
        self, debits: TopicView, credits: TopicView, transfers: list[dict], refused: str
    ) -> CheckResult | None:
        known = {t["id"] for t in transfers}
        for name, view in (("debits", debits), ("credits", credits)):
            strangers = sorted(set(view.copies()) - known)
            if strangers:
                return self.failure(
                    f"the {name} topic holds records that are no transfer's",
                    'JSON values with a "transfer" field naming one of the transfers',
                    f"{len(strangers)} other(s), e.g. {strangers[0]}",
                    "What does each record carry? Write json.dumps of the debit value the task "
                    "gives (and of what credit_for returns) as the value, UTF-8 encoded.",
                )
            twice = sorted(i for i, n in view.copies().items() if n > 1)
            if twice:
                return self.failure(
                    f"{len(twice)} transfers appear more than once on the {name} topic",
                    "each transfer's debit and credit once",
                    f"{twice[0]} {view.copies()[twice[0]]} times",
                    "Did you send a transfer again, or send each record twice? Send one debit "
                    "and one credit per transfer, once.",
                )
        for transfer in transfers:
            if transfer["id"] == refused:
                continue
            for view, want, key in (
                (debits, debit_of(transfer), transfer["from"]),
                (credits, credit_of(transfer), transfer["to"]),
            ):
                record = view.visible[transfer["id"]][0]
                if parsed(record.value) != want or record.key_text != key:
                    return self.failure(
                        f"transfer {transfer['id']} was written wrong",
                        f"key {key!r}, value {want}",
                        f"key {record.key_text!r}, value {(record.value or b'')[:80]!r}",
                        "Which key and value does each half get? Key the debit by the sender "
                        "and the credit by the receiver (UTF-8), with the debit value the task "
                        "gives and credit_for's answer, as JSON.",
                    )
        return None

    def _outside_transactions(
        self, debits: TopicView, credits: TopicView, refused: str
    ) -> CheckResult | None:
        for name, view in (("debit", debits), ("credit", credits)):
            for transfer_id, records in sorted(view.visible.items()):
                plain = [r for r in records if view.outcome(r) is None]
                if transfer_id != UNREADABLE and plain:
                    return self.failure(
                        "transfers were written outside any transaction",
                        "every debit and credit in a committed transaction",
                        f"the {name} of {transfer_id} in no transaction",
                        "Is your producer transactional? Create it with "
                        "transactional_id=transactional_id, call init_transactions() once, "
                        "and send each transfer between begin_transaction() and "
                        "commit_transaction().",
                    )
        return None

    def _refused_debit_aborted(self, debits: TopicView, refused: str) -> CheckResult | None:
        logged = debits.logged[refused]
        if not logged:
            return self.failure(
                "the refused transfer's debit never reached the log",
                f"the debit of {refused} in the log, in an aborted transaction",
                "no debit of it at all",
                "The check wants to see an abort take a debit back: did you ask credit_for "
                "before sending the debit? Send the debit first, then call credit_for(transfer), "
                "and abort when it refuses.",
            )
        outcomes = sorted({str(debits.outcome(e)) for e in logged})
        if outcomes != ["aborted"]:
            return self.failure(
                "the refused transfer's transaction was not aborted",
                f"the debit of {refused} followed by an ABORT marker",
                f"its transaction: {', '.join(outcomes)}",
                "How does a transaction end when its second half fails? Call "
                "producer.abort_transaction() when credit_for raises CreditRefused.",
            )
        return None


# ----- exactly-once-pipeline ----------------------------------------------------------------

PIPELINE_READINGS = 12
ABORTED_READINGS = 3
INPUT_PARTITIONS = 2


def pipeline_transactional_id(group: str) -> str:
    """The transactional id of the producer the check hands the pipeline, the same each run."""
    return f"{group}-pipeline"


def _pipeline_inputs(attempt_id: str) -> tuple[list[dict], list[dict]]:
    """(readings the upstream committed, readings of its aborted transaction)."""
    return (
        make_readings(attempt_id, "r", PIPELINE_READINGS),
        make_readings(attempt_id, "x", ABORTED_READINGS),
    )


def _one_pipeline_run(function: Callable[..., Any], kwargs: dict, crash: str) -> Any:
    """In the child: make the crashing producer, call the learner, close what is left."""
    producer = open_producer(
        kwargs["bootstrap"], pipeline_transactional_id(kwargs["group"]), PLANS[crash]()
    )
    try:
        return function(producer=producer, **kwargs)
    finally:
        producer.plan = CrashPlan()
        producer.close(timeout=5)


def _judge_outputs(
    exercise: Exercise,
    view: TopicView,
    readings: list[dict],
    aborted: list[dict],
    duplicate_hint: str,
    missing_hint: str,
) -> CheckResult | None:
    """One correct output per reading, none for the aborted ones, all in committed
    transactions; else the failure."""
    wanted = {r["id"]: r for r in readings}
    copies = view.copies()
    ghosts = sorted(set(copies) & {r["id"] for r in aborted})
    if ghosts:
        return exercise.failure(
            f"{len(ghosts)} outputs come from input records of an aborted transaction",
            "outputs only for the readings the upstream producer committed",
            f"outputs for {_short(ghosts)}",
            "Which records does a consumer hand you by default? read_uncommitted includes "
            "those of aborted transactions: create the consumer with "
            'isolation_level="read_committed".',
        )
    strangers = sorted(set(copies) - set(wanted))
    if strangers:
        return exercise.failure(
            "the output holds records that are no reading's",
            'JSON values with the reading\'s "id"',
            f"{len(strangers)} other(s), e.g. {strangers[0]}",
            "What does each output carry? Write json.dumps(to_fahrenheit(reading)).encode() "
            "for each input reading.",
        )
    missing = [i for i in wanted if i not in copies]
    if missing:
        return exercise.failure(
            f"{len(missing)} of {len(wanted)} readings have no output",
            f"one output for each of the {len(wanted)} readings under read_committed",
            f"missing: {_short(missing)}",
            missing_hint,
        )
    twice = sorted(i for i, n in copies.items() if n > 1)
    if twice:
        return exercise.failure(
            f"{len(twice)} readings have more than one output",
            "exactly one output per reading under read_committed",
            f"{twice[0]} {copies[twice[0]]} times, and {len(twice) - 1} more",
            duplicate_hint,
        )
    for reading_id, reading in wanted.items():
        record = view.visible[reading_id][0]
        if parsed(record.value) != to_fahrenheit(reading):
            return exercise.failure(
                f"the output for {reading_id} is wrong",
                str(to_fahrenheit(reading)),
                repr((record.value or b"")[:100]),
                "Did you convert each reading with to_fahrenheit and write it as JSON? Write "
                "json.dumps(to_fahrenheit(reading)).encode().",
            )
    plain = [i for i in wanted if view.outcome(view.visible[i][0]) is None]
    if plain:
        return exercise.failure(
            "outputs were written outside any transaction",
            "every output in a committed transaction",
            f"{len(plain)} plain record(s), e.g. for {plain[0]}",
            "Which producer wrote them? Send every output with the transactional producer you "
            "are given, between begin_transaction() and commit_transaction().",
        )
    return None


def _judge_offsets(
    exercise: Exercise, bootstrap: str, topic: str, group: str
) -> CheckResult | None:
    """The group's committed offsets past every input record (a trailing marker may remain)."""
    raw = TopicView.read(bootstrap, topic, "id")
    needed = raw.last_data_offsets()
    ends = kafka_io.end_offsets(bootstrap, topic)
    committed = kafka_io.committed_offsets(bootstrap, group)
    behind = {
        p: committed.get((topic, p))
        for p, last in needed.items()
        if not last <= (committed.get((topic, p)) or 0) <= ends.get(p, 0)
    }
    if not behind:
        return None
    return exercise.failure(
        "the group's committed offsets do not reach the end of the input",
        f"committed offsets at the end offsets {dict(sorted(ends.items()))}",
        f"committed {dict(sorted(behind.items()))}",
        "Which offsets does each transaction carry? The next ones to read, for every "
        "partition of the batch: send {tp: OffsetAndMetadata(consumer.position(tp), '', -1)} "
        "with producer.send_offsets_to_transaction(..., consumer.group_metadata()).",
    )


RUNS_PER_CRASH = 3  # tries of each crash plan whose runs return without committing


def _crashed_plans(runs: object) -> set[str]:
    """The crash plans that killed a run, from the record of the runs (the evidence)."""
    return {
        str(run.get("crash planned"))
        for run in (runs if isinstance(runs, list) else [])
        if isinstance(run, dict) and run.get("ended") == "crashed"
    }


def _crashed_runs(outcome: Outcome) -> set[str]:
    return _crashed_plans(outcome.evidence.get("runs"))


class ExactlyOncePipeline(TransactionalExercise):
    id = "exactly-once-pipeline"
    time_limit_s = 20.0  # for each of the three runs
    crashes = ("before commit", "after commit", "none")

    def prepare(self, attempt: Attempt) -> dict:
        source, sink = attempt.topic("readings"), attempt.topic("fahrenheit")
        kafka_io.create_topic(attempt.bootstrap, source, INPUT_PARTITIONS)
        kafka_io.create_topic(attempt.bootstrap, sink, 2)
        readings, aborted = _pipeline_inputs(attempt.attempt_id)

        def records(chunk: list[dict], first: int) -> list[tuple[int, str | None, bytes]]:
            return [(n % INPUT_PARTITIONS, *encoded(r)) for n, r in enumerate(chunk, start=first)]

        kafka_io.append_in_transactions(
            attempt.bootstrap,
            source,
            attempt.group("upstream"),
            [
                (records(readings[:4], 0), True),
                (records(aborted, 0), False),  # the upstream's failed attempt: in the log, aborted
                (records(readings[4:8], 0), True),
                (records(readings[8:], 0), True),
            ],
        )
        return {
            "bootstrap": attempt.bootstrap,
            "input_topic": source,
            "output_topic": sink,
            "group": attempt.group(),
        }

    def run_learner(self, function: Callable[..., Any], kwargs: dict) -> Outcome:
        """Runs in a forked child: killed before a commit, after one, then to the end.

        A run that returns under a crash plan never committed (the plan strikes at the first
        commit), so the plan is tried again, a few times: on a busy machine a fresh consumer's
        first poll can come back empty before anything was fetched.
        """
        runs: list[dict] = []
        notes: list[str] = []
        error = error_type = None
        timed_out = False
        plans = [crash for crash in self.crashes[:-1] for _ in range(RUNS_PER_CRASH)]
        for crash in [*plans, self.crashes[-1]]:
            if crash != "none" and crash in _crashed_plans(runs):
                continue
            number = len(runs) + 1
            body = partial(_one_pipeline_run, function, kwargs, crash)
            result = run_forked(body, self.time_limit_s)
            runs.append({"run": number, "crash planned": crash, "ended": _ended(result)})
            notes += _learner_notes(f"run {number}", result.output)
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
        """The first run must die at its commit; whether the second did is judged after the
        outputs (a second run with nothing left to do is a symptom, not the cause)."""
        crashed = _crashed_runs(outcome)
        if "before commit" in crashed:
            return None
        return self._not_caught("no run was caught by the crash in a commit", crashed)

    def _not_caught(self, summary: str, crashed: set[str]) -> CheckResult:
        return self.failure(
            summary,
            "a run killed in its first commit_transaction(), and the next right after one",
            f"crashes that struck: {', '.join(sorted(crashed)) or 'none'}",
            "The crashes come at commit_transaction(): did each run poll, send and commit a "
            "transaction? Poll until a poll of 2 s comes back empty, and commit each batch's "
            "transaction.",
        )

    def verdict(self, attempt: Attempt, outcome: Outcome) -> CheckResult:
        readings, aborted = _pipeline_inputs(attempt.attempt_id)
        view = TopicView.read(attempt.bootstrap, attempt.topic("fahrenheit"), "id")
        return (
            _judge_outputs(
                self,
                view,
                readings,
                aborted,
                duplicate_hint="A crash came right after commit_transaction(): were the input "
                "offsets part of that transaction? Offsets the consumer commits itself are not, "
                "so the restart converts the same readings again: send them with "
                "producer.send_offsets_to_transaction(offsets, consumer.group_metadata()) before "
                "commit_transaction(), and never call consumer.commit().",
                missing_hint="A crash came before a commit_transaction(): did the input offsets "
                "move anyway? Offsets the consumer commits itself stay committed when the "
                "transaction is aborted, so the restart skips those readings: send them with "
                "producer.send_offsets_to_transaction(...) inside the transaction instead.",
            )
            or (
                None
                if "after commit" in _crashed_runs(outcome)
                else self._not_caught(
                    "no run was caught by the crash right after a commit",
                    _crashed_runs(outcome),
                )
            )
            or _judge_offsets(self, attempt.bootstrap, attempt.topic("readings"), attempt.group())
            or self.success(
                f"each of the {len(readings)} readings converted exactly once under "
                "read_committed, in committed transactions, through 2 real crashes; the "
                "aborted input ignored and the offsets committed with the outputs"
            )
        )


# ----- fence-the-zombie ---------------------------------------------------------------------

MAX_ZOMBIE_READINGS = 60  # the feed's length if the first instance is slow to commit
READY_AT_START = 4
TAKEOVER_AFTER = 10  # readings fed, at the least, before the second instance starts
FED_AFTER_TAKEOVER = 6  # readings fed once it started
FEED_INTERVAL_S = 0.1  # well under the learner's 2 s poll: the feed never looks dry
FIRST_RESTARTS = 2  # of a first instance that returned before committing anything
FEED_FAILURES_TOLERATED = 3  # appends in a row the broker refused before the feed gives up


def _zombie_readings(attempt_id: str) -> list[dict]:
    return make_readings(attempt_id, "z", MAX_ZOMBIE_READINGS)


def _fed_readings(bootstrap: str, attempt: Attempt) -> list[dict]:
    """The readings the feed wrote in this attempt (how many depends on when the takeover
    came), as the input topic holds them."""
    fed = {
        _id
        for r in kafka_io.read_all(bootstrap, attempt.topic("readings"))
        if (_id := (parsed(r.value) or {}).get("id"))
    }
    return [r for r in _zombie_readings(attempt.attempt_id) if r["id"] in fed]


def _append_reading(bootstrap: str, topic: str, number: int, reading: dict) -> None:
    kafka_io.append_to_partitions(
        bootstrap, topic, [(number % INPUT_PARTITIONS, *encoded(reading))]
    )


def _committed_count(bootstrap: str, topic: str) -> int:
    """The offsets below the topic's last stable offsets: records and markers committed."""
    return sum(kafka_io.end_offsets(bootstrap, topic, "read_committed").values())


class Feed(threading.Thread):
    """Appends readings to the input at a steady pace, from its own thread, so that nothing the
    check waits for can make the input look dry to the learner's 2 s poll."""

    def __init__(self, bootstrap: str, topic: str, readings: list[dict]) -> None:
        super().__init__(name="lesson10-feed", daemon=True)
        self.bootstrap, self.topic, self.readings = bootstrap, topic, readings
        self.fed = READY_AT_START  # prepare() wrote the first ones
        self._until = len(readings)
        self._lock = threading.Lock()
        self.errors: list[str] = []

    def finish_after(self, more: int) -> None:
        """Feed ``more`` readings from now on, then stop (at most what is left)."""
        with self._lock:
            self._until = min(self._until, self.fed + more)

    def run(self) -> None:
        failures = 0
        while failures < FEED_FAILURES_TOLERATED:
            with self._lock:
                if self.fed >= self._until:
                    return
                number = self.fed
            try:
                _append_reading(self.bootstrap, self.topic, number, self.readings[number])
                failures = 0
            except Exception as error:  # a slow broker: go on (the judge counts what arrived)
                failures += 1
                self.errors.append(f"reading {number}: {type(error).__name__}")
            with self._lock:
                self.fed = number + 1
            time.sleep(FEED_INTERVAL_S)


class Instance(threading.Thread):
    """One instance of the learner's processor, in a forked child watched by this thread."""

    def __init__(self, name: str, body: Callable[[], Any], time_limit_s: float, t0: float):
        super().__init__(name=f"lesson10-{name}", daemon=True)
        self.body, self.time_limit_s, self.t0 = body, time_limit_s, t0
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self.result: ChildResult | None = None

    def run(self) -> None:
        self.started_at = round(time.monotonic() - self.t0, 2)
        try:
            self.result = run_forked(self.body, self.time_limit_s)
        finally:
            self.ended_at = round(time.monotonic() - self.t0, 2)

    def record(self) -> dict:
        result = self.result
        return {
            "started": self.started_at,
            "ended": self.ended_at,
            "how": "did not end" if result is None else _ended(result),
            "returned": None if result is None else result.returned,
        }


class FenceTheZombie(TransactionalExercise):
    id = "fence-the-zombie"
    time_limit_s = 25.0  # for each instance
    error_hints = {"ProducerFencedError": FENCED_RAISED_HINT}
    state_hints = {"ProducerFenced": FENCED_RAISED_HINT, **STATE_HINTS}

    def __init__(self) -> None:
        self._feeds: dict[str, list[dict]] = {}

    def prepare(self, attempt: Attempt) -> dict:
        source, sink = attempt.topic("readings"), attempt.topic("fahrenheit")
        kafka_io.create_topic(attempt.bootstrap, source, INPUT_PARTITIONS)
        kafka_io.create_topic(attempt.bootstrap, sink, 2)
        readings = _zombie_readings(attempt.attempt_id)
        kafka_io.append_to_partitions(
            attempt.bootstrap,
            source,
            [(n % INPUT_PARTITIONS, *encoded(r)) for n, r in enumerate(readings[:READY_AT_START])],
        )
        self._feeds[source] = readings
        return {
            "bootstrap": attempt.bootstrap,
            "transactional_id": attempt.group("processor"),
            "input_topic": source,
            "output_topic": sink,
            "group": attempt.group(),
        }

    def run_learner(self, function: Callable[..., Any], kwargs: dict) -> Outcome:
        """The first instance runs on a live feed; the second starts mid-stream, same id."""
        bootstrap, transactional_id = kwargs["bootstrap"], kwargs["transactional_id"]
        feed = Feed(bootstrap, kwargs["input_topic"], self._feeds.pop(kwargs["input_topic"]))
        t0 = time.monotonic()
        body = partial(function, **kwargs)
        first = Instance("first", body, self.time_limit_s, t0)
        second = Instance("second", body, self.time_limit_s, t0)
        first.start()
        feed.start()
        more = 0  # readings fed once the takeover is seen
        try:
            first = self._mid_stream(first, feed, kwargs["output_topic"])
            if first.ident is not None and first.is_alive():
                epoch = kafka_io.producer_epoch_of(bootstrap, transactional_id)
                second.start()
                self._until_takeover(
                    feed, bootstrap, transactional_id, epoch, kwargs["output_topic"]
                )
                more = FED_AFTER_TAKEOVER
        finally:
            feed.finish_after(more)
            feed.join(self.time_limit_s)
        for instance in (first, second):
            if instance.ident is not None:
                instance.join(self.time_limit_s + 10)
        notes = _learner_notes("first", first.result.output if first.result else "")
        notes += _learner_notes("second", second.result.output if second.result else "")
        error = error_type = None
        timed_out = False
        for instance in (first, second):
            result = instance.result
            if instance.ident is None:
                continue  # never started
            if result is None or result.timed_out:
                timed_out = True
            elif result.error and error is None:
                error = f"{instance.name.removeprefix('lesson10-')} instance: {result.error}"
                error_type = result.error_type
        return Outcome(
            returned={"first": first.record()["returned"], "second": second.record()["returned"]},
            error=error,
            error_type=error_type,
            timed_out=timed_out,
            notes=tuple(notes[:MAX_NOTES]),
            evidence={
                "instances": {"first": first.record(), "second": second.record()},
                "feed": {"fed": feed.fed, "errors": feed.errors[:5]},
            },
        )

    def _mid_stream(self, first: Instance, feed: Feed, output_topic: str) -> Instance:
        """Wait while the feed runs until the first instance has committed something, and
        return it (no longer alive when it never does, or raised on its own: it needs no
        successor then). A first instance that returned before anything was committed is
        started again, a few times, the way a supervisor restarts a service: on a busy
        machine a fresh consumer's first poll can come back empty before anything arrived."""
        restarts = 0
        while feed.is_alive():
            if first.result is not None and first.result.error:
                return first
            committed = _committed_count(feed.bootstrap, output_topic) > 0
            if committed and feed.fed >= TAKEOVER_AFTER and first.is_alive():
                return first
            if not first.is_alive() and not committed and restarts < FIRST_RESTARTS:
                restarts += 1
                first = Instance("first", first.body, first.time_limit_s, first.t0)
                first.start()
            time.sleep(0.1)
        return first

    @staticmethod
    def _until_takeover(
        feed: Feed, bootstrap: str, transactional_id: str, epoch: int | None, output_topic: str
    ) -> None:
        """Keep the feed going until the second instance's init_transactions() has raised the
        id's epoch (so the first meets the fence on its next batch) and the second has
        committed a batch of its own (so it is past its first poll), or the feed runs out."""
        while feed.is_alive() and kafka_io.producer_epoch_of(bootstrap, transactional_id) == epoch:
            time.sleep(0.1)
        committed = _committed_count(bootstrap, output_topic)  # the first can commit no more
        while feed.is_alive() and _committed_count(bootstrap, output_topic) == committed:
            time.sleep(0.1)

    def unmet_condition(self, attempt: Attempt, outcome: Outcome) -> CheckResult | None:
        instances = outcome.evidence.get("instances") or {}
        first, second = instances.get("first") or {}, instances.get("second") or {}
        feed = outcome.evidence.get("feed") or {}
        try:
            overlapped = float(first["ended"]) > float(second["started"])
        except (KeyError, TypeError, ValueError):
            overlapped = False
        if overlapped:
            return None
        if second.get("started") is None and first.get("how") != "returned":
            return self.failure(
                "the second instance never started: the first committed nothing",
                "a committed transaction of the first instance, then the takeover",
                f"no committed output after {feed.get('fed')} readings fed"
                + (f" ({', '.join(feed['errors'])})" if feed.get("errors") else ""),
                "The takeover waits for the first instance to be mid-stream: did it commit a "
                "transaction for each batch? Begin, send, send_offsets_to_transaction and "
                "commit_transaction() for every poll that returns records.",
            )
        return self.failure(
            "the first instance was gone before the second one started",
            "the first instance still running when the second takes over",
            f"first ended at {first.get('ended')} s, second started at {second.get('started')} s",
            "The readings keep coming for a few seconds: did your processor return too early? "
            "Poll until a poll of 2 s comes back empty.",
        )

    def verdict(self, attempt: Attempt, outcome: Outcome) -> CheckResult:
        readings = _fed_readings(attempt.bootstrap, attempt)
        view = TopicView.read(attempt.bootstrap, attempt.topic("fahrenheit"), "id")
        failed = _judge_outputs(
            self,
            view,
            readings,
            [],
            duplicate_hint=self._zombie_hint(view)
            or "Were the input offsets part of each transaction? Offsets the consumer commits "
            "itself are not, so the second instance converts readings again: send them with "
            "producer.send_offsets_to_transaction(...) and never call consumer.commit().",
            missing_hint=self._zombie_hint(view)
            or "Were the offsets of a transaction that never committed committed anyway? The "
            "second instance starts where the committed offsets say: send them with "
            "producer.send_offsets_to_transaction(...) inside each transaction, never with "
            "consumer.commit().",
        )
        if failed:
            return failed
        producers = {
            found[0]
            for records in view.visible.values()
            for found in map(view.producer_of, records)
            if found is not None
        }
        if len(producers) > 1:
            return self.failure(
                "the outputs come from more than one transactional producer",
                "every output written under the one transactional_id you are given",
                f"{len(producers)} producer ids",
                "Did an instance choose a transactional id of its own? Use the transactional_id "
                "you are given, unchanged, in every instance.",
            )
        returned = outcome.returned if isinstance(outcome.returned, dict) else {}
        if returned.get("first") != "fenced" or returned.get("second") != "done":
            return self.failure(
                "the instances did not say how they ended",
                'the first instance returns "fenced", the second "done"',
                f"first returned {returned.get('first')!r}, second {returned.get('second')!r}",
                "What should a processor do once a newer instance took its transactional id? "
                "Stop at the first fencing error: when is_fenced(error), close the producer and "
                'return "fenced"; return "done" when a poll comes back empty.',
            )
        return _judge_offsets(
            self, attempt.bootstrap, attempt.topic("readings"), attempt.group()
        ) or self.success(
            f"all {len(readings)} readings converted exactly once across the takeover; the "
            "fenced instance stopped and nothing it wrote after the takeover is visible"
        )

    @staticmethod
    def _zombie_hint(view: TopicView) -> str | None:
        """When the log holds more than one producer id, the hint for the zombie that wrote
        under another: one fenced and back under a new id (an id of the log has two epochs), or
        instances that never shared an id. None for one producer id."""
        epochs: dict[int, set[int]] = {}
        for entry in view.entries.values():
            if entry.control is None and entry.producer_id >= 0:
                epochs.setdefault(entry.producer_id, set()).add(entry.producer_epoch)
        if len(epochs) < 2:
            return None
        if any(len(found) > 1 for found in epochs.values()):
            return (
                "After it was fenced, did your first instance go on under a new transactional "
                "id? Nothing fences that one: it converts readings the newer instance converts "
                "too, and commits the group's offsets past readings neither finished. When "
                'is_fenced(error), close the producer and return "fenced", never retry under '
                "another id."
            )
        return (
            "Did each instance pick its own transactional id? Producers with different ids "
            "fence nothing, so both instances convert the same readings: use the "
            "transactional_id you are given, unchanged, so the newer instance fences the older."
        )


EXERCISES = (AtomicTransfer(), ExactlyOncePipeline(), FenceTheZombie())
