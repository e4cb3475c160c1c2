"""The course's files agree with each other: manifest, judges, notebooks, release, solutions."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import nbformat
import pytest
from kafka import KafkaConsumer, KafkaProducer

from autograder.authoring import release
from autograder.grading import manifest
from autograder.grading.exercises import EXERCISES
from autograder.grading.paths import REPO_ROOT

LESSONS = manifest.load()


def _cells(nb):
    return {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}


def test_every_manifest_exercise_has_a_judge_and_every_judge_is_declared():
    declared = {e.id for lesson in LESSONS for e in lesson.exercises}
    assert declared == set(EXERCISES)


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.slug)
def test_each_exercise_has_an_open_solution_cell_and_a_locked_check_cell(lesson):
    cells = _cells(nbformat.read(lesson.source_notebook, as_version=4))
    for exercise in lesson.exercises:
        answer, check = cells[exercise.solution_grade_id], cells[exercise.check_grade_id]
        assert answer.metadata.nbgrader["solution"] and not answer.metadata.nbgrader["locked"]
        assert f"def {exercise.function}(" in answer.source
        assert "### BEGIN SOLUTION" in answer.source
        assert check.metadata.nbgrader["locked"] and check.metadata.nbgrader["grade"]
        assert check.metadata.nbgrader["points"] == exercise.points
        assert check.source.strip() == f'course.check("{exercise.id}", {exercise.function})'


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.slug)
def test_every_exercise_has_at_least_one_wrong_answer(lesson):
    assert all(exercise.wrong_answers for exercise in lesson.exercises)


@pytest.mark.slow  # nbgrader generates every lesson's release
def test_release_and_solutions_are_generated_from_the_source():
    assert release.drift() == []


def test_the_release_holds_no_solution():
    for lesson in LESSONS:
        text = (REPO_ROOT / "notebooks" / lesson.slug / lesson.notebook_name).read_text()
        assert "BEGIN SOLUTION" not in text
        assert text.count("raise NotImplementedError()") >= len(lesson.exercises)


def test_committed_notebooks_carry_no_outputs_or_execution_counts():
    tracked = subprocess.run(
        ["git", "ls-files", "*.ipynb"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert tracked, "no notebooks tracked by git"
    for path in tracked:
        for cell in json.loads((REPO_ROOT / path).read_text())["cells"]:
            if cell["cell_type"] == "code":
                assert not cell["outputs"] and cell["execution_count"] is None, path


@pytest.mark.slow  # nbgrader generates every lesson's release
def test_release_check_command_reports_no_drift():
    done = subprocess.run(
        [sys.executable, "-m", "autograder.cli", "release", "--check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "match course/source" in done.stdout


# A settings table row in any lesson: | `kafka.name` | `kafka_python_keyword` | `default` | ...
SETTINGS_ROW = re.compile(r"\| `([a-z.]+)` \| `([a-z_]+)` \| `([^`]+)`")
# Lessons 01-04 are about the producer, 05-09 about the consumer, 10 about both.
TABLE_ROWS_AT_LEAST = {"01": 10, "03": 3, "04": 7, "05": 10, "07": 7, "08": 5, "09": 8, "10": 10}


def _clients_of(lesson_id: str) -> tuple[type, ...]:
    """The kafka-python classes whose settings a lesson's table states, in lookup order."""
    if lesson_id < "05":
        return (KafkaProducer,)
    if lesson_id < "10":
        return (KafkaConsumer,)
    return (KafkaProducer, KafkaConsumer)


@pytest.mark.parametrize("lesson_id", sorted(TABLE_ROWS_AT_LEAST))
def test_the_settings_tables_state_kafka_pythons_real_defaults(lesson_id):
    source = json.dumps(json.loads(manifest.lesson(lesson_id).source_notebook.read_text()))
    rows = SETTINGS_ROW.findall(source)
    assert len(rows) >= TABLE_ROWS_AT_LEAST[lesson_id]
    for kafka_name, keyword, stated in rows:
        owners = [c for c in _clients_of(lesson_id) if keyword in c.DEFAULT_CONFIG]
        assert owners, keyword
        actual = owners[0].DEFAULT_CONFIG[keyword]
        assert stated in (repr(actual), str(actual)), (kafka_name, stated, actual)
