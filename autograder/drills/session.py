"""Asking, judging and scoring: what the terminal and the widget share.

A drill is a list of questions; each answer is parsed (``parse``), judged (``Question.is_right``,
or for a fix question the clinic exercise's check on the broker, ``grade_fix``) and recorded in
the learner's history. A mock interview draws its questions across lessons (``draw_mock``) and
ends with the weakest topics (``weakest``).
"""

from __future__ import annotations

import ast
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from autograder.drills.bank import Question
from autograder.grading import manifest
from autograder.grading.namespace import Namespace, new_run_id
from autograder.grading.result import CheckResult

CLINIC_LESSON = "11"
MOCK_KINDS = ("choice", "number", "predict")  # a fix drill needs an editor, not a clock
AS_GIVEN = "the program as given"

# The imports cell of lesson 11's notebook: what a clinic program may use without importing it.
CLINIC_IMPORTS = """import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait

from kafka import (
    AsyncConsumerRebalanceListener,
    KafkaAdminClient,
    KafkaConsumer,
    OffsetAndMetadata,
    TopicPartition,
)
from kafka.admin import OffsetSpec
"""


@dataclass(frozen=True)
class Answered:
    question: Question
    right: bool
    given: str  # what the learner answered, as shown back


def parse(question: Question, text: str) -> tuple[int | float | None, str | None]:
    """(value, None) for a valid answer, (None, the one-line problem) otherwise. An option is
    given by its number (1, 2, ...) or letter (a, b, ...); the value is its 0-based index."""
    text = text.strip()
    if not text:
        return None, "empty answer: type one (or q to stop)"
    if question.options:
        count = len(question.options)
        letters = "abcdefghij"[:count]
        if len(text) == 1 and text.lower() in letters:
            return letters.index(text.lower()), None
        if text.isdigit() and 1 <= int(text) <= count:
            return int(text) - 1, None
        return None, f"{text!r} is not an option: answer 1-{count} (or a-{letters[-1]})"
    try:
        number = float(text.replace(",", "").replace("_", ""))
    except ValueError:
        return None, f"{text!r} is not a number: type one, e.g. 3"
    return (int(number) if number.is_integer() else number), None


def shown(question: Question, value: int | float) -> str:
    """An answer as the learner reads it back."""
    if question.options:
        return f"{int(value) + 1}) {question.options[int(value)]}"
    return str(value)


def draw_mock(questions: Sequence[Question], count: int, seed: int | None = None) -> list[Question]:
    """``count`` questions across lessons: lessons taken in turn, a random question from each,
    never one twice; fix drills left out (see MOCK_KINDS)."""
    rng = random.Random(seed)
    pools: dict[str, list[Question]] = {}
    for question in questions:
        if question.kind in MOCK_KINDS:
            pools.setdefault(question.lesson, []).append(question)
    for pool in pools.values():
        rng.shuffle(pool)
    lessons = sorted(pools)
    rng.shuffle(lessons)
    drawn: list[Question] = []
    while len(drawn) < count and any(pools.values()):
        for lesson in lessons:
            if pools[lesson] and len(drawn) < count:
                drawn.append(pools[lesson].pop())
    return drawn


def weakest(answered: Sequence[Answered], limit: int = 3) -> list[tuple[str, int, int]]:
    """The topics with the lowest share of right answers: (topic, right, asked), worst first;
    only topics with a wrong answer."""
    per: dict[str, list[int]] = {}
    for item in answered:
        counts = per.setdefault(item.question.topic, [0, 0])
        counts[0] += item.right
        counts[1] += 1
    ranked = sorted(
        ((topic, right, asked) for topic, (right, asked) in per.items() if right < asked),
        key=lambda t: (t[1] / t[2], -t[2], t[0]),
    )
    return ranked[:limit]


def fix_exercise(question: Question) -> manifest.ExerciseSpec:
    return manifest.lesson(CLINIC_LESSON).exercise(str(question.exercise))


def broken_program(question: Question) -> str:
    """The clinic's program as given, for a fix question: its wrong answer "the program as
    given: ...", without the docstring (which names the mistake to find)."""
    for wrong in fix_exercise(question).wrong_answers:
        if wrong.name.startswith(AS_GIVEN):
            first = ast.parse(wrong.code).body[0]
            lines = wrong.code.splitlines()[(first.end_lineno or 0) :]
            return "\n".join(lines).strip() + "\n"
    raise KeyError(f"{question.exercise}: no wrong answer named '{AS_GIVEN}: ...'")


def define(code: str, name: str) -> Callable[..., Any]:
    """Run ``code`` after the clinic's imports and return what it defines as ``name``; the
    learner's own errors (a syntax error, a missing definition) come back as ValueError."""
    scope: dict[str, Any] = {}
    exec(CLINIC_IMPORTS, scope)
    try:
        exec(compile(code, "<your program>", "exec"), scope)
    except Exception as error:
        raise ValueError(f"your program does not run: {type(error).__name__}: {error}") from None
    if not callable(scope.get(name)):
        raise ValueError(f"your program defines no function `{name}`")
    return scope[name]


def grade_fix(question: Question, function: Callable[..., Any], bootstrap: str) -> CheckResult:
    """The clinic exercise's check on ``function``, on the broker, recording no claim (a drill is
    practice; the notebook's graded cell is where a repair earns points)."""
    from autograder.grading.verdict import trial

    return trial(
        bootstrap, Namespace(new_run_id(), CLINIC_LESSON), str(question.exercise), function
    )
