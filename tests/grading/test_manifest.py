"""The manifest holds metadata only, every field of it is read, and the wrong answers are files.

Wrong answers live in ``course/source/<slug>/wrong_answers/<exercise id>/*.py``, each opening
with a docstring that names its misconception; they reach neither the release nor the
solutions. Only the last test needs the broker.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import nbformat
import pytest
import yaml
from nbgrader.coursedir import CourseDirectory
from traitlets.config.loader import PyFileConfigLoader

from autograder.authoring import release
from autograder.drills.session import AS_GIVEN
from autograder.grading import manifest
from autograder.grading.paths import COURSE_DIR, MANIFEST_FILE, REPO_ROOT, SOURCE_DIR

LESSONS = manifest.load()
WRONG_ANSWER_FILES = sorted(SOURCE_DIR.glob(f"*/{manifest.WRONG_ANSWERS_DIR}/*/*.py"))
EXERCISES = [
    pytest.param(lesson, exercise, id=f"{lesson.id}:{exercise.id}")
    for lesson in LESSONS
    for exercise in lesson.exercises
]


def _short(path: Path) -> str:
    return str(path.relative_to(SOURCE_DIR))


# ----- wrong answers are files, each tied to an exercise -----------------------------------


def test_the_course_has_wrong_answer_files():
    assert len(WRONG_ANSWER_FILES) >= sum(len(lesson.exercises) for lesson in LESSONS)


@pytest.mark.parametrize("path", WRONG_ANSWER_FILES, ids=_short)
def test_every_wrong_answer_file_names_its_misconception_and_belongs_to_an_exercise(path):
    slug, exercise_id = path.parts[-4], path.parts[-2]
    lesson = manifest.lesson(slug)
    exercise = lesson.exercise(exercise_id)
    docstring = ast.get_docstring(ast.parse(path.read_text()))
    assert docstring and docstring.splitlines()[0].strip(), f"{path}: no docstring first line"
    assert manifest.read_wrong_answer(path) in exercise.wrong_answers
    assert f"def {exercise.function}(" in path.read_text()


def test_every_wrong_answer_file_is_loaded_and_nothing_else():
    loaded = [w.code for lesson in LESSONS for e in lesson.exercises for w in e.wrong_answers]
    assert sorted(loaded) == sorted(path.read_text() for path in WRONG_ANSWER_FILES)


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.slug)
def test_every_exercise_has_at_least_one_wrong_answer(lesson):
    assert all(exercise.wrong_answers for exercise in lesson.exercises), lesson.slug


def test_wrong_answers_come_in_file_name_order():
    folder = SOURCE_DIR / "01_producer_basics" / manifest.WRONG_ANSWERS_DIR / "send-keyed"
    names = [manifest.read_wrong_answer(path).name for path in sorted(folder.glob("*.py"))]
    assert [w.name for w in manifest.lesson("01").exercise("send-keyed").wrong_answers] == names


def _top_level_names(source: str) -> set[str]:
    """What a notebook cell binds at the top level (IPython magics left out)."""
    code = "\n".join(line for line in source.splitlines() if not line.startswith(("%", "!")))
    names: set[str] = set()
    for node in ast.parse(code).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def _names_used(code: str) -> set[str]:
    return {node.id for node in ast.walk(ast.parse(code)) if isinstance(node, ast.Name)}


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.slug)
def test_names_the_lint_takes_from_the_notebook_are_defined_before_the_exercise(lesson):
    """A lesson's wrong_answers/ruff.toml declares as builtins the names its wrong answers take
    from the notebook; each must be defined by the cells before the exercise it is used in."""
    config = SOURCE_DIR / lesson.slug / manifest.WRONG_ANSWERS_DIR / "ruff.toml"
    text = config.read_text() if config.exists() else ""
    found = re.search(r"^builtins = (\[.*\])$", text, re.M)
    declared = set(ast.literal_eval(found.group(1))) if found else set()
    defined: set[str] = set()
    used_anywhere: set[str] = set()
    solution_cells = {exercise.solution_grade_id: exercise for exercise in lesson.exercises}
    for cell in nbformat.read(lesson.source_notebook, as_version=4).cells:
        exercise = solution_cells.get(cell.metadata.get("nbgrader", {}).get("grade_id"))
        if exercise is not None:
            used = set().union(*(_names_used(w.code) for w in exercise.wrong_answers)) & declared
            assert used <= defined, f"{exercise.id}: the notebook lacks {used - defined} there"
            used_anywhere |= used
        if cell.cell_type == "code":
            defined |= _top_level_names(cell.source)
    assert declared == used_anywhere, f"{config}: declares names no wrong answer uses"


# ----- the manifest: metadata only, every field read ---------------------------------------


def test_the_manifest_holds_exactly_the_fields_the_loader_reads_in_lesson_order():
    lessons = yaml.safe_load(MANIFEST_FILE.read_text())["lessons"]
    assert [str(entry["id"]) for entry in lessons] == sorted(str(e["id"]) for e in lessons)
    for entry in lessons:
        assert set(entry) == set(manifest.LESSON_FIELDS), entry["id"]
        for exercise in entry["exercises"]:
            assert set(exercise) == set(manifest.EXERCISE_FIELDS), exercise["id"]


@cache
def _attributes_read_outside_the_manifest_module() -> set[str]:
    """Attributes read off a lesson, exercise or spec object anywhere in autograder/."""
    read: set[str] = set()
    for path in (REPO_ROOT / "autograder").rglob("*.py"):
        if path == REPO_ROOT / "autograder" / "grading" / "manifest.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                owner = ast.unparse(node.value)
                if re.search(r"spec|lesson|exercise", owner) or owner in ("e", "ex"):
                    read.add(node.attr)
    return read


@pytest.mark.parametrize("field", sorted({*manifest.LESSON_FIELDS, *manifest.EXERCISE_FIELDS}))
def test_every_manifest_field_is_read_by_the_code(field):
    assert field in _attributes_read_outside_the_manifest_module(), (
        f"no code in autograder/ reads the manifest's {field!r}: use it or drop it"
    )


# ----- the loader reports what is wrong, naming the file -----------------------------------


def _course(tmp_path: Path, exercise_fields: str = "") -> tuple[Path, Path]:
    """A one-lesson course in ``tmp_path``: its manifest and its source folder."""
    manifest_file = tmp_path / "manifest.yml"
    manifest_file.write_text(
        "lessons:\n"
        '  - id: "01"\n'
        "    slug: 01_demo\n"
        "    title: Demo\n"
        "    exercises:\n"
        "      - id: make-it\n"
        "        function: make_it\n"
        "        points: 1\n"
        "        hint: What makes it? Make it.\n" + exercise_fields
    )
    source = tmp_path / "source"
    (source / "01_demo" / manifest.WRONG_ANSWERS_DIR / "make-it").mkdir(parents=True)
    return manifest_file, source


def _wrong_answer_file(source: Path, exercise: str, name: str, text: str) -> Path:
    path = source / "01_demo" / manifest.WRONG_ANSWERS_DIR / exercise / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _one_line_error(manifest_file: Path, source: Path) -> str:
    with pytest.raises(manifest.ManifestError) as raised:
        manifest.load(manifest_file, source)
    message = str(raised.value)
    assert "\n" not in message
    return message


def test_the_loader_reads_wrong_answers_from_their_files(tmp_path):
    manifest_file, source = _course(tmp_path)
    _wrong_answer_file(source, "make-it", "b_late.py", '"""made too late\n\nMore."""\n')
    _wrong_answer_file(source, "make-it", "a_twice.py", '"""made twice"""\n')
    (spec,) = manifest.load(manifest_file, source)
    answers = spec.exercise("make-it").wrong_answers
    assert [w.name for w in answers] == ["made twice", "made too late"]
    assert answers[1].code == '"""made too late\n\nMore."""\n'


def test_a_folder_naming_no_exercise_is_reported_by_its_path(tmp_path):
    manifest_file, source = _course(tmp_path)
    _wrong_answer_file(source, "make-that", "oops.py", '"""oops"""\n')
    message = _one_line_error(manifest_file, source)
    assert "01_demo/wrong_answers/make-that" in message and "make-it" in message


def test_a_wrong_answer_without_a_docstring_is_reported_by_its_path(tmp_path):
    manifest_file, source = _course(tmp_path)
    _wrong_answer_file(source, "make-it", "bare.py", "def make_it():\n    return 1\n")
    message = _one_line_error(manifest_file, source)
    assert "make-it/bare.py" in message and "docstring" in message


def test_a_wrong_answer_that_is_not_python_is_reported_by_its_path(tmp_path):
    manifest_file, source = _course(tmp_path)
    _wrong_answer_file(source, "make-it", "broken.py", '"""broken"""\ndef make_it(:\n')
    assert "make-it/broken.py" in _one_line_error(manifest_file, source)


def test_a_field_nothing_reads_is_refused(tmp_path):
    manifest_file, source = _course(tmp_path, "        difficulty: hard\n")
    message = _one_line_error(manifest_file, source)
    assert str(manifest_file) in message and "difficulty" in message


def test_wrong_answers_left_in_the_manifest_are_refused_with_where_they_go(tmp_path):
    manifest_file, source = _course(tmp_path, "        wrong_answers: []\n")
    assert "their own files" in _one_line_error(manifest_file, source)


# ----- wrong answers never reach learners ---------------------------------------------------


def test_nbgrader_config_ignores_wrong_answers_and_keeps_its_defaults():
    config = PyFileConfigLoader("nbgrader_config.py", path=str(COURSE_DIR)).load_config()
    ignored = config.CourseDirectory.ignore
    assert manifest.WRONG_ANSWERS_DIR in ignored
    assert set(CourseDirectory.ignore.default()) <= set(ignored)


def test_nbgrader_releases_a_lesson_without_its_wrong_answers(tmp_path):
    lesson = LESSONS[0]
    course = release.copy_course(tmp_path / "course")
    assert (course / "source" / lesson.slug / manifest.WRONG_ANSWERS_DIR).is_dir()
    # The command an instructor runs, exactly as they type it (from the course folder).
    bin_dir = str(Path(sys.executable).parent)  # nbgrader calls alembic by name
    subprocess.run(
        [
            sys.executable,
            "-m",
            "nbgrader",
            "generate_assignment",
            lesson.slug,
            "--force",
            "--no-db",
        ],
        cwd=course,
        env=dict(os.environ, PATH=os.pathsep.join([bin_dir, os.environ.get("PATH", "")])),
        capture_output=True,
        check=True,
        timeout=300,
    )
    released = course / "release" / lesson.slug
    assert (released / lesson.notebook_name).is_file()
    assert [p.name for p in released.rglob("*")] == [lesson.notebook_name]


def _holds_no_wrong_answer(folder: Path, lessons=LESSONS) -> None:
    """No wrong-answer folder or file under ``folder``, nor their code in any notebook cell.

    Except the clinic's "program as given" (lesson 11): the broken program a learner repairs is
    shown on purpose, and tests/drills/test_clinic_notebook.py holds it equal to its file."""
    assert not list(folder.rglob(manifest.WRONG_ANSWERS_DIR)), folder
    assert not list(folder.rglob("*.py")), folder
    for lesson in lessons:
        nb = nbformat.read(folder / lesson.slug / lesson.notebook_name, as_version=4)
        sources = "\n".join(cell.source for cell in nb.cells)
        for exercise in lesson.exercises:
            for wrong in exercise.wrong_answers:
                if wrong.name.startswith(AS_GIVEN):
                    continue
                assert f'"""{wrong.name}' not in sources, (folder, wrong.name)
                assert wrong.code.split('"""', 2)[2].strip() not in sources, (folder, wrong.name)


def test_generated_solutions_hold_no_wrong_answer(tmp_path):
    # The release is generated by nbgrader (above) and compared with the committed one by
    # tests/test_course_files.py; the solutions are written by the course's own code.
    release.generate_solutions(tmp_path / "solutions")
    _holds_no_wrong_answer(tmp_path / "solutions")


def test_committed_release_and_solutions_hold_no_wrong_answer():
    for folder in (release.RELEASE_DIR, release.SOLUTIONS_DIR):
        _holds_no_wrong_answer(folder)


# ----- the hint the manifest declares is the one the learner sees --------------------------


@pytest.mark.parametrize("lesson, exercise", EXERCISES)
def test_an_unwritten_function_gets_the_manifests_hint(verdicts, lesson, exercise):
    result = verdicts.starter(lesson.id, exercise.id).result
    assert result.summary == "not written yet", str(result)
    assert exercise.hint in result.hint, str(result)
    assert exercise.function in result.expected, str(result)
