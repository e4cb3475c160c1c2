"""Generating the student release (notebooks/) and the solutions (solutions/) from course/source.

The release comes from nbgrader's own `generate_assignment`; the solutions are the source
notebooks with the solution fences removed. Both are written without outputs or execution
counts, so they stay reviewable in git, and `drift()` tells whether the committed copies still
match what the source generates.
"""

from __future__ import annotations

import filecmp
import os
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from nbgrader.plugins import CsvExportPlugin
from traitlets.config.loader import PyFileConfigLoader

from autograder.grading import manifest
from autograder.grading.paths import COURSE_DIR, RELEASE_DIR, SOLUTIONS_DIR

FENCES = ("### BEGIN SOLUTION", "### END SOLUTION")


class ReleaseError(Exception):
    """nbgrader could not generate an assignment; str() carries its last lines."""


def _strip_outputs(nb) -> None:
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None


def copy_course(destination: Path) -> Path:
    """A throwaway copy of the course folder (config, manifest, sources) to run nbgrader in."""
    shutil.copytree(
        COURSE_DIR,
        destination,
        ignore=shutil.ignore_patterns(
            "gradebook.db", "release", "submitted", "autograded", "feedback", ".ipynb_checkpoints"
        ),
    )
    return destination


class NbgraderCourse:
    """nbgrader's own steps on a throwaway course, run in this process through its Python API.

    The same converters and configuration as the `nbgrader` command (the course's
    nbgrader_config.py), without starting a Python that imports nbgrader for every step.
    """

    def __init__(self, root: Path, gradebook: bool = True):
        """``gradebook=False`` is `--no-db`: a release alone needs no gradebook."""
        # nbgrader calls `alembic` by name when it creates the gradebook: the environment's bin
        # folder must be on PATH even when the virtualenv is not activated.
        bin_dir = str(Path(sys.executable).parent)
        if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
            os.environ["PATH"] = os.pathsep.join([bin_dir, os.environ.get("PATH", "")])
        config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
        config.GenerateAssignment.no_database = not gradebook  # as `--no-db` sets them
        config.SaveCells.enabled = gradebook
        self.gradebook = gradebook
        self.root = root
        self.coursedir = CourseDirectory(root=str(root), config=config)
        self.api = NbGraderAPI(coursedir=self.coursedir, config=config)

    @staticmethod
    def _done(step: str, result: dict, allow_failure: bool = False) -> str:
        log = result.get("log", "") + result.get("error", "")
        if not result["success"] and not allow_failure:
            raise ReleaseError(f"nbgrader {step} failed:\n{log[-3000:]}")
        return log

    def generate_assignment(self, slug: str) -> None:
        self._done(
            "generate_assignment",
            self.api.generate_assignment(slug, force=True, create=self.gradebook),
        )

    def autograde_all(self, slug: str) -> str:
        """Every submission in one run, as `nbgrader autograde` does: its log (a submission
        that could not run is named there, and the others are graded anyway)."""
        result = self.api.autograde(slug, "*", force=True, create=True)
        return self._done("autograde", result, allow_failure=True)

    def generate_feedback(self, slug: str) -> None:
        self._done("generate_feedback", self.api.generate_feedback(slug, force=True))

    def export_csv(self, path: Path) -> None:
        """What `nbgrader export --to path` writes: its CSV plugin over the gradebook."""
        with Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gradebook:
            CsvExportPlugin(to=str(path)).export(gradebook)


def _lessons(keys: list[str] | None) -> list[manifest.LessonSpec]:
    return [manifest.lesson(key) for key in keys] if keys else list(manifest.load())


def generate_release(out_dir: Path, keys: list[str] | None = None) -> None:
    """Write each lesson's student notebook (all lessons when ``keys`` is empty) under
    ``out_dir/<slug>/``."""
    with tempfile.TemporaryDirectory() as scratch:
        course = NbgraderCourse(copy_course(Path(scratch) / "course"), gradebook=False)
        for lesson in _lessons(keys):
            course.generate_assignment(lesson.slug)
            generated = course.root / "release" / lesson.slug / lesson.notebook_name
            nb = nbformat.read(generated, as_version=4)
            _strip_outputs(nb)
            (out_dir / lesson.slug).mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, out_dir / lesson.slug / lesson.notebook_name)


def solution_notebook(source: Path):
    """The source notebook, fences removed and outputs cleared: the reference solution."""
    nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            lines = cell.source.splitlines()
            cell.source = "\n".join(line for line in lines if line.strip() not in FENCES)
    _strip_outputs(nb)
    return nb


def generate_solutions(out_dir: Path, keys: list[str] | None = None) -> None:
    for lesson in _lessons(keys):
        (out_dir / lesson.slug).mkdir(parents=True, exist_ok=True)
        nbformat.write(
            solution_notebook(lesson.source_notebook), out_dir / lesson.slug / lesson.notebook_name
        )


def write_all(keys: list[str] | None = None) -> None:
    """Regenerate notebooks/ and solutions/ in place: the given lessons only, or all of them
    (then folders of lessons the manifest no longer has go too)."""
    for target, generate in ((RELEASE_DIR, generate_release), (SOLUTIONS_DIR, generate_solutions)):
        if keys:
            for lesson in _lessons(keys):
                shutil.rmtree(target / lesson.slug, ignore_errors=True)
        else:
            shutil.rmtree(target, ignore_errors=True)
        generate(target, keys)


def drift() -> list[str]:
    """Files in notebooks/ or solutions/ that differ from what course/source generates now."""
    problems = []
    with tempfile.TemporaryDirectory() as scratch:
        for committed, generate in (
            (RELEASE_DIR, generate_release),
            (SOLUTIONS_DIR, generate_solutions),
        ):
            fresh = Path(scratch) / committed.name
            fresh.mkdir()
            generate(fresh)
            problems += _compare(fresh, committed)
    return problems


def _compare(fresh: Path, committed: Path) -> list[str]:
    fresh_files = {p.relative_to(fresh) for p in fresh.rglob("*.ipynb")}
    committed_files = {
        p.relative_to(committed)
        for p in committed.rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts
    }
    problems = [f"{committed.name}/{p}: missing" for p in sorted(fresh_files - committed_files)]
    problems += [
        f"{committed.name}/{p}: not generated from course/source"
        for p in sorted(committed_files - fresh_files)
    ]
    problems += [
        f"{committed.name}/{p}: differs from what course/source generates"
        for p in sorted(fresh_files & committed_files)
        if not filecmp.cmp(fresh / p, committed / p, shallow=False)
    ]
    return problems
