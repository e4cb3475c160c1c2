"""Running only what the exercises need (authoring/exercise_cells.py): which cells, and proof
that both nbclient and nbgrader's Execute leave the others alone. No broker: the kernels here
run plain Python."""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from traitlets.config import Config

from autograder.authoring import exercise_cells
from autograder.authoring.exercise_cells import (
    TAG,
    ClientForExercises,
    ExecuteForExercises,
    untagged_dependencies,
)
from autograder.authoring.nbgrader_plugin import AUTOGRADE_PREPROCESSORS
from autograder.grading import manifest
from autograder.grading.paths import RELEASE_DIR, SOLUTIONS_DIR

LESSONS = manifest.load()


def _locked(source: str, grade_id: str, tagged: bool = False, **nbgrader):
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {
        "grade": False,
        "grade_id": grade_id,
        "locked": True,
        "schema_version": 3,
        "solution": False,
        "task": False,
        **nbgrader,
    }
    if tagged:
        cell.metadata["tags"] = [TAG]
    return cell


def _lesson_like(helper_tagged: bool = True):
    """Setup, a helper the solution uses, a demonstration, the solution and its check."""
    return new_notebook(
        cells=[
            new_markdown_cell("# A lesson"),
            _locked("course = {'answer': 41}", "code-01", tagged=True),
            _locked("import math\ndef bump(n):\n    return n + 1", "code-02", tagged=helper_tagged),
            _locked("demo = bump(course['answer']) / 0", "code-03"),
            _locked(
                "def solve():\n    return bump(course['answer'])",
                "solve",
                locked=False,
                solution=True,
            ),
            _locked("assert solve() == 42, solve()", "check-solve", grade=True, points=1),
        ]
    )


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.slug)
def test_every_cell_the_solutions_checks_and_wrong_answers_read_is_tagged(lesson):
    alternatives = {
        e.solution_grade_id: [wrong.code for wrong in e.wrong_answers] for e in lesson.exercises
    }
    source = nbformat.read(lesson.source_notebook, as_version=4)
    assert untagged_dependencies(source, alternatives) == []


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.slug)
def test_the_tag_survives_into_the_release_and_the_solutions(lesson):
    def tagged(path):
        nb = nbformat.read(path, as_version=4)
        return [c.metadata.nbgrader.grade_id for c in nb.cells if TAG in c.metadata.get("tags", ())]

    in_source = tagged(lesson.source_notebook)
    assert in_source, "every lesson has at least its setup cell tagged"
    assert tagged(RELEASE_DIR / lesson.slug / lesson.notebook_name) == in_source
    assert tagged(SOLUTIONS_DIR / lesson.slug / lesson.notebook_name) == in_source


def test_an_untagged_helper_is_named_with_what_reads_it():
    assert untagged_dependencies(_lesson_like(helper_tagged=True)) == []
    [problem] = untagged_dependencies(_lesson_like(helper_tagged=False))
    assert problem.startswith("cell 2 (code-02) defines 'bump', which cell 4 (solve) uses")
    assert TAG in problem


def test_a_wrong_answer_reading_an_untagged_cell_is_reported():
    nb = _lesson_like()
    wrong = "def solve():\n    return int(demo)"
    [problem] = untagged_dependencies(nb, {"solve": [wrong]})
    assert "cell 3 (code-03) defines 'demo', which a wrong answer for solve uses" in problem


def test_needed_cells_are_tagged_solutions_checks_and_cells_the_release_does_not_know():
    cells = _lesson_like(helper_tagged=False).cells + [new_code_cell("mine = 1")]
    needed = [exercise_cells.is_needed(cell) for cell in cells]
    assert needed == [False, True, False, False, True, True, True]


def test_nbclient_runs_only_what_the_exercises_need():
    nb = _lesson_like()
    ClientForExercises(nb, kernel_name="python3", allow_errors=True).execute()
    setup, helper, demo, solution, check = nb.cells[1:]
    assert demo.outputs == [] and demo.execution_count is None  # never ran: no ZeroDivision
    assert all(cell.execution_count for cell in (setup, helper, solution, check))
    assert not [o for o in check.outputs if o.output_type == "error"]


def test_nbgrader_execute_runs_only_what_the_exercises_need_with_its_config():
    step = ExecuteForExercises(config=Config({"Execute": {"timeout": 77}}))
    assert step.timeout == 77  # the course's `c.Execute` settings still apply
    nb, _ = step.preprocess(_lesson_like(), {"metadata": {"path": "."}})
    demo, check = nb.cells[3], nb.cells[5]
    assert demo.outputs == [] and demo.execution_count is None
    assert check.execution_count and not [o for o in check.outputs if o.output_type == "error"]


def test_the_round_trip_swaps_only_nbgraders_execute_step():
    from nbgrader.preprocessors import Execute

    swapped = exercise_cells.for_exercises(AUTOGRADE_PREPROCESSORS)
    assert Execute in AUTOGRADE_PREPROCESSORS and Execute not in swapped
    assert swapped == [ExecuteForExercises if p is Execute else p for p in AUTOGRADE_PREPROCESSORS]
