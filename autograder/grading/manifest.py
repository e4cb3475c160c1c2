"""The one manifest: which lessons exist, their exercises, points, hints and wrong answers.

The CLI, the checks, `dev check` and the tests all read course/manifest.yml through here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from autograder.grading.paths import MANIFEST_FILE, SOURCE_DIR


@dataclass(frozen=True)
class WrongAnswer:
    name: str
    code: str


@dataclass(frozen=True)
class ExerciseSpec:
    id: str
    function: str
    points: int
    hint: str
    wrong_answers: tuple[WrongAnswer, ...]

    @property
    def solution_grade_id(self) -> str:
        return self.id

    @property
    def check_grade_id(self) -> str:
        return f"check-{self.id}"


@dataclass(frozen=True)
class LessonSpec:
    id: str
    slug: str
    title: str
    exercises: tuple[ExerciseSpec, ...]

    @property
    def source_notebook(self) -> Path:
        return SOURCE_DIR / self.slug / f"{self.slug}.ipynb"

    @property
    def notebook_name(self) -> str:
        return f"{self.slug}.ipynb"

    def exercise(self, exercise_id: str) -> ExerciseSpec:
        for exercise in self.exercises:
            if exercise.id == exercise_id:
                return exercise
        raise KeyError(f"lesson {self.id} has no exercise {exercise_id!r}")


@cache
def load(path: Path = MANIFEST_FILE) -> tuple[LessonSpec, ...]:
    data = yaml.safe_load(path.read_text())
    lessons = sorted(data["lessons"], key=lambda entry: str(entry["id"]))
    return tuple(
        LessonSpec(
            id=str(lesson["id"]),
            slug=lesson["slug"],
            title=lesson["title"],
            exercises=tuple(
                ExerciseSpec(
                    id=ex["id"],
                    function=ex["function"],
                    points=int(ex["points"]),
                    hint=ex["hint"].strip(),
                    wrong_answers=tuple(
                        WrongAnswer(w["name"], w["code"]) for w in ex.get("wrong_answers", ())
                    ),
                )
                for ex in lesson["exercises"]
            ),
        )
        for lesson in lessons
    )


def lesson(key: str) -> LessonSpec:
    """A lesson by id ("01") or slug ("01_producer_basics")."""
    for spec in load():
        if key in (spec.id, spec.slug):
            return spec
    known = ", ".join(spec.id for spec in load())
    raise KeyError(f"no lesson {key!r}; the course has: {known}")


def exercise_by_check_grade_id(grade_id: str) -> tuple[LessonSpec, ExerciseSpec] | None:
    for spec in load():
        for exercise in spec.exercises:
            if exercise.check_grade_id == grade_id:
                return spec, exercise
    return None
