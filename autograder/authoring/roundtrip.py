"""nbgrader end to end on a throwaway copy of the course: release, submit, autograde, export.

Four submissions per lesson: the untouched release, the reference solution, an untouched
release whose notebook redefines the check to always pass, and one whose code kills its own
kernel. Only the reference may earn points, and the crash must not stop the others' grading.

The throwaway course autogrades only the cells the exercises need (authoring/exercise_cells.py):
the demonstrations are under test in the dev check's solution round, and the reference earning
full points here proves that the reduced notebook holds everything its solutions lean on.
"""

from __future__ import annotations

import csv
import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import nbformat
from sqlalchemy.exc import SAWarning

from autograder.authoring.release import NbgraderCourse, copy_course, solution_notebook
from autograder.grading import manifest

# Appended to the first solution cell: what a learner might try to get points for nothing.
REDEFINE_CHECK = """

from IPython.display import HTML, display
import autograder.notebook.display, autograder.grading.verdict
def _always_pass(*args, **kwargs):
    display(HTML("<b>✔ passed</b>"))
course.check = _always_pass
autograder.notebook.display.report = lambda result: None
autograder.grading.verdict.run_check = lambda *args, **kwargs: None
"""

# Appended to the first solution cell: learner code that takes the whole kernel down.
CRASH_KERNEL = "\n\nimport os\nos._exit(1)\n"

# Appended to the throwaway course's nbgrader_config.py: nbgrader's Execute step, reduced.
ONLY_EXERCISES_CONFIG = """

from autograder.authoring.exercise_cells import for_exercises

c.Autograde.autograde_preprocessors = for_exercises(AUTOGRADE_PREPROCESSORS)
"""

STUDENTS = ("untouched", "reference", "redefines-check", "crashes-kernel")


@dataclass(frozen=True)
class Score:
    score: float
    max_score: float


def _grade_id(cell) -> str:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")


def _submission(release, student: str, lesson: manifest.LessonSpec):
    nb = nbformat.from_dict(release)
    if student == "reference":
        solved = {_grade_id(c): c.source for c in solution_notebook(lesson.source_notebook).cells}
        for cell in nb.cells:
            if cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
                cell.source = solved[_grade_id(cell)]
    else:
        first = next(
            c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("solution")
        )
        first.source += {
            "redefines-check": REDEFINE_CHECK,
            "crashes-kernel": CRASH_KERNEL,
            "untouched": "",
        }[student]
    return nb


def autograde_lesson(
    lesson: manifest.LessonSpec,
    only_exercises: bool = True,
    students: tuple[str, ...] = STUDENTS,
) -> dict[str, Score]:
    """Autograde the submissions of ``lesson``; student -> score read back from export.

    ``only_exercises`` runs nbgrader's Execute step on the cells the exercises need; without it,
    every cell runs under the course's own configuration, exactly as an instructor's
    `nbgrader autograde` does.

    nbgrader runs in this process and sets its environment (the run id of each submission):
    one call at a time per process.
    """
    with tempfile.TemporaryDirectory() as scratch:
        root = copy_course(Path(scratch) / "course")
        if only_exercises:
            with open(root / "nbgrader_config.py", "a") as config:
                config.write(ONLY_EXERCISES_CONFIG)
        with warnings.catch_warnings():
            # nbgrader's gradebook trips SQLAlchemy's autoflush warnings on every submission.
            warnings.simplefilter("ignore", SAWarning)
            scores, feedback = _grade(NbgraderCourse(root), lesson, students)
    missing = [student for student, made in feedback.items() if not made]
    if missing:
        raise RuntimeError(f"nbgrader wrote no feedback for {missing}")
    return scores


def _grade(course: NbgraderCourse, lesson: manifest.LessonSpec, students: tuple[str, ...]):
    """Release, submit, autograde, feedback, export: the scores, and who got feedback."""
    root = course.root
    course.generate_assignment(lesson.slug)
    release = nbformat.read(root / "release" / lesson.slug / lesson.notebook_name, 4)
    for student in students:
        folder = root / "submitted" / student / lesson.slug
        folder.mkdir(parents=True)
        nbformat.write(_submission(release, student, lesson), folder / lesson.notebook_name)
    log = course.autograde_all(lesson.slug)
    # nbgrader names each submission it could not run; only the crashing one may be there.
    unrun = set(re.findall(r"error processing assignment '[^']*' for student '([^']*)'", log))
    if unrun - {"crashes-kernel"}:
        raise RuntimeError(f"nbgrader could not autograde {sorted(unrun)}:\n{log[-3000:]}")
    course.generate_feedback(lesson.slug)
    course.export_csv(root / "grades.csv")
    with open(root / "grades.csv", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["assignment"] == lesson.slug]
    scores = {
        row["student_id"]: Score(float(row["score"]), float(row["max_score"])) for row in rows
    }
    feedback = {
        student: (root / "feedback" / student / lesson.slug).is_dir()
        for student in students
        if student != "crashes-kernel"
    }
    return scores, feedback
