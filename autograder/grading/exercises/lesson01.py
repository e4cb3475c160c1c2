"""Lesson 01, producer basics: create a topic, send keyed JSON records, report deliveries."""

from __future__ import annotations

import json
from collections import defaultdict

from autograder.grading import kafka_io
from autograder.grading.exercises import late_binding, scans
from autograder.grading.exercises.base import Attempt, Exercise
from autograder.grading.exercises.orders import make_orders
from autograder.grading.harness import Outcome
from autograder.grading.result import CheckResult

ORDERS_PARTITIONS = 3
ONE_DAY_MS = "86400000"


class CreateTopic(Exercise):
    id = "create-topic"

    def prepare(self, attempt: Attempt) -> dict:
        return {"bootstrap": attempt.bootstrap, "name": attempt.topic()}

    def verdict(self, attempt: Attempt, outcome: Outcome) -> CheckResult:
        info = kafka_io.describe_topic(attempt.bootstrap, attempt.topic())
        if info is None:
            return self.failure(
                "the topic does not exist on the broker",
                f"a topic named {attempt.topic()}",
                "no such topic",
                "Did you pass a NewTopic to `admin.create_topics([...])` with the `name` "
                "you were given? Create it.",
            )
        if info.partitions != ORDERS_PARTITIONS:
            return self.failure(
                "the topic has the wrong number of partitions",
                f"{ORDERS_PARTITIONS} partitions",
                f"{info.partitions} partition(s)",
                "Which NewTopic argument sets the partition count? Set "
                f"num_partitions={ORDERS_PARTITIONS}.",
            )
        retention = info.configs.get("retention.ms")
        if retention != ONE_DAY_MS:
            return self.failure(
                "the topic keeps records for the wrong time",
                f"retention.ms = {ONE_DAY_MS} (one day)",
                f"retention.ms = {retention or 'the broker default (7 days)'}",
                "Topic settings go in at creation time: which NewTopic argument takes "
                "a dict of them? Pass topic_configs={'retention.ms': '86400000'}.",
            )
        return self.success(
            f"{info.name} exists with {info.partitions} partitions and one day of retention"
        )


class OrdersExercise(Exercise):
    """An exercise whose function gets a fresh orders topic and this attempt's orders."""

    count = 10
    oversized = 0

    def orders(self, attempt: Attempt) -> list[dict]:
        return make_orders(attempt.attempt_id, self.count, oversized=self.oversized)

    def prepare(self, attempt: Attempt) -> dict:
        kafka_io.create_topic(attempt.bootstrap, attempt.topic(), ORDERS_PARTITIONS)
        return {
            "bootstrap": attempt.bootstrap,
            "topic": attempt.topic(),
            "orders": self.orders(attempt),
        }


class SendKeyed(OrdersExercise):
    id = "send-keyed"
    count = 12

    def verdict(self, attempt: Attempt, outcome: Outcome) -> CheckResult:
        orders = self.orders(attempt)
        stored = kafka_io.read_all(attempt.bootstrap, attempt.topic())
        content = self._content(scans.match_expected(stored, orders, "order_id"))
        if content:
            return content
        by_id = {o["order_id"]: o for o in orders}
        for record in stored:
            expected_key = by_id[record.value_json()["order_id"]]["customer"]
            if record.key_text != expected_key:
                return self.failure(
                    "a record has the wrong key",
                    f"key {expected_key!r} (the order's customer)",
                    f"key {record.key_text!r}",
                    "What decides the partition, and so the order, of a customer's "
                    "orders? Send with key=order['customer'] and a key_serializer.",
                )
        partitions = defaultdict(set)
        sequence = defaultdict(list)
        for record in stored:  # sorted by partition then offset: per-partition order
            value = record.value_json()
            partitions[record.key_text].add(record.partition)
            sequence[record.key_text].append(value["order_id"])
        for customer, used in partitions.items():
            if len(used) > 1:
                return self.failure(
                    f"{customer}'s orders are spread over several partitions",
                    "one partition per key",
                    f"partitions {sorted(used)}",
                    "Did every record carry its key? Send each with key=customer.",
                )
        for customer, ids in sequence.items():
            wanted = [o["order_id"] for o in orders if o["customer"] == customer]
            if ids != wanted:
                return self.failure(
                    f"{customer}'s orders are out of order on the broker",
                    " → ".join(wanted),
                    " → ".join(ids),
                    "Did you send the orders in the order given? Loop over the list as it is.",
                )
        return self.success(
            f"{len(stored)} JSON orders, keyed by customer, each customer in "
            "one partition, in order"
        )

    def _content(self, match: scans.Match) -> CheckResult | None:
        """A failure unless the topic holds every order exactly once, as JSON."""
        orders, stored = match.expected, match.stored
        if match.fewer:
            return self.failure(
                f"{match.fewer} order(s) are not on the broker",
                f"{len(orders)} records",
                f"{len(stored)} records",
                "With linger_ms=5000 a record waits in the producer's buffer: what "
                "makes the producer send everything before your function returns? Call "
                "producer.flush() (or close()) before returning.",
            )
        if match.more:
            return self.failure(
                "the topic holds more records than there are orders",
                f"{len(orders)} records",
                f"{len(stored)} records",
                "Did you send some orders twice? Send each order exactly once.",
            )
        if match.not_json is not None:
            value = match.not_json.value
            return self.failure(
                "a value is not JSON",
                "values like " + json.dumps(orders[0])[:60] + "…",
                repr(value[:60] if value else value),
                "What turns a dict into JSON bytes? Give the producer a "
                "value_serializer that returns json.dumps(order).encode('utf-8').",
            )
        if match.strangers:
            return self.failure(
                "a value is not one of the orders",
                "each order dict as is",
                json.dumps(match.strangers[0])[:80],
                "Did you change the order before sending? "
                "Send the dict you were given, serialized to JSON.",
            )
        return None


