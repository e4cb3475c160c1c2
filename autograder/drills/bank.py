"""The question bank, course/drills.yml: read, checked and handed out as ``Question`` objects.

The CLI (`kafka-course drill`), the notebook widget and the tests all read the bank through
here, and nothing else declares a question. Every field below is read by the code; a bank with
any other field, a missing one or a value out of its range is refused with a message that names
the question.

Kinds:
    choice   pick one of ``options``; ``correct`` is the right one's index (0-based)
    number   type a number; ``correct`` is that number
    predict  commit to a prediction (one of ``options``, or a number without options), then the
             proof runs and shows what the broker did; a predict question must have a proof
    fix      repair a broken program of the pitfalls clinic; ``exercise`` names the clinic
             exercise whose check grades the repair on the broker
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from autograder.grading.paths import COURSE_DIR

BANK_FILE = COURSE_DIR / "drills.yml"
BANK_ENV = "KAFKA_COURSE_DRILLS"  # another bank file, e.g. an instructor's own questions
KINDS = ("choice", "number", "predict", "fix")
DIFFICULTIES = ("easy", "medium", "hard")
REQUIRED = ("id", "lesson", "section", "difficulty", "kind", "question", "model_answer", "mistakes")
OPTIONAL = ("options", "correct", "proof", "exercise", "seed")
ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class BankError(ValueError):
    """The bank is malformed; the message names the question at fault."""


@dataclass(frozen=True)
class Question:
    id: str
    lesson: str
    section: str
    difficulty: str
    kind: str
    question: str
    model_answer: str
    mistakes: tuple[str, ...]
    options: tuple[str, ...] = ()
    correct: int | float | None = None
    proof: str | None = None
    exercise: str | None = None
    seed: bool = False

    @property
    def topic(self) -> str:
        """Where the question comes from, as a learner reads it: 'lesson 04 · 2. Retries'."""
        return f"lesson {self.lesson} · {self.section}"

    def is_right(self, answer: int | float) -> bool:
        """Whether ``answer`` (an option's index, or a number) is the right one."""
        if self.correct is None:
            raise ValueError(f"{self.id}: a {self.kind} question is graded by its exercise")
        return float(answer) == float(self.correct)

    @property
    def correct_text(self) -> str:
        """The right answer as shown to the learner."""
        if self.options and self.correct is not None:
            return f"{int(self.correct) + 1}) {self.options[int(self.correct)]}"
        return _number(self.correct)


def _number(value: int | float | None) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _text(value: Any) -> str:
    return " ".join(str(value).split())


def sentences(text: str) -> int:
    """How many sentences ``text`` has (a full stop, ? or ! followed by a space or the end)."""
    return len(re.findall(r"[.!?](?=\s|$)", text.replace("e.g.", "eg").replace("i.e.", "ie")))


def _question(entry: dict[str, Any], where: str) -> Question:
    if not isinstance(entry, dict):
        raise BankError(f"{where}: not a mapping")
    qid = entry.get("id", "?")
    unknown = sorted(set(entry) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise BankError(f"{where} ({qid}): fields nothing reads: {unknown}")
    missing = [name for name in REQUIRED if not entry.get(name)]
    if missing:
        raise BankError(f"{where} ({qid}): lacks {missing}")
    kind, difficulty = entry["kind"], entry["difficulty"]
    if kind not in KINDS:
        raise BankError(f"{qid}: kind {kind!r} is none of {', '.join(KINDS)}")
    if difficulty not in DIFFICULTIES:
        raise BankError(f"{qid}: difficulty {difficulty!r} is none of {', '.join(DIFFICULTIES)}")
    if not ID_PATTERN.match(str(qid)):
        raise BankError(f"{qid!r}: an id is lowercase words joined by hyphens")
    options = tuple(_text(o) for o in entry.get("options") or ())
    correct = entry.get("correct")
    if kind == "fix":
        if not entry.get("exercise") or options or correct is not None:
            raise BankError(f"{qid}: a fix question names its `exercise`, no options or correct")
    else:
        if entry.get("exercise"):
            raise BankError(f"{qid}: only a fix question names an exercise")
        if isinstance(correct, bool) or not isinstance(correct, int | float):
            raise BankError(f"{qid}: `correct` must be a number (an option's index or the answer)")
        if kind == "choice" and len(options) < 2:
            raise BankError(f"{qid}: a choice question has at least two options")
        if kind == "number" and options:
            raise BankError(f"{qid}: a number question has no options")
        if options and not (isinstance(correct, int) and 0 <= correct < len(options)):
            raise BankError(f"{qid}: `correct` must index one of its {len(options)} options")
    if kind == "predict" and not entry.get("proof"):
        raise BankError(f"{qid}: a predict question runs its proof, so it must name one")
    mistakes = entry["mistakes"]
    if not isinstance(mistakes, list) or not all(isinstance(m, str) for m in mistakes):
        raise BankError(f"{qid}: `mistakes` is a list of sentences")
    return Question(
        id=str(qid),
        lesson=str(entry["lesson"]).zfill(2),
        section=_text(entry["section"]),
        difficulty=difficulty,
        kind=kind,
        question=_text(entry["question"]),
        model_answer=_text(entry["model_answer"]),
        mistakes=tuple(_text(m) for m in mistakes),
        options=options,
        correct=correct,
        proof=entry.get("proof"),
        exercise=entry.get("exercise"),
        seed=bool(entry.get("seed", False)),
    )


def bank_file() -> Path:
    """The bank in use: $KAFKA_COURSE_DRILLS if set, else course/drills.yml."""
    return Path(os.environ.get(BANK_ENV) or BANK_FILE)


def load(path: Path | None = None) -> tuple[Question, ...]:
    """Every question, in the file's order. BankError names the question at fault."""
    return _load(path or bank_file())


@cache
def _load(path: Path) -> tuple[Question, ...]:
    entries = (yaml.safe_load(path.read_text()) or {}).get("questions") or []
    questions = tuple(_question(entry, f"question {n}") for n, entry in enumerate(entries, 1))
    ids = [q.id for q in questions]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise BankError(f"{path.name}: two questions share the id {twice[0]!r}")
    return questions


def by_id(question_id: str) -> Question:
    for question in load():
        if question.id == question_id:
            return question
    raise KeyError(f"the bank has no question {question_id!r}")


def lessons() -> tuple[str, ...]:
    """The lessons the bank has questions for, in order."""
    return tuple(sorted({q.lesson for q in load()}))


def select(lesson: str | None = None, kind: str | None = None) -> tuple[Question, ...]:
    """The questions of one lesson and/or one kind; KeyError with the choices when none match."""
    if lesson is not None:
        lesson = lesson.zfill(2)
        if lesson not in lessons():
            raise KeyError(f"no lesson {lesson!r} in the drills; lessons: {', '.join(lessons())}")
    if kind is not None and kind not in KINDS:
        raise KeyError(f"no kind {kind!r}; kinds: {', '.join(KINDS)}")
    return tuple(
        q for q in load() if (lesson is None or q.lesson == lesson) and kind in (None, q.kind)
    )
