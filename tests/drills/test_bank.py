"""The question bank's schema: every question complete, every id unique, every lesson covered,
at least half of them proved on the broker (the proofs themselves run in test_proofs.py)."""

from __future__ import annotations

from collections import Counter

import pytest

from autograder.drills import bank, proof
from autograder.grading import manifest

QUESTIONS = bank.load()
COURSE_LESSONS = [lesson.id for lesson in manifest.load()]
CLINIC = manifest.lesson("11")


def test_the_bank_has_at_least_sixty_questions_with_unique_ids():
    assert len(QUESTIONS) >= 60
    assert len({q.id for q in QUESTIONS}) == len(QUESTIONS)


@pytest.mark.parametrize("lesson", [lesson for lesson in COURSE_LESSONS if lesson != "11"])
def test_every_lesson_has_at_least_five_questions(lesson):
    assert sum(q.lesson == lesson for q in QUESTIONS) >= 5


def test_every_question_names_a_lesson_of_the_course():
    assert {q.lesson for q in QUESTIONS} <= set(COURSE_LESSONS)


def test_at_least_half_the_questions_have_a_proof_and_every_proof_exists():
    proved = [q for q in QUESTIONS if q.proof]
    assert 2 * len(proved) >= len(QUESTIONS)
    assert {q.proof for q in proved} <= set(proof.proofs())


def test_every_kind_is_drilled():
    assert set(Counter(q.kind for q in QUESTIONS)) == set(bank.KINDS)


def test_every_pitfall_of_the_clinic_is_a_fix_question():
    fixes = {q.exercise for q in QUESTIONS if q.kind == "fix"}
    assert fixes == {exercise.id for exercise in CLINIC.exercises}


def test_the_seeds_interview_questions_are_all_in_the_bank():
    # at-least-once vs exactly-once, lag, a consumer too slow, ordering, commitSync vs commitAsync
    seeded = {q.lesson for q in QUESTIONS if q.seed}
    assert sum(q.seed for q in QUESTIONS) >= 5
    assert {"04", "06", "07", "08", "09"} <= seeded


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.id)
def test_each_model_answer_has_two_to_six_sentences_and_mistakes(question):
    assert 2 <= bank.sentences(question.model_answer) <= 6, question.model_answer
    assert question.mistakes and all(m.strip() for m in question.mistakes)


def test_a_malformed_question_is_refused_with_its_id(tmp_path):
    path = tmp_path / "drills.yml"
    path.write_text(
        "questions:\n  - {id: no-answer, lesson: '01', section: s, difficulty: easy,"
        " kind: choice, question: q, model_answer: 'A. B.', mistakes: [m], options: [a, b]}\n"
    )
    with pytest.raises(bank.BankError, match="no-answer"):
        bank.load(path)