class DeliveryReport(OrdersExercise):
    id = "delivery-report"
    count = 10
    oversized = 3
    error_hints = {
        "MessageSizeTooLargeError": "kafka-python refuses an oversized record inside send() "
        "itself: did you wrap each send in try/except KafkaError and record the order id as "
        "failed? Catch it."
    }

    def verdict(self, attempt: Attempt, outcome: Outcome) -> CheckResult:
        report = outcome.returned
        if not isinstance(report, dict) or not {"delivered", "failed"} <= set(report):
            return self.failure(
                "the report has the wrong shape",
                "{'delivered': {order_id: [partition, offset]}, 'failed': [order_id]}",
                repr(report)[:100],
                "What should your function return? Build the dict from your callbacks "
                "and return it.",
            )
        orders = self.orders(attempt)
        stored = kafka_io.read_all(attempt.bootstrap, attempt.topic())
        on_broker = scans.positions_by_id(stored, "order_id", unreadable=True)
        big = sorted(o["order_id"] for o in orders if "note" in o)
        small = {o["order_id"] for o in orders if "note" not in o}
        if set(on_broker) != small:
            return self.failure(
                "the broker does not hold exactly the orders that fit",
                f"the {len(small)} orders under 2 KB, each once",
                f"{len(stored)} records: {sorted(on_broker)}"[:160],
                "Did you create the producer with max_request_size=2048 and send every "
                "order once? Fix the producer settings.",
            )
        sent_ids = [o["order_id"] for o in orders]
        if late_binding.looks_late_bound(
            report["delivered"] or {}, report["failed"] or [], sent_ids, on_broker
        ):
            return self.failure(
                "the report files deliveries under the wrong order ids",
                f"the {len(small)} delivered orders, each under its own id",
                f"{len(report['delivered'] or {})} reported: "
                f"{sorted(map(str, report['delivered'] or {}))}"[:160],
                late_binding.HINT.format(what="order"),
            )
        wrong = scans.misreported(report["delivered"], on_broker)
        if wrong:
            order_id = sorted(wrong)[0]
            return self.failure(
                "a reported position is not where the broker holds the order",
                f"{order_id} at {on_broker.get(order_id, 'nowhere (it failed)')}",
                f"{order_id} reported at {wrong[order_id]}",
                "Where do the partition and offset come from? Take them from the "
                "RecordMetadata your callback receives (metadata.partition, "
                "metadata.offset).",
            )
        delivered = {str(k) for k in (report["delivered"] or {})}
        if small - delivered:
            return self.failure(
                "some delivered orders are missing from your report",
                f"all {len(small)} delivered orders",
                f"{len(delivered)} reported",
                "Did you wait for every callback before building the report? "
                "Call producer.flush() before you return.",
            )
        reported_failed = sorted(str(x) for x in (report["failed"] or []))
        if reported_failed != big:
            return self.failure(
                "the failed sends are not reported correctly",
                f"failed: {big}",
                f"failed: {reported_failed}",
                "A send fails in one of two places: send() raises at once (a record "
                "over max_request_size), or the future fails later (its errback). Did "
                "you record the order id in both? Fix that.",
            )
        return self.success(
            f"{len(small)} deliveries reported at their true positions and "
            f"{len(big)} failures caught"
        )


EXERCISES = (CreateTopic(), SendKeyed(), DeliveryReport())
