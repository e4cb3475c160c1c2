"""The drill widget driven by simulated clicks, one question of each kind, as a learner would:
an answer set, a button clicked, and what the widget then shows read from its values."""

from __future__ import annotations

import html

import pytest

from autograder.drills import bank, session
from autograder.drills.history import History
from autograder.drills.widget import DrillWidget, drill


def first(kind: str, proved: bool = False) -> bank.Question:
    return next(q for q in bank.load() if q.kind == kind and (q.proof or not proved))


def widget_for(question, tmp_path, bootstrap="localhost:1", namespace=None) -> DrillWidget:
    namespace = {} if namespace is None else namespace
    return DrillWidget([question], bootstrap, namespace, History(tmp_path / "drills.json"))


def wrong_choice(question) -> int:
    return (int(question.correct) + 1) % len(question.options)


def test_displaying_the_widget_shows_the_first_question_and_waits_for_nothing(tmp_path):
    shown = drill("localhost:1", lesson="09", history=History(tmp_path / "h.json"))
    assert "Question 1/" in shown.header.value and shown.text.value
    assert shown.verdict.value == "" and shown.progress.value == 0


def test_a_choice_question_judges_the_picked_option_and_explains(tmp_path):
    question = first("choice")
    shown = widget_for(question, tmp_path)
    shown.check.click()
    assert "Pick one of the options first" in shown.verdict.value
    shown.answer(wrong_choice(question))
    shown.check.click()
    assert "Not quite" in shown.verdict.value and "Model answer" in shown.explanation.value
    shown.go(0)
    shown.answer(int(question.correct))
    shown.check.click()
    assert "Right" in shown.verdict.value
    assert shown.progress.value == 1 and "1/1" in shown.score.value
    assert [a["right"] for a in shown.history.answers] == [False, True]


def test_a_number_question_refuses_text_then_judges_the_number(tmp_path):
    question = first("number")
    shown = widget_for(question, tmp_path)
    shown.answer("lots")
    shown.check.click()
    assert "is not a number" in shown.verdict.value and not shown.history.answers
    shown.answer(session.shown(question, question.correct))
    shown.check.click()
    assert "Right" in shown.verdict.value


def test_prove_it_runs_the_proof_on_the_broker_and_shows_what_happened(tmp_path, bootstrap):
    question = first("choice", proved=True)
    shown = widget_for(question, tmp_path, bootstrap)
    assert not shown.prove.disabled
    shown.prove.click()
    assert "What the broker did" in shown.proof.value


def test_a_predict_question_shows_the_experiment_after_the_prediction(tmp_path, bootstrap):
    question = first("predict")
    shown = widget_for(question, tmp_path, bootstrap)
    assert shown.check.description == "Predict"
    shown.answer(question.correct if not question.options else int(question.correct))
    shown.check.click()
    assert "Right" in shown.verdict.value
    assert "What the broker did" in shown.proof.value


def test_a_fix_question_grades_the_learners_repaired_function_on_the_broker(tmp_path, bootstrap):
    from tests.learner_code import solution

    question = first("fix")
    exercise = session.fix_exercise(question)
    namespace: dict = {}
    shown = widget_for(question, tmp_path, bootstrap, namespace)
    assert exercise.function in shown.program.value
    shown.check.click()
    assert f"No function <code>{exercise.function}</code> yet" in shown.verdict.value
    namespace[exercise.function] = session.define(
        session.broken_program(question), exercise.function
    )
    shown.check.click()
    assert "not yet" in shown.verdict.value
    namespace[exercise.function] = solution(exercise.id, "11")
    shown.check.click()
    assert "passed" in shown.verdict.value and "Model answer" in shown.explanation.value


@pytest.mark.parametrize("kind", bank.KINDS)
def test_every_kind_has_a_question_the_widget_can_show(tmp_path, kind):
    question = first(kind)
    shown = widget_for(question, tmp_path)
    text = html.unescape(shown.text.value).replace("<code>", "`").replace("</code>", "`")
    assert question.question in text and all(option in text for option in question.options)
