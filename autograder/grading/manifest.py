"""The one manifest: which lessons exist, their exercises, points, hints and wrong answers.

The CLI, the checks, `dev check` and the tests all read course/manifest.yml through here. The
manifest holds metadata only; each wrong answer is a Python file beside its lesson,
``course/source/<slug>/wrong_answers/<exercise id>/<what_it_gets_wrong>.py``, whose docstring
opens with the misconception it stands for.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from autograder.grading.paths import MANIFEST_FILE, REPO_ROOT, SOURCE_DIR

WRONG_ANSWERS_DIR = "wrong_answers"

# Every field the manifest may hold; anything else would be read by nothing, so it is refused.
LESSON_FIELDS = ("id", "slug", "title", "exercises")
EXERCISE_FIELDS = ("id", "function", "points", "hint")


class ManifestError(ValueError):
    """The manifest or a wrong-answer file is malformed; the message names the file."""


@dataclass(frozen=True)
class WrongAnswer:
    """A plausible mistake: ``name`` is its docstring's first line, ``code`` the whole file."""

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


def _shown(path: Path) -> str:
    """The path as an author would type it: relative to the repository when inside it."""
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def _fields(entry: dict[str, Any], allowed: tuple[str, ...], where: str, path: Path) -> None:
    unknown = sorted(set(entry) - set(allowed))
    if unknown:
        moved = " (wrong answers live in their own files)" if WRONG_ANSWERS_DIR in unknown else ""
        raise ManifestError(f"{_shown(path)}: {where} has fields nothing reads: {unknown}{moved}")
    missing = [name for name in allowed if name not in entry]
    if missing:
        raise ManifestError(f"{_shown(path)}: {where} lacks {missing}")


def read_wrong_answer(path: Path) -> WrongAnswer:
    """One wrong-answer file; ManifestError when it is not Python or has no docstring."""
    code = path.read_text()
    try:
        docstring = ast.get_docstring(ast.parse(code, filename=str(path)))
    except SyntaxError as error:
        raise ManifestError(f"{_shown(path)}: not valid Python (line {error.lineno})") from error
    if not docstring or not docstring.strip():
        raise ManifestError(
            f"{_shown(path)}: no docstring; its first line names the misconception it stands for"
        )
    return WrongAnswer(docstring.strip().splitlines()[0].strip(), code)


def wrong_answers_of(
    folder: Path, exercise_ids: tuple[str, ...]
) -> dict[str, tuple[WrongAnswer, ...]]:
    """A lesson's wrong answers by exercise id, from ``folder`` (its ``wrong_answers/``).

    Within an exercise they come in file-name order. Loose files (the lesson's ruff.toml) and
    hidden folders are skipped; a folder that names no exercise of the lesson is an error.
    """
    found: dict[str, tuple[WrongAnswer, ...]] = {}
    if not folder.is_dir():
        return found
    for sub in sorted(folder.iterdir()):
        if not sub.is_dir() or sub.name.startswith((".", "__")):
            continue
        if sub.name not in exercise_ids:
            raise ManifestError(
                f"{_shown(sub)}: the lesson has no exercise {sub.name!r} "
                f"(it has: {', '.join(exercise_ids)})"
            )
        answers = tuple(read_wrong_answer(path) for path in sorted(sub.glob("*.py")))
        names = [answer.name for answer in answers]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ManifestError(f"{_shown(sub)}: two wrong answers share the name {twice[0]!r}")
        found[sub.name] = answers
    return found


def _lesson(entry: dict[str, Any], path: Path, source_dir: Path) -> LessonSpec:
    _fields(entry, LESSON_FIELDS, f"lesson {entry.get('id')}", path)
    lesson_id = str(entry["id"])
    for ex in entry["exercises"]:
        _fields(ex, EXERCISE_FIELDS, f"lesson {lesson_id} exercise {ex.get('id')}", path)
    ids = tuple(ex["id"] for ex in entry["exercises"])
    wrong = wrong_answers_of(source_dir / entry["slug"] / WRONG_ANSWERS_DIR, ids)
    return LessonSpec(
        id=lesson_id,
        slug=entry["slug"],
        title=entry["title"],
        exercises=tuple(
            ExerciseSpec(
                id=ex["id"],
                function=ex["function"],
                points=int(ex["points"]),
                hint=" ".join(ex["hint"].split()),
                wrong_answers=wrong.get(ex["id"], ()),
            )
            for ex in entry["exercises"]
        ),
    )


@cache
def load(path: Path = MANIFEST_FILE, source_dir: Path = SOURCE_DIR) -> tuple[LessonSpec, ...]:
    """Every lesson, in the manifest's order (which must be the lessons' order), with the
    wrong answers found under ``source_dir``. ManifestError names the file at fault."""
    lessons = tuple(
        _lesson(entry, path, source_dir) for entry in yaml.safe_load(path.read_text())["lessons"]
    )
    ids = [spec.id for spec in lessons]
    if ids != sorted(ids):
        raise ManifestError(f"{_shown(path)}: lessons must come in order, not {', '.join(ids)}")
    return lessons


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
