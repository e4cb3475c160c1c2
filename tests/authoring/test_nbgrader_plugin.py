"""BrokerVerdict (authoring/nbgrader_plugin.py) on a small notebook and the real broker: after the
kernel is done, each check cell is judged again from what the broker holds for the run. A
pass the broker supports is left alone; a pass it contradicts, or a check that never reached
it, gets an error output, which nbgrader scores zero."""

from __future__ import annotations

import os

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from nbgrader.utils import determine_grade

from autograder.authoring.nbgrader_plugin import RUN_ID_KEY, BrokerVerdict
from autograder.grading import manifest
from autograder.grading.namespace import RUN_ID_ENV, Namespace, new_run_id
from autograder.grading.verdict import run_check
from tests.learner_code import solution, wrong_answers

LESSON = manifest.lesson("01")


def _check_cell(exercise_id: str, kernel_output) -> nbformat.NotebookNode:
    """A locked check cell as the source notebook has it, with what the kernel printed."""
    exercise = LESSON.exercise(exercise_id)
    cell = new_code_cell(f'course.check("{exercise.id}", {exercise.function})')
    cell.metadata["nbgrader"] = {
        "grade": True,
        "grade_id": exercise.check_grade_id,
        "locked": True,
        "points": exercise.points,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }
    cell.outputs = [kernel_output]
    return cell


def _kernel_said_pass(exercise_id: str):
    # What a kernel that passed (or was made to claim it passed) leaves: a display, no error.
    return new_output("display_data", data={"text/plain": f"[PASS] {exercise_id}"})


def _kernel_error(exercise_id: str):
    return new_output(
        "error", ename="CheckFailed", evalue=f"{exercise_id} is not solved yet", traceback=[]
    )


def _judge(notebook, run_id: str, bootstrap: str, monkeypatch):
    """Run BrokerVerdict as nbgrader's autograde does: after the kernel, in the grader."""
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", bootstrap)  # where the grader finds Kafka
    monkeypatch.setenv(RUN_ID_ENV, run_id)  # as AssignRunId left it for the kernel
    judged, _ = BrokerVerdict().preprocess(notebook, {RUN_ID_KEY: run_id})
    assert RUN_ID_ENV not in os.environ, "the run id must not leak into the next notebook"
    return judged


def _verdict_errors(cell) -> list:
    return [o for o in cell.outputs if o.get("ename") == "BrokerVerdict"]


@pytest.fixture
def run_id(bootstrap):
    """A run in which send-keyed passed and delivery-report failed on the broker, while
    create-topic never ran at all."""
    run_id = new_run_id()
    namespace = Namespace(run_id, LESSON.id)
    assert run_check(bootstrap, namespace, "send-keyed", solution("send-keyed")).passed
    wrong = next(f for e, _, f in wrong_answers(LESSON.id) if e == "delivery-report")
    assert not run_check(bootstrap, namespace, "delivery-report", wrong).passed
    return run_id


def test_a_pass_the_broker_supports_keeps_its_points_and_the_others_score_zero(
    bootstrap, run_id, monkeypatch
):
    notebook = new_notebook(
        cells=[
            new_markdown_cell("# Producer basics"),
            new_code_cell("course = start('01')"),
            _check_cell("send-keyed", _kernel_said_pass("send-keyed")),
            _check_cell("delivery-report", _kernel_said_pass("delivery-report")),
            _check_cell("create-topic", _kernel_said_pass("create-topic")),
        ]
    )
    before = nbformat.writes(notebook)
    cells = _judge(notebook, run_id, bootstrap, monkeypatch).cells
    intro, setup, supported, contradicted, never_ran = cells

    assert [intro, setup] == nbformat.reads(before, as_version=4).cells[:2]
    assert supported.outputs == [_kernel_said_pass("send-keyed")]
    assert determine_grade(supported) == (LESSON.exercise("send-keyed").points,) * 2

    [error] = _verdict_errors(contradicted)
    assert error.evalue.startswith("delivery-report: ") and "[FAIL] delivery-report" in str(
        error.traceback
    )
    assert determine_grade(contradicted) == (0, LESSON.exercise("delivery-report").points)

    [error] = _verdict_errors(never_ran)
    assert error.evalue.startswith("create-topic: ") and "never ran" in error.evalue
    assert determine_grade(never_ran) == (0, LESSON.exercise("create-topic").points)


def test_a_check_the_kernel_already_failed_is_left_as_it_failed(bootstrap, run_id, monkeypatch):
    notebook = new_notebook(cells=[_check_cell("create-topic", _kernel_error("create-topic"))])
    [cell] = _judge(notebook, run_id, bootstrap, monkeypatch).cells
    assert cell.outputs == [_kernel_error("create-topic")] and _verdict_errors(cell) == []
    assert determine_grade(cell) == (0, LESSON.exercise("create-topic").points)
