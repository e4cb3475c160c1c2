"""Every proof of the bank, run on the real broker: what the broker did must be the model answer.

A proof's ``observed`` is the answer in the question's own terms (the option that came true, or
the number measured), so a bank whose answer drifted from Kafka's behaviour fails here.
"""

from __future__ import annotations

import time

import pytest

from autograder.drills import bank, proof

PROVED = [pytest.param(q, id=q.id) for q in bank.load() if q.proof]


@pytest.mark.parametrize("question", PROVED)
def test_the_proof_shows_the_model_answer_happening(bootstrap, question, capsys):
    started = time.monotonic()
    shown = proof.run(question.proof, bootstrap)
    took = time.monotonic() - started
    assert shown.lines, "a proof says what happened"
    assert question.is_right(shown.observed), (
        f"{question.id}: the broker showed {shown.observed!r}, the bank says "
        f"{question.correct_text}\n{shown.text()}"
    )
    assert not capsys.readouterr().err, "a proof writes nothing to stderr"
    print(f"{question.id}: {took:.1f} s")


def test_every_proof_is_used_by_a_question():
    named = {q.proof for q in bank.load() if q.proof}
    assert set(proof.proofs()) <= named, sorted(set(proof.proofs()) - named)
