"""Lesson 11's notebook and the drills agree: the broken programs it shows are the wrong answers
the gate proves wrong (and the fix drills hand out), and its imports cell is the one a fix drill
runs a learner's program after."""

from __future__ import annotations

import ast

import nbformat
import pytest

from autograder.drills import session
from autograder.grading import manifest

LESSON = manifest.lesson("11")
CELLS = nbformat.read(LESSON.source_notebook, as_version=4).cells


def _definition(code: str, name: str) -> str | None:
    """The AST of the function ``name`` in ``code``, without its docstring; None if absent."""
    for node in ast.parse(code).body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            if ast.get_docstring(node) is not None:
                node.body = node.body[1:]
            return ast.dump(node, include_attributes=False)
    return None


@pytest.mark.parametrize("exercise", LESSON.exercises, ids=lambda e: e.id)
def test_the_broken_program_the_notebook_shows_is_the_as_given_wrong_answer(exercise):
    as_given = [w for w in exercise.wrong_answers if w.name.startswith(session.AS_GIVEN)]
    assert len(as_given) == 1, f"{exercise.id}: one wrong answer 'the program as given: ...'"
    wanted = _definition(as_given[0].code, exercise.function)
    shown = [
        cell
        for cell in CELLS
        if cell.cell_type == "code"
        and not cell.metadata.get("nbgrader", {}).get("solution")
        and _definition(cell.source, exercise.function) == wanted
    ]
    assert shown, f"{exercise.id}: no locked cell shows the program as given"


def test_the_notebooks_imports_cell_is_the_one_fix_drills_use():
    sources = [cell.source.strip() for cell in CELLS if cell.cell_type == "code"]
    assert session.CLINIC_IMPORTS.strip() in sources
