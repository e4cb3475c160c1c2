"""`kafka-course dev check`: the course's self-test gate, one lesson at a time.

For every exercise: the untouched student version fails with guidance (not a traceback), the
reference solution passes, and every plausible wrong answer in the manifest fails. Then the
nbgrader round trip: the reference earns full points; the untouched release, a notebook that
redefines its checks and one that kills its kernel earn none, and grading goes on past them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from autograder.authoring import notebook_run, roundtrip
from autograder.grading import manifest
from autograder.grading.paths import RELEASE_DIR, SOLUTIONS_DIR


@dataclass
class Report:
    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def record(self, ok: bool, line: str, say=print) -> None:
        (self.passed if ok else self.failed).append(line)
        say(f"  {'✔' if ok else '✘'} {line}")


def _run_version(lesson, folder, bootstrap, report, say, label, want_pass):
    """Execute one version of the lesson; every check must pass, or fail with guidance."""
    nb = notebook_run.execute(
        notebook_run.read(folder / lesson.slug / lesson.notebook_name), bootstrap
    )
    cells = notebook_run.check_cells(nb)
    wanted = "passes" if want_pass else "fails with guidance"
    for exercise in lesson.exercises:
        cell = cells.get(exercise.check_grade_id)
        ok = cell is not None and (cell.passed if want_pass else cell.failed_with_guidance)
        report.record(
            ok,
            f"{label} {exercise.id}: " + (wanted if ok else f"should be '{wanted}': {cell}"),
            say,
        )
    return nb


def _starter(lesson, bootstrap, report, say) -> None:
    _run_version(lesson, RELEASE_DIR, bootstrap, report, say, "starter", want_pass=False)


def _solution(lesson, bootstrap, report, say) -> None:
    nb = _run_version(lesson, SOLUTIONS_DIR, bootstrap, report, say, "solution", want_pass=True)
    broken = notebook_run.other_cell_errors(nb)
    report.record(
        not broken,
        "solution notebook: every lesson cell runs"
        + ("" if not broken else f" — errors: {broken}"),
        say,
    )


def _wrong_answers(lesson, bootstrap, report, say) -> None:
    solution = notebook_run.read(SOLUTIONS_DIR / lesson.slug / lesson.notebook_name)
    rounds = max((len(e.wrong_answers) for e in lesson.exercises), default=0)
    for round_ in range(rounds):
        # One execution per round: each exercise with a round-th wrong answer gets it at once.
        nb, tried = solution, []
        for exercise in lesson.exercises:
            if round_ < len(exercise.wrong_answers):
                wrong = exercise.wrong_answers[round_]
                nb = notebook_run.replace_solution(nb, exercise.solution_grade_id, wrong.code)
                tried.append((exercise, wrong))
        cells = notebook_run.check_cells(notebook_run.execute(nb, bootstrap))
        for exercise, wrong in tried:
            cell = cells.get(exercise.check_grade_id)
            ok = cell is not None and cell.failed_with_guidance
            report.record(
                ok,
                f"wrong answer {exercise.id} ({wrong.name}): "
                + ("fails with guidance" if ok else f"should fail with guidance: {cell}"),
                say,
            )


def _nbgrader(lesson, report, say) -> None:
    scores = roundtrip.autograde_lesson(lesson)
    total = float(sum(e.points for e in lesson.exercises))
    expected = {"reference": total, "untouched": 0.0, "redefines-check": 0.0, "crashes-kernel": 0.0}
    for student, want in expected.items():
        got = scores.get(student)
        ok = got is not None and got.score == want and got.max_score == total
        report.record(
            ok,
            f"nbgrader autograde {student}: "
            + (f"{got.score:g}/{got.max_score:g}" if got else "no score exported")
            + ("" if ok else f" (expected {want:g}/{total:g})"),
            say,
        )


def run(lesson_keys: list[str], bootstrap: str, nbgrader: bool = True, say=print) -> Report:
    """Run the gate for the given lessons (all when empty); a Report of every line."""
    lessons = [manifest.lesson(key) for key in lesson_keys] or list(manifest.load())
    report = Report()
    for lesson in lessons:
        say(f"lesson {lesson.id}: {lesson.title}")
        _starter(lesson, bootstrap, report, say)
        _solution(lesson, bootstrap, report, say)
        _wrong_answers(lesson, bootstrap, report, say)
        if nbgrader:
            _nbgrader(lesson, report, say)
    say(f"dev check: {len(report.passed)} passed, {len(report.failed)} failed")
    return report
