"""`kafka-course dev check`: the course's self-test gate, one lesson at a time.

For every exercise: the untouched student version fails with guidance (not a traceback), the
reference solution passes, and every plausible wrong answer in the manifest fails. Then the
nbgrader round trip: the reference earns full points; the untouched release, a notebook that
redefines its checks and one that kills its kernel earn none, and grading goes on past them;
and the reference once more under the course's own configuration, every cell run, as an
instructor's `nbgrader autograde` grades it.

Demonstrations are under test once: the solution round runs the whole notebook ("every lesson
cell runs"). The starter, each wrong-answer round and the four nbgrader submissions run only the
cells the exercises need (authoring/exercise_cells.py), and a static look at the code first
makes sure every cell those read is tagged. The rounds are independent (each execution has its
own run namespace on the broker), so they run side by side in worker processes: nbclient sets
the process environment while it runs, so one execution per process. ``KAFKA_COURSE_DEV_JOBS``
sets how many at once (default: one per core, at least two). Lesson 04's fault proxy is one at
a time machine-wide (faults/session.py): its checks queue on the proxy's lock.
"""

from __future__ import annotations

import multiprocessing
import os
import time
import traceback
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field

from autograder.authoring import exercise_cells, notebook_run, roundtrip
from autograder.grading import manifest
from autograder.grading.paths import RELEASE_DIR, SOLUTIONS_DIR

JOBS_ENV = "KAFKA_COURSE_DEV_JOBS"

Line = tuple[bool, str]  # passed, what was proven (or what went wrong)


@dataclass
class Report:
    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def record(self, ok: bool, line: str, say=print) -> None:
        (self.passed if ok else self.failed).append(line)
        say(f"  {'✔' if ok else '✘'} {line}")


@dataclass(frozen=True)
class Round:
    """One independent execution for a lesson; ``index`` numbers the wrong-answer rounds."""

    lesson_id: str
    kind: str  # "tags", "starter", "solution", "wrong", "nbgrader", "nbgrader-whole"
    index: int = 0

    @property
    def label(self) -> str:
        return f"wrong answers round {self.index + 1}" if self.kind == "wrong" else self.kind


def rounds_of(lesson: manifest.LessonSpec, nbgrader: bool = True) -> list[Round]:
    """A lesson's rounds, in the order their lines are printed."""
    wrong = max((len(e.wrong_answers) for e in lesson.exercises), default=0)
    return [
        Round(lesson.id, "tags"),
        Round(lesson.id, "starter"),
        Round(lesson.id, "solution"),
        *(Round(lesson.id, "wrong", n) for n in range(wrong)),
        *([Round(lesson.id, "nbgrader"), Round(lesson.id, "nbgrader-whole")] if nbgrader else []),
    ]


# Longest first, so that the last round to start is a short one.
_START_ORDER = {
    "nbgrader": 0,
    "nbgrader-whole": 1,
    "solution": 2,
    "wrong": 3,
    "starter": 4,
    "tags": 5,
}


def _notebook(folder, lesson):
    return notebook_run.read(folder / lesson.slug / lesson.notebook_name)


def _setup_ran(nb, label: str) -> Line:
    broken = notebook_run.exercise_setup_errors(nb)
    return (
        not broken,
        f"{label} (exercise cells only): setup cells run"
        + ("" if not broken else f" — errors: {broken}"),
    )


def _checks(lesson, nb, label: str, want_pass: bool) -> list[Line]:
    """Every check must pass, or fail with guidance."""
    cells = notebook_run.check_cells(nb)
    wanted = "passes" if want_pass else "fails with guidance"
    lines = []
    for exercise in lesson.exercises:
        cell = cells.get(exercise.check_grade_id)
        ok = cell is not None and (cell.passed if want_pass else cell.failed_with_guidance)
        lines.append(
            (ok, f"{label} {exercise.id}: " + (wanted if ok else f"should be '{wanted}': {cell}"))
        )
    return lines


def _tags(lesson, bootstrap) -> list[Line]:
    alternatives = {
        e.solution_grade_id: [wrong.code for wrong in e.wrong_answers] for e in lesson.exercises
    }
    problems = exercise_cells.untagged_dependencies(
        notebook_run.read(lesson.source_notebook), alternatives
    )
    return [
        (
            not problems,
            f"exercise cells: every cell the solutions, checks and wrong answers read is tagged "
            f"{exercise_cells.TAG!r}" + ("" if not problems else f" — {problems}"),
        )
    ]


def _starter(lesson, bootstrap) -> list[Line]:
    nb = notebook_run.execute(_notebook(RELEASE_DIR, lesson), bootstrap, only_exercises=True)
    return [_setup_ran(nb, "starter"), *_checks(lesson, nb, "starter", want_pass=False)]


def _solution(lesson, bootstrap) -> list[Line]:
    nb = notebook_run.execute(_notebook(SOLUTIONS_DIR, lesson), bootstrap)
    broken = notebook_run.other_cell_errors(nb)
    return [
        *_checks(lesson, nb, "solution", want_pass=True),
        (
            not broken,
            "solution notebook: every lesson cell runs"
            + ("" if not broken else f" — errors: {broken}"),
        ),
    ]


