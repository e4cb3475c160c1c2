"""Lesson 02's learner code taken from the course's own files, for tests that call it directly.

The prelude is what the notebook defines before its exercises; solutions come from the source
notebook and wrong answers from the manifest, so tests and lesson never drift apart.
"""

from __future__ import annotations

from autograder import manifest
from autograder.release import solution_notebook

LESSON = "02"

PRELUDE = '''
import json
from kafka import KafkaProducer
from kafka.partitioner import Partitioner, murmur2
from kafka.serializer import DefaultSerializer, Serializer


class JsonValueSerializer(Serializer):
    def serialize(self, topic, headers, data):
        return json.dumps(data).encode("utf-8")
'''


def define(code: str, name: str):
    """Run ``code`` after the prelude; the object it defines under ``name``."""
    scope: dict = {}
    exec(PRELUDE, scope)
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
    """(exercise id, wrong answer name, function) for every lesson 02 wrong answer."""
    for spec in manifest.lesson(LESSON).exercises:
        for wrong in spec.wrong_answers:
            yield spec.id, wrong.name, define(wrong.code, spec.function)
