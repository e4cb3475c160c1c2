"""`kafka-course drill` driven as a learner would, with piped input: a whole mock interview,
bad answers, the end of input, the review of wrong answers, the bank as a list."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from autograder.drills import bank, session
from autograder.drills.history import History
from autograder.grading.paths import REPO_ROOT

SEED = 11


def drill(state, *args: str, stdin: str = "", bootstrap: str | None = None):
    """Run `kafka-course drill ARGS` in a fresh process with ``stdin`` piped in."""
    env = dict(os.environ, KAFKA_COURSE_STATE_DIR=str(state))
    if bootstrap:
        env["KAFKA_BOOTSTRAP_SERVERS"] = bootstrap
    return subprocess.run(
        [sys.executable, "-m", "autograder.cli", "drill", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=300,
    )


def typed(question: bank.Question, right: bool) -> str:
    """The line a learner types for a right (or a wrong) answer to ``question``."""
    if question.options:
        index = (
            int(question.correct) if right else (int(question.correct) + 1) % len(question.options)
        )
        return str(index + 1)
    return str(question.correct if right else float(question.correct) + 1)


def test_a_whole_mock_interview_with_piped_answers_is_scored_with_its_weakest_topics(tmp_path):
    drawn = session.draw_mock(bank.load(), 6, SEED)
    assert len({q.lesson for q in drawn}) == 6, "a mock interview draws across lessons"
    rights = [True, False, True, True, False, True]
    lines = [typed(q, right) for q, right in zip(drawn, rights, strict=True)]
    lines.insert(1, "")  # an empty answer: one line, the same question again
    lines.insert(2, "99" if drawn[1].options else "many")  # out of range / not a number
    done = drill(tmp_path, "--mock", "6", "--seed", str(SEED), stdin="\n".join(lines) + "\n")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Score: 4/6" in out
    assert out.count("Question ") == 6 + 0 and "Question 6/6" in out
    assert "empty answer" in out
    assert "is not an option" in out or "is not a number" in out
    assert "Model answer" not in out, "a mock interview gives no hints"
    assert "Weakest topics:" in out
    for question, right in zip(drawn, rights, strict=True):
        if not right:
            assert f"✘ {question.id}" in out and question.topic in out.split("Weakest topics:")[1]
    answers = History(tmp_path / "drills.json").answers
    assert [a["id"] for a in answers] == [q.id for q in drawn]
    assert [a["right"] for a in answers] == rights


def test_the_end_of_input_stops_the_interview_and_keeps_what_was_answered(tmp_path):
    first = session.draw_mock(bank.load(), 3, SEED)[0]
    done = drill(tmp_path, "--mock", "3", "--seed", str(SEED), stdin=typed(first, True) + "\n")
    assert done.returncode == 0, done.stderr
    assert "end of input: the interview ends after 1 of 3 questions" in done.stdout
    assert "Score: 1/1" in done.stdout
    assert [a["id"] for a in History(tmp_path / "drills.json").answers] == [first.id]


def test_review_brings_back_the_wrong_answers_and_spaces_them_out(tmp_path):
    drawn = session.draw_mock(bank.load(), 2, SEED)
    stdin = typed(drawn[0], False) + "\n" + typed(drawn[1], True) + "\n"
    drill(tmp_path, "--mock", "2", "--seed", str(SEED), stdin=stdin)
    review = drill(tmp_path, "--review", stdin=typed(drawn[0], True) + "\n\n")
    assert review.returncode == 0, review.stderr
    assert "Question 1/1" in review.stdout and drawn[0].question[:40] in review.stdout
    assert "✔ right" in review.stdout and "Model answer" in review.stdout
    again = drill(tmp_path, "--review")
    tomorrow = datetime.now() + timedelta(days=1)
    assert "Nothing to review now; the next comes back " + f"{tomorrow:%Y-%m-%d}" in again.stdout
    history = History(tmp_path / "drills.json")
    assert history.boxes[drawn[0].id]["box"] == 2 and drawn[1].id not in history.boxes
    assert history.due(tomorrow + timedelta(minutes=1)) == [drawn[0].id]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--lesson", "42"], "no lesson '42' in the drills; lessons: 01"),
        (["--mock", "0"], "--mock takes how many questions, 1 or more"),
    ],
)
def test_bad_options_get_one_clear_line(tmp_path, args, message):
    done = drill(tmp_path, *args)
    assert done.returncode == 2 and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_the_bank_lists_as_text_and_as_json(tmp_path):
    listed = drill(tmp_path, "--list", "--lesson", "09")
    questions = bank.select("09")
    assert listed.returncode == 0 and f"{len(questions)} questions" in listed.stdout
    rows = json.loads(drill(tmp_path, "--list", "--json").stdout)
    assert len(rows) == len(bank.load())
    assert {"id", "lesson", "section", "kind", "question", "model_answer", "proof"} <= set(rows[0])


def test_progress_shows_the_drill_scores_per_lesson(tmp_path):
    drawn = session.draw_mock(bank.load(), 2, SEED)
    drill(
        tmp_path,
        "--mock",
        "2",
        "--seed",
        str(SEED),
        stdin=f"{typed(drawn[0], True)}\n{typed(drawn[1], False)}\n",
    )
    env = dict(os.environ, KAFKA_COURSE_STATE_DIR=str(tmp_path))
    shown = subprocess.run(
        [sys.executable, "-m", "autograder.cli", "progress"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=60,
    ).stdout
    assert f"lesson {drawn[0].lesson}: 1/1 right" in shown
    assert f"lesson {drawn[1].lesson}: 0/1 right" in shown


def test_practice_runs_a_predict_questions_proof_after_the_prediction(tmp_path, bootstrap):
    question = next(q for q in bank.load() if q.kind == "predict")
    done = drill(
        tmp_path,
        "--lesson",
        question.lesson,
        "--kind",
        "predict",
        stdin=typed(question, True) + "\n" + "q\n",
        bootstrap=bootstrap,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert (
        out.index("your prediction") < out.index("Proving it on the broker") < out.index("✔ right")
    )
    assert "│ " in out, "the proof's lines are shown"


def test_a_fix_drill_grades_the_repaired_program_on_the_broker(tmp_path, bootstrap):
    from tests.learner_code import solution_source

    question = next(q for q in bank.load() if q.kind == "fix")
    exercise = session.fix_exercise(question)
    path = tmp_path / "drills" / f"{exercise.id}.py"
    path.parent.mkdir()
    path.write_text(session.broken_program(question))
    as_given = drill(tmp_path, "--kind", "fix", stdin="\nq\n", bootstrap=bootstrap)
    graded = as_given.stdout.split("edit it, then Enter")[1]
    assert f"[FAIL] {exercise.id}" in graded and "expected:" in graded, as_given.stdout
    reference = solution_source(exercise.id, "11")
    path.write_text("\n".join(line for line in reference.splitlines() if "SOLUTION" not in line))
    repaired = drill(tmp_path, "--kind", "fix", stdin="\nq\n", bootstrap=bootstrap)
    assert f"[PASS] {exercise.id}" in repaired.stdout, repaired.stdout
    assert [a["right"] for a in History(tmp_path / "drills.json").answers] == [False, True]
