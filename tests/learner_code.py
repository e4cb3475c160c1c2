"""Learner code taken from the course's own files, for tests that call it directly.

A lesson's prelude is what its notebook defines before the exercises; solutions come from the
source notebook, starters from the released notebook and wrong answers from the manifest, so
tests and lessons never drift apart.

    define, solution, wrong_answers = for_lesson("02")
    stub = starter("group-lag", "08")
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple

import nbformat

from autograder.authoring.release import solution_notebook
from autograder.drills.session import CLINIC_IMPORTS
from autograder.grading import manifest
from autograder.grading.paths import RELEASE_DIR

_LESSON_01 = """
import json
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError
from kafka.serializer import DefaultSerializer, Serializer


class JsonValueSerializer(Serializer):
    def serialize(self, topic, headers, data):
        return json.dumps(data).encode("utf-8")
"""

_LESSON_02 = """
import json
from kafka import KafkaProducer
from kafka.partitioner import Partitioner, murmur2
from kafka.serializer import DefaultSerializer, Serializer


class JsonValueSerializer(Serializer):
    def serialize(self, topic, headers, data):
        return json.dumps(data).encode("utf-8")
"""

_LESSON_05_IMPORTS = """
import json
import time
from kafka import KafkaConsumer, TopicPartition
from kafka.serializer import DefaultSerializer, Deserializer
"""

_LESSON_06 = """
import time
from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition
"""

_LESSON_08 = """
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import OffsetSpec
"""

_LESSON_09 = """
from kafka import AsyncConsumerRebalanceListener, OffsetAndMetadata, TopicPartition
"""


def _notebook_definition(lesson_id: str, name: str) -> str:
    """The source of the notebook cell that defines ``name`` (a class or a function), without
    the lines that call it."""
    for cell in solution_notebook(manifest.lesson(lesson_id).source_notebook).cells:
        if cell.cell_type == "code" and (
            f"def {name}(" in cell.source or f"class {name}(" in cell.source
        ):
            return "\n".join(
                line for line in cell.source.splitlines() if not line.startswith(f"{name}().")
            )
    raise KeyError(name)


def _lesson_05() -> str:
    # The deserializer and the `caught_up` helper come from the notebook itself.
    return "\n".join(
        [
            _LESSON_05_IMPORTS,
            _notebook_definition("05", "JsonDeserializer"),
            _notebook_definition("05", "caught_up"),
        ]
    )


def _lesson_10() -> str:
    # The exercise-setup cell: the imports, CreditRefused, to_fahrenheit and is_fenced.
    return _notebook_definition("10", "is_fenced")


# Lessons whose exercises use nothing beyond lesson 01's imports share its prelude.
_PRELUDES: dict[str, str | Callable[[], str]] = {
    "01": _LESSON_01,
    "02": _LESSON_02,
    "05": _lesson_05,
    "06": _LESSON_06,
    "08": _LESSON_08,
    "09": _LESSON_09,
    "10": _lesson_10,
    "11": CLINIC_IMPORTS,  # lesson 11's imports cell
}
PRELUDE = _LESSON_01


def prelude(lesson_id: str) -> str:
    found = _PRELUDES.get(lesson_id, _LESSON_01)
    return found() if callable(found) else found


def define(code: str, name: str, lesson_id: str = "01"):
    """Run ``code`` after the lesson's prelude; the object it defines under ``name``."""
    scope: dict = {}
    exec(prelude(lesson_id), scope)
    exec(code, scope)
    return scope[name]


def _exercise_cell(notebook, spec: manifest.ExerciseSpec) -> str:
    for cell in notebook.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == spec.solution_grade_id:
            return cell.source
    raise KeyError(spec.id)


def solution_source(exercise_id: str, lesson_id: str = "01") -> str:
    """The reference solution's cell, as the source notebook holds it."""
    lesson = manifest.lesson(lesson_id)
    return _exercise_cell(solution_notebook(lesson.source_notebook), lesson.exercise(exercise_id))


def solution(exercise_id: str, lesson_id: str = "01"):
    """The reference solution, defined after the lesson's prelude."""
    spec = manifest.lesson(lesson_id).exercise(exercise_id)
    return define(solution_source(exercise_id, lesson_id), spec.function, lesson_id)


def starter(exercise_id: str, lesson_id: str = "01"):
    """The untouched stub a learner opens, from the released notebook: it raises
    NotImplementedError."""
    lesson = manifest.lesson(lesson_id)
    spec = lesson.exercise(exercise_id)
    released = nbformat.read(RELEASE_DIR / lesson.slug / lesson.notebook_name, as_version=4)
    return define(_exercise_cell(released, spec), spec.function, lesson_id)


def wrong_answers(lesson_id: str = "01") -> Iterator[tuple[str, str, Callable]]:
    """(exercise id, wrong answer name, function) for every wrong answer of the lesson."""
    for spec in manifest.lesson(lesson_id).exercises:
        for wrong in spec.wrong_answers:
            yield spec.id, wrong.name, define(wrong.code, spec.function, lesson_id)


def wrong_answer(exercise_id: str, name: str, lesson_id: str = "01") -> Callable:
    """One wrong answer of the manifest, by its exercise and name."""
    spec = manifest.lesson(lesson_id).exercise(exercise_id)
    for wrong in spec.wrong_answers:
        if wrong.name == name:
            return define(wrong.code, spec.function, lesson_id)
    raise KeyError(f"{exercise_id} has no wrong answer {name!r}")


class LessonCode(NamedTuple):
    define: Callable
    solution: Callable
    wrong_answers: Callable


def for_lesson(lesson_id: str) -> LessonCode:
    """``define``, ``solution`` and ``wrong_answers`` bound to one lesson."""
    return LessonCode(
        lambda code, name: define(code, name, lesson_id),
        lambda exercise_id: solution(exercise_id, lesson_id),
        lambda: wrong_answers(lesson_id),
    )
