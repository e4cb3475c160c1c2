"""Lesson 01's learner code taken from the course's own files, for tests that call it directly.

The prelude is what the notebook defines before its exercises; solutions come from the source
notebook and wrong answers from the manifest, so tests and lesson never drift apart.
"""

from __future__ import annotations

from autograder import manifest
from autograder.release import solution_notebook

PRELUDE = '''
import json
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError
from kafka.serializer import DefaultSerializer, Serializer


class JsonValueSerializer(Serializer):
    def serialize(self, topic, headers, data):
        return json.dumps(data).encode("utf-8")
'''


def _define(code: str, name: str):
    scope: dict = {}
    exec(PRELUDE, scope)
    exec(code, scope)
    return scope[name]


def solution(exercise_id: str, lesson_id: str = "01"):
    lesson = manifest.lesson(lesson_id)
    spec = lesson.exercise(exercise_id)
    for cell in solution_notebook(lesson.source_notebook).cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == spec.id:
            return _define(cell.source, spec.function)
    raise KeyError(exercise_id)


def wrong_answers(lesson_id: str = "01"):
    """(exercise id, wrong answer name, function) for every wrong answer in the manifest."""
    for spec in manifest.lesson(lesson_id).exercises:
        for wrong in spec.wrong_answers:
            yield spec.id, wrong.name, _define(wrong.code, spec.function)
