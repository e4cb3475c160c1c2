"""What a lesson notebook imports: its setup, its demo topics and its checks.

Example (a lesson's setup cell):
    >>> from autograder.notebook.lesson import start
    >>> course = start("01")          # prints the broker, the run id and its names
    >>> course.check("create-topic", create_orders_topic)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from autograder.grading import kafka_io, manifest
from autograder.grading.namespace import Namespace
from autograder.grading.verdict import ensure_claims_topic, run_check
from autograder.notebook import progress
from autograder.notebook.display import report


def _bootstrap() -> str:
    from autograder.broker import bootstrap_servers

    return bootstrap_servers()


class Lesson:
    """One run of one lesson: the broker it talks to and the names it owns."""

    def __init__(self, lesson_id: str, bootstrap: str | None = None) -> None:
        self.spec = manifest.lesson(lesson_id)
        self.bootstrap = bootstrap or _bootstrap()
        self.namespace = Namespace.for_lesson(self.spec.id)

    def topic(self, name: str, partitions: int = 3, configs: dict[str, str] | None = None) -> str:
        """Create (once) and return a topic of this run, for the lesson's demonstrations."""
        full = self.namespace.topic(name)
        if kafka_io.describe_topic(self.bootstrap, full) is None:
            kafka_io.create_topic(self.bootstrap, full, partitions, configs)
        return full

    def name(self, name: str) -> str:
        """A name in this run's namespace that is not created, for the learner to create."""
        return self.namespace.topic(name)

    def group(self, name: str) -> str:
        """A consumer group id in this run's namespace (groups are created by joining them)."""
        return self.namespace.group(name)

    def count_records(self, topic: str) -> int:
        """How many records the broker holds in ``topic``, all partitions together."""
        return sum(kafka_io.end_offsets(self.bootstrap, topic).values())

    def check(self, exercise_id: str, function: Callable[..., Any]) -> None:
        """Run the exercise's check on ``function`` and show the verdict."""
        self.spec.exercise(exercise_id)  # an unknown id is the course's bug: fail loudly
        result = run_check(self.bootstrap, self.namespace, exercise_id, function)
        progress.record(self.spec.id, exercise_id, result.passed)
        report(result)

    def progress(self) -> None:
        """Show the learner's progress across the lessons as a widget (this lesson chosen)."""
        from autograder.notebook.progress_widget import show

        show(self.spec.id)  # displayed here, not returned: a returned widget would show twice


def start(lesson_id: str, bootstrap: str | None = None) -> Lesson:
    """Set up a lesson run: check the broker answers, print the run's names."""
    lesson = Lesson(lesson_id, bootstrap)
    try:
        brokers = kafka_io.ping(lesson.bootstrap)
        ensure_claims_topic(lesson.bootstrap, lesson.namespace)
    except kafka_io.BrokerUnreachable as error:
        print(f"✘ {error}")
        return lesson
    print(f"✔ Kafka answers at {lesson.bootstrap} ({brokers} broker{'s' if brokers > 1 else ''}).")
    print(
        f"  Lesson {lesson.spec.id}, {lesson.spec.title}: this run's topics and groups start "
        f"with {lesson.namespace.prefix}-"
    )
    return lesson
