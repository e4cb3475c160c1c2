"""Lesson 08's learner code taken from the course's own files, for tests that call it directly.

The prelude is what the notebook imports before its exercise; the solution comes from the
source notebook and wrong answers from the manifest, so tests and lesson never drift apart.
"""

from __future__ import annotations

from autograder import manifest
from autograder.release import solution_notebook

LESSON = "08"

PRELUDE = '''
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import OffsetSpec
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
    """(exercise id, wrong answer name, function) for every lesson 08 wrong answer."""
    for spec in manifest.lesson(LESSON).exercises:
        for wrong in spec.wrong_answers:
            yield spec.id, wrong.name, define(wrong.code, spec.function)
