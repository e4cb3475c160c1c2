"""Running only what a lesson's exercises need: its setup, solution and check cells.

A lesson's demonstrations are under test once, in the dev check's solution round (and by the
claim tests). Every other execution of a lesson (the starter, each wrong answer, each nbgrader
submission, and later a class's submissions) needs only the cells that make its checks run:

- cells tagged ``exercise-setup`` (``TAG``) in the source notebook: the setup cell and the ones
  the solutions lean on (imports, helpers such as lesson 01's ``JsonValueSerializer``). The tag
  is plain cell metadata, so nbgrader's release and the solutions keep it;
- every solution cell and every check cell (nbgrader's ``solution`` and ``grade`` flags);
- any cell the release does not know (no nbgrader metadata): one a learner added, which their
  solution may use.

A tag is easy to forget, so ``untagged_dependencies`` reads the code: a name a solution, a
check or a wrong answer uses that only an untagged cell defines is reported, and the dev check
and tests/authoring/test_exercise_cells.py fail on it. The dev check also proves it by running:
the reference solution earns full points in the reduced notebook.

Example:
    >>> client = ClientForExercises(nb, kernel_name="python3", allow_errors=True)
    >>> client.execute()  # demonstration cells keep no outputs
"""

from __future__ import annotations

import builtins
import symtable
from collections.abc import Iterable, Mapping

from IPython.core.inputtransformer2 import TransformerManager
from nbclient import NotebookClient
from nbgrader.preprocessors import Execute
from nbgrader.utils import is_grade, is_solution

TAG = "exercise-setup"

# Names a kernel has without any cell defining them.
_KERNEL_NAMES = frozenset(dir(builtins)) | {"display", "get_ipython", "__file__", "__name__"}


def is_needed(cell) -> bool:
    """Whether the exercises need this code cell run (see the module docstring)."""
    if cell.get("cell_type") != "code":
        return False
    if TAG in cell.get("metadata", {}).get("tags", ()):
        return True
    if "nbgrader" not in cell.get("metadata", {}):
        return True  # not in the release: a learner's own cell
    return bool(is_solution(cell) or is_grade(cell))


class _SkipsWhatExercisesDoNotNeed:
    """Mixed into an nbclient client: a cell the exercises do not need is left as it is (no
    outputs, no execution count: visibly not run)."""

    # Both entry points: nbclient's execute() awaits the async one, while nbconvert's (and so
    # nbgrader's) preprocess_cell calls execute_cell, which nbclient binds to its own async one.
    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if not is_needed(cell):
            return cell
        return await super().async_execute_cell(  # type: ignore[misc]
            cell, cell_index, execution_count, store_history
        )

    def execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if not is_needed(cell):
            return cell
        return super().execute_cell(  # type: ignore[misc]
            cell, cell_index, execution_count, store_history
        )


class ClientForExercises(_SkipsWhatExercisesDoNotNeed, NotebookClient):
    """nbclient's NotebookClient, running only the cells the exercises need."""


class ExecuteForExercises(_SkipsWhatExercisesDoNotNeed, Execute):
    """nbgrader's Execute preprocessor (same config section), running only what is needed."""


def for_exercises(preprocessors: Iterable[type]) -> list[type]:
    """An nbgrader preprocessor list with its Execute step replaced by ExecuteForExercises."""
    return [ExecuteForExercises if step is Execute else step for step in preprocessors]


# ---- reading the code: which cells a solution, a check or a wrong answer depends on ----


def _python(source: str) -> str:
    # IPython syntax (%magics, !shell) becomes plain Python before it is parsed.
    return TransformerManager().transform_cell(source)


def _bound_and_used(source: str) -> tuple[set[str], set[str]]:
    """Names a cell binds at the top level, and the top-level names it (or its functions) read."""
    try:
        table = symtable.symtable(_python(source), "<cell>", "exec")
    except SyntaxError:
        return set(), set()
    bound = {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}
    used = {s.get_name() for s in table.get_symbols() if s.is_referenced()}
    pending = list(table.get_children())
    while pending:  # functions, classes, lambdas and comprehensions: what they read globally
        child = pending.pop()
        used |= {s.get_name() for s in child.get_symbols() if s.is_global() and s.is_referenced()}
        pending += child.get_children()
    return bound, used - _KERNEL_NAMES


def _label(cell, index: int) -> str:
    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    return f"cell {index}" + (f" ({grade_id})" if grade_id else "")


def untagged_dependencies(nb, alternatives: Mapping[str, Iterable[str]] | None = None) -> list[str]:
    """What the exercises read from a cell they would skip: one line per missing tag.

    Starting from every needed cell (and every alternative code for a solution cell, keyed by
    its grade_id: the wrong answers), each name read is traced to the last earlier cell that
    binds it, as a kernel running top to bottom would see it; a cell found that way is needed
    too, and is traced in turn. Empty when every such cell is needed.
    """
    alternatives = dict(alternatives or {})
    cells = [c for c in nb.cells if c.get("cell_type") == "code"]
    indices = [i for i, c in enumerate(nb.cells) if c.get("cell_type") == "code"]
    bindings = [_bound_and_used(c.source) for c in cells]
    roots: list[tuple[int, set[str], str]] = []  # (position, names read, whose)
    for pos, cell in enumerate(cells):
        if is_needed(cell):
            roots.append((pos, bindings[pos][1] - bindings[pos][0], _label(cell, indices[pos])))
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        for code in alternatives.get(grade_id, ()):
            bound, used = _bound_and_used(code)
            roots.append((pos, used - bound, f"a wrong answer for {grade_id}"))
    problems, traced = [], set()
    while roots:
        pos, names, whose = roots.pop()
        for name in sorted(names):
            source = next((p for p in range(pos - 1, -1, -1) if name in bindings[p][0]), None)
            if source is None or (source, name) in traced:
                continue
            traced.add((source, name))
            if not is_needed(cells[source]):
                problems.append(
                    f"{_label(cells[source], indices[source])} defines {name!r}, which {whose} "
                    f"uses: tag that cell {TAG!r}"
                )
            reader = _label(cells[source], indices[source])
            roots.append((source, bindings[source][1] - bindings[source][0], reader))
    return sorted(set(problems))
