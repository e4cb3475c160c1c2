"""Executing a lesson notebook the way a learner's kernel would, and reading its check cells.

``execute(nb, bootstrap)`` runs every cell; ``execute(nb, bootstrap, only_exercises=True)`` runs
only the cells the exercises need (authoring/exercise_cells.py), demonstrations left out.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from autograder.authoring.exercise_cells import ClientForExercises, is_needed
from autograder.grading.namespace import new_run_id

CELL_TIMEOUT_S = 120


@dataclass(frozen=True)
class CheckCell:
    """What a check cell showed after it ran."""

    grade_id: str
    errors: tuple[dict, ...]
    stderr: str
    text: str  # every display and stream output, as plain text or HTML

    @property
    def passed(self) -> bool:
        return not self.errors and not self.stderr

    @property
    def failed_with_guidance(self) -> bool:
        """Failed, explained itself (expected, found, hint) and printed no traceback."""
        if not self.errors or self.stderr:
            return False
        tracebacks = "\n".join("\n".join(e.get("traceback", [])) for e in self.errors)
        explained = all(word in self.text for word in ("expected", "found", "hint"))
        return (
            explained
            and "Traceback (most recent call last)" not in tracebacks
            and all(e.get("ename") == "CheckFailed" for e in self.errors)
        )


def _text(outputs) -> str:
    parts = []
    for output in outputs:
        if output.get("output_type") == "stream":
            parts.append(output.get("text", ""))
        data = output.get("data", {})
        parts.append(data.get("text/html", "") + data.get("text/plain", ""))
    return "\n".join(parts)


def execute(nb, bootstrap: str, run_id: str | None = None, only_exercises: bool = False):
    """Run every cell of ``nb`` in a fresh kernel against ``bootstrap``; errors do not stop it.

    With ``only_exercises``, cells the exercises do not need are skipped (left without outputs).
    It sets this process's environment while it runs: one execution per process at a time.
    """
    saved = {k: os.environ.get(k) for k in ("KAFKA_BOOTSTRAP_SERVERS", "KAFKA_COURSE_RUN_ID")}
    os.environ["KAFKA_BOOTSTRAP_SERVERS"] = bootstrap
    # Always a run id, as nbgrader gives one: the run's names are its own, and an execution
    # that is not a learner's records nothing in the learner's progress.
    os.environ["KAFKA_COURSE_RUN_ID"] = run_id or new_run_id()
    try:
        with tempfile.TemporaryDirectory() as workdir:
            client = (ClientForExercises if only_exercises else NotebookClient)(
                nb,
                timeout=CELL_TIMEOUT_S,
                kernel_name="python3",
                allow_errors=True,
                resources={"metadata": {"path": workdir}},
            )
            client.execute()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return nb


def check_cells(nb) -> dict[str, CheckCell]:
    """grade_id -> what each graded cell showed."""
    cells = {}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade"):
            outputs = cell.get("outputs", [])
            cells[meta["grade_id"]] = CheckCell(
                grade_id=meta["grade_id"],
                errors=tuple(o for o in outputs if o.get("output_type") == "error"),
                stderr="".join(
                    o.get("text", "")
                    for o in outputs
                    if o.get("output_type") == "stream" and o.get("name") == "stderr"
                ),
                text=_text(outputs),
            )
    return cells


def other_cell_errors(nb) -> list[str]:
    """Errors in cells that are not graded: a demo or a setup cell that broke."""
    problems = []
    for index, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or meta.get("grade"):
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                problems.append(f"cell {index}: {output.get('ename')}: {output.get('evalue')}")
    return problems


def exercise_setup_errors(nb) -> list[str]:
    """Errors in the cells the exercises need that are neither a solution nor a check: the
    setup a reduced run depends on, broken."""
    problems = []
    for index, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not is_needed(cell) or meta.get("grade") or meta.get("solution"):
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                problems.append(f"cell {index}: {output.get('ename')}: {output.get('evalue')}")
    return problems


def replace_solution(nb, grade_id: str, code: str):
    """A copy of ``nb`` whose solution cell ``grade_id`` holds ``code`` instead."""
    copy = nbformat.from_dict(nb)
    for cell in copy.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source = code
            return copy
    raise KeyError(f"no cell with grade_id {grade_id!r}")


def read(path: Path):
    return nbformat.read(path, as_version=4)
