"""Lesson 05, consumer basics: read a whole topic as a group and commit; read one partition
with assign()."""

from __future__ import annotations

import json
import random

from autograder.grading import kafka_io
from autograder.grading.exercises.base import Attempt, Exercise
from autograder.grading.exercises.orders import CUSTOMERS, make_orders
from autograder.grading.harness import Outcome
from autograder.grading.result import CheckResult

PARTITIONS = 3


class ConsumeAll(Exercise):
    """Read every order in the topic as group ``group``, commit, return revenue per customer."""

    id = "consume-all"
    count = 600  # more than one poll's 500 records (max_poll_records): one poll cannot do

    def prepare(self, attempt: Attempt) -> dict:
        orders = make_orders(attempt.attempt_id, self.count, customers=len(CUSTOMERS))
        kafka_io.create_topic(attempt.bootstrap, attempt.topic(), PARTITIONS)
        kafka_io.append_keyed(
            attempt.bootstrap,
            attempt.topic(),
            [(o["customer"], json.dumps(o).encode()) for o in orders],
        )
        return {"bootstrap": attempt.bootstrap, "topic": attempt.topic(), "group": attempt.group()}

    def verdict(self, attempt: Attempt, outcome: Outcome) -> CheckResult:
        expected: dict[str, int] = {}
        for record in kafka_io.read_all(attempt.bootstrap, attempt.topic()):
            order = record.value_json()
            expected[order["customer"]] = expected.get(order["customer"], 0) + order["amount"]
        wrong_answer = self._judge_answer(expected, outcome.returned)
        if wrong_answer:
            return wrong_answer
        return self._judge_commits(attempt, sum(expected.values()))

    def _judge_answer(self, expected: dict[str, int], returned) -> CheckResult | None:
        total = sum(expected.values())
        if not isinstance(returned, dict) or not all(
            isinstance(v, (int, float)) for v in returned.values()
        ):
            return self.failure(
                "the answer has the wrong shape",
                "a dict {customer: total amount}, e.g. {'alice': 10450, …}",
                repr(returned)[:100],
                "What should your function return? Add up order['amount'] per "
                "order['customer'] in a dict and return it.",
            )
        if not returned:
            return self.failure(
                "your function read no orders at all",
                f"{len(expected)} customers, {total} in revenue",
                "an empty dict",
                "Where does a brand-new group start reading when it has no committed "
                "offset? Set auto_offset_reset='earliest'.",
            )
        found_total = sum(returned.values())
        if found_total < total and all(returned.get(c, 0) <= v for c, v in expected.items()):
            return self.failure(
                "your function stopped before the end of the topic",
                f"{total} in revenue from {self.count} orders",
                f"{found_total:g} in revenue",
                "One poll returns at most max_poll_records (500) records, and the "
                "first polls may return none: when is the topic read to its end? Keep "
                "polling until consumer.position(tp) reaches consumer.end_offsets(...) "
                "for every assigned partition, with a deadline.",
            )
        if returned != expected:
            customer = sorted(
                set(expected) | set(returned), key=lambda c: (returned.get(c) == expected.get(c), c)
            )[0]
            return self.failure(
                "the revenue per customer is wrong",
                f"{customer}: {expected.get(customer, 'no orders')}",
                f"{customer}: {returned.get(customer, 'missing')}",
                "Did you count every order exactly once, keyed by order['customer'] "
                "and summing order['amount']? Fix the sum.",
            )
        return None

    def _judge_commits(self, attempt: Attempt, total: int) -> CheckResult:
        ends = kafka_io.end_offsets(attempt.bootstrap, attempt.topic())
        committed = {
            partition: offset
            for (topic, partition), offset in kafka_io.committed_offsets(
                attempt.bootstrap, attempt.group()
            ).items()
            if topic == attempt.topic()
        }
        wanted = {p: end for p, end in ends.items() if end > 0}
        if not committed:
            return self.failure(
                "the right answer, but the group committed nothing",
                f"committed offsets {wanted}",
                "no committed offsets for the group",
                "With enable_auto_commit=False nothing is committed unless you ask: "
                "where do you tell the broker how far the group got? Call "
                "consumer.commit() after the loop, before close().",
            )
        short = {p: committed.get(p) for p, end in wanted.items() if committed.get(p) != end}
        if short:
            return self.failure(
                "the group's committed offsets are not at the end",
                f"committed offsets {wanted} (the end offsets)",
                f"committed offsets {dict(sorted(committed.items()))}",
                "A commit stores the positions the consumer has reached: did you "
                "commit before reading everything? Commit once after the loop.",
            )
        return self.success(
            f"{total} in revenue from {self.count} orders, and the group's "
            f"offsets committed at the end of all {len(ends)} partitions"
        )


class ReadPartition(Exercise):
    """Read one partition, and only that one, from its beginning to its end, with assign()."""

    id = "read-one-partition"
    per_partition = 8

    def _plan(self, attempt: Attempt) -> tuple[list[dict], int]:
        orders = make_orders(attempt.attempt_id, self.per_partition * PARTITIONS)
        return orders, random.Random(f"{attempt.attempt_id}-partition").randrange(PARTITIONS)

    def prepare(self, attempt: Attempt) -> dict:
        orders, partition = self._plan(attempt)
        kafka_io.create_topic(attempt.bootstrap, attempt.topic(), PARTITIONS)
        kafka_io.append_to_partitions(
            attempt.bootstrap,
            attempt.topic(),
            [(n % PARTITIONS, o["customer"], json.dumps(o).encode()) for n, o in enumerate(orders)],
        )
        return {"bootstrap": attempt.bootstrap, "topic": attempt.topic(), "partition": partition}

    def verdict(self, attempt: Attempt, outcome: Outcome) -> CheckResult:
        _, partition = self._plan(attempt)
        stored = kafka_io.read_all(attempt.bootstrap, attempt.topic())
        where = {r.value_json()["order_id"]: r.partition for r in stored}
        wanted = [r.value_json()["order_id"] for r in stored if r.partition == partition]
        returned = outcome.returned
        if not isinstance(returned, list) or not all(isinstance(x, str) for x in returned):
            return self.failure(
                "the answer has the wrong shape",
                "a list of order ids, e.g. ['o-…-02', 'o-…-05', …]",
                repr(returned)[:100],
                "What should your function return? Collect record.value['order_id'] "
                "for each record, in the order read, and return the list.",
            )
        if returned == wanted:
            return self.success(
                f"all {len(wanted)} orders of partition {partition}, in "
                "offset order, and nothing else"
            )
        expected = f"the {len(wanted)} order ids of partition {partition}, in offset order"
        found = f"{len(returned)} ids: {returned[:3]}…" if returned else "an empty list"
        others = sorted({where[x] for x in returned if x in where} - {partition})
        if not returned:
            hint = (
                "An assigned consumer with no committed offset starts where "
                "auto_offset_reset says, and the default 'latest' is the end: where should "
                "it start? Create it with auto_offset_reset='earliest'."
            )
        elif others:
            found = f"{len(returned)} ids, some from partition(s) {others}"
            hint = (
                "subscribe() and an assign() of every partition both read the whole topic: "
                "how do you take just one partition? Call "
                "consumer.assign([TopicPartition(topic, partition)])."
            )
        else:
            hint = (
                "Did you read until the consumer's position reached the partition's end "
                "offset, keeping the records in the order they came? Fix the loop."
            )
        return self.failure("not exactly the records of that partition", expected, found, hint)


EXERCISES = (ConsumeAll(), ReadPartition())
