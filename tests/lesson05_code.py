"""Lesson 05's learner code taken from the course's own files, for tests that call it directly.

The prelude is what the notebook defines before its exercises (the JSON deserializer and the
`caught_up` helper, taken from the source notebook itself); solutions come from the source
notebook and wrong answers from the manifest, so tests and lesson never drift apart.
"""

from __future__ import annotations

from autograder import manifest
from autograder.release import solution_notebook

LESSON = "05"

IMPORTS = '''
import json
import time
from kafka import KafkaConsumer, TopicPartition
from kafka.serializer import DefaultSerializer, Deserializer
'''


def _notebook_definition(name: str) -> str:
    """The source of the notebook cell that defines ``name`` (a class or a function)."""
    for cell in solution_notebook(manifest.lesson(LESSON).source_notebook).cells:
        if cell.cell_type == "code" and (f"def {name}(" in cell.source
                                         or f"class {name}(" in cell.source):
            return "\n".join(line for line in cell.source.splitlines()
                             if not line.startswith("JsonDeserializer()."))
    raise KeyError(name)


def prelude() -> str:
    return "\n".join([IMPORTS, _notebook_definition("JsonDeserializer"),
                      _notebook_definition("caught_up")])


def define(code: str, name: str):
    """Run ``code`` after the prelude; the object it defines under ``name``."""
    scope: dict = {}
    exec(prelude(), scope)
    exec(code, scope)
    return scope[name]


def solution(exercise_id: str):
    lesson = manifest.lesson(LESSON)
    spec = lesson.exercise(exercise_id)
    for cell in solution_notebook(lesson.source_notebook).cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == spec.id:
            return define(cell.source, spec.function)
    raise KeyError(exercise_id)


def wrong_answers():
    """(exercise id, wrong answer name, function) for every lesson 05 wrong answer."""
    for spec in manifest.lesson(LESSON).exercises:
        for wrong in spec.wrong_answers:
            yield spec.id, wrong.name, define(wrong.code, spec.function)