def _wrong_answers(lesson, bootstrap, round_: int) -> list[Line]:
    # One execution per round: each exercise with a round-th wrong answer gets it at once.
    nb, tried = _notebook(SOLUTIONS_DIR, lesson), []
    for exercise in lesson.exercises:
        if round_ < len(exercise.wrong_answers):
            wrong = exercise.wrong_answers[round_]
            nb = notebook_run.replace_solution(nb, exercise.solution_grade_id, wrong.code)
            tried.append((exercise, wrong))
    nb = notebook_run.execute(nb, bootstrap, only_exercises=True)
    cells = notebook_run.check_cells(nb)
    lines = [_setup_ran(nb, f"wrong answers round {round_ + 1}")]
    for exercise, wrong in tried:
        cell = cells.get(exercise.check_grade_id)
        ok = cell is not None and cell.failed_with_guidance
        lines.append(
            (
                ok,
                f"wrong answer {exercise.id} ({wrong.name}): "
                + ("fails with guidance" if ok else f"should fail with guidance: {cell}"),
            )
        )
    return lines


def _nbgrader(lesson, bootstrap) -> list[Line]:
    scores = roundtrip.autograde_lesson(lesson)
    total = float(sum(e.points for e in lesson.exercises))
    expected = {"reference": total, "untouched": 0.0, "redefines-check": 0.0, "crashes-kernel": 0.0}
    lines = []
    for student, want in expected.items():
        got = scores.get(student)
        ok = got is not None and got.score == want and got.max_score == total
        lines.append(
            (
                ok,
                f"nbgrader autograde {student}: "
                + (f"{got.score:g}/{got.max_score:g}" if got else "no score exported")
                + ("" if ok else f" (expected {want:g}/{total:g})"),
            )
        )
    return lines


def _nbgrader_whole(lesson, bootstrap) -> list[Line]:
    """The reference graded as an instructor's `nbgrader autograde` grades it: the course's own
    configuration, every cell run (the other submissions run only the exercise cells)."""
    scores = roundtrip.autograde_lesson(lesson, only_exercises=False, students=("reference",))
    total = float(sum(e.points for e in lesson.exercises))
    got = scores.get("reference")
    ok = got is not None and got.score == total and got.max_score == total
    return [
        (
            ok,
            "nbgrader autograde reference, every cell run as instructors grade: "
            + (f"{got.score:g}/{got.max_score:g}" if got else "no score exported")
            + ("" if ok else f" (expected {total:g}/{total:g})"),
        )
    ]


def run_round(round_: Round, bootstrap: str) -> tuple[list[Line], float, float]:
    """Run one round (in a worker process): its lines, and when it started and ended."""
    started = time.time()
    lesson = manifest.lesson(round_.lesson_id)
    try:
        if round_.kind == "wrong":
            lines = _wrong_answers(lesson, bootstrap, round_.index)
        else:
            lines = {
                "tags": _tags,
                "starter": _starter,
                "solution": _solution,
                "nbgrader": _nbgrader,
                "nbgrader-whole": _nbgrader_whole,
            }[round_.kind](lesson, bootstrap)
    except Exception as error:  # one broken round is a failed line, not a lost gate
        last = traceback.format_exception(error)[-3:]
        lines = [(False, f"{round_.label}: could not run — {''.join(last).strip()}")]
    return lines, started, time.time()


def jobs() -> int:
    """How many rounds run at once: KAFKA_COURSE_DEV_JOBS, else one per core, at least two."""
    return max(1, int(os.environ.get(JOBS_ENV) or max(2, os.cpu_count() or 1)))


def _pool(workers: int) -> ProcessPoolExecutor:
    # A fork server, not fork: this process may hold Kafka client threads (the broker ping),
    # and a fork copies their locks. The server imports the heavy modules once for all workers.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)


def run(lesson_keys: list[str], bootstrap: str, nbgrader: bool = True, say=print) -> Report:
    """Run the gate for the given lessons (all when empty); a Report of every line.

    Each lesson's lines come in the same order whatever finished first, followed by how long
    the lesson took; the rounds of the next lesson start as soon as a worker is free.
    """
    lessons = [manifest.lesson(key) for key in lesson_keys] or list(manifest.load())
    report = Report()
    began = time.time()
    with _pool(jobs()) as pool:
        planned = [(lesson, rounds_of(lesson, nbgrader)) for lesson in lessons]
        futures: dict[Round, Future] = {}
        for _, rounds in planned:
            for round_ in sorted(rounds, key=lambda r: _START_ORDER[r.kind]):
                futures[round_] = pool.submit(run_round, round_, bootstrap)
        for lesson, rounds in planned:
            say(f"lesson {lesson.id}: {lesson.title}")
            spans = []
            for round_ in rounds:  # printed in order, each as soon as it and those before are in
                try:
                    lines, started, ended = futures[round_].result()
                except Exception as error:  # its worker died (a broken pool): a failed line
                    lines, started, ended = [(False, f"{round_.label}: {error!r}")], began, began
                spans.append((started, ended))
                for ok, line in lines:
                    report.record(ok, line, say)
            took = max(end for _, end in spans) - min(start for start, _ in spans)
            say(f"lesson {lesson.id}: {took:.0f} s")
    say(f"total: {time.time() - began:.0f} s for {len(lessons)} lesson(s), {jobs()} at once")
    say(f"dev check: {len(report.passed)} passed, {len(report.failed)} failed")
    return report
