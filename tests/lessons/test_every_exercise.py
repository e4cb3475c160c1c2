"""What every exercise of the manifest must do on the real broker, written once for all lessons:
the reference solution passes and the broker agrees when rejudged; every wrong answer fails with
expected, found and a hint that asks a question and ends with what to do; the untouched stub of
the released notebook fails as "not written yet". A lesson's own tests sit in its
test_lessonNN_checks.py; the runs are shared with them through the `verdicts` fixture."""

from __future__ import annotations

import pytest

from autograder.grading import manifest
from autograder.grading.verdict import rejudge

EXERCISES = [
    pytest.param(lesson.id, exercise.id, id=f"{lesson.id}:{exercise.id}")
    for lesson in manifest.load()
    for exercise in lesson.exercises
]
# Wrong answers whose records reach the broker after the function returned (a producer left
# open sends its batch once linger.ms is up): the kernel's verdict, taken on return, is the one
# that counts, and a later rejudge finds the records there. nbgrader never rejudges such a cell,
# since its check already failed in the kernel (see tests/authoring/test_nbgrader_plugin.py).
LAND_AFTER_RETURN = {("01", "send-keyed", "a producer kept for reuse, never flushed")}
WRONG_ANSWERS = [
    pytest.param(lesson.id, exercise.id, wrong.name, id=f"{lesson.id}:{exercise.id}:{wrong.name}")
    for lesson in manifest.load()
    for exercise in lesson.exercises
    for wrong in exercise.wrong_answers
]


@pytest.mark.parametrize("lesson, exercise", EXERCISES)
def test_reference_solution_passes_and_the_broker_agrees(bootstrap, verdicts, lesson, exercise):
    judged = verdicts.reference(lesson, exercise)
    assert judged.result.passed, str(judged.result)
    assert rejudge(bootstrap, judged.namespace, exercise).passed


@pytest.mark.parametrize("lesson, exercise, name", WRONG_ANSWERS)
def test_plausible_wrong_answer_fails_with_a_hint(bootstrap, verdicts, lesson, exercise, name):
    judged = verdicts.wrong(lesson, exercise, name)
    result = judged.result
    assert not result.passed, str(result)
    assert result.expected and result.found, str(result)
    assert result.hint.rstrip().endswith("."), result.hint
    assert "?" in result.hint, "a hint is a question that ends with what to do next"
    if (lesson, exercise, name) not in LAND_AFTER_RETURN:
        assert not rejudge(bootstrap, judged.namespace, exercise).passed


@pytest.mark.parametrize("lesson, exercise", EXERCISES)
def test_untouched_stub_fails_as_not_written_yet(verdicts, lesson, exercise):
    result = verdicts.starter(lesson, exercise).result
    assert not result.passed and result.summary == "not written yet", str(result)


def test_every_exception_to_the_rejudge_rule_is_a_wrong_answer_of_the_manifest():
    assert LAND_AFTER_RETURN <= {tuple(case.values) for case in WRONG_ANSWERS}
