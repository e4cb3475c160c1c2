"""`kafka-course drill` in plain text: practice, a timed mock interview, or a review.

Reads answers line by line from any stream, so it works typed or piped. Every answer is saved in
the history as soon as it is judged; a bad answer (empty, out of range, not a number) gets one
line and the same question again; the end of the input or ``q`` stops the drill, keeping
everything answered so far.

Practice shows the verdict, the model answer and the mistakes people make, and offers the proof
(a predict question always runs it: that is the point of predicting). A mock interview shows none
of that until the end, times every answer (``MOCK_SECONDS`` each; a later answer counts as
wrong) and ends with the score and the weakest topics.
"""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from autograder.drills import proof as proofs
from autograder.drills import session
from autograder.drills.bank import Question
from autograder.drills.history import History
from autograder.grading.paths import state_dir

MOCK_SECONDS = 120
WIDTH = 92


class Stop(Exception):
    """The learner typed q, or the input ended."""


@dataclass
class Drill:
    """One drill run: where it reads and writes, the broker its proofs use, its history."""

    bootstrap: str
    input: TextIO
    output: TextIO
    history: History = field(default_factory=History)
    clock: Callable[[], float] = time.monotonic

    # ----- input and output --------------------------------------------------------------

    def say(self, text: str = "", indent: str = "") -> None:
        for paragraph in text.split("\n"):
            wrapped = textwrap.fill(
                paragraph, WIDTH, initial_indent=indent, subsequent_indent=indent
            )
            print(wrapped or indent.rstrip(), file=self.output)
        self.output.flush()

    def ask(self, prompt: str) -> str:
        print(prompt, end="", file=self.output, flush=True)
        line = self.input.readline()
        if not line:
            print(file=self.output)
            raise Stop("end of input")
        if line.strip().lower() in ("q", "quit"):
            raise Stop("stopped")
        return line

    # ----- one question ------------------------------------------------------------------

    def show_question(self, number: int, total: int, question: Question) -> None:
        self.say()
        about = f"{question.topic} · {question.difficulty} · {question.kind}"
        self.say(f"Question {number}/{total} · {about}")
        self.say(question.question, "  ")
        for index, option in enumerate(question.options):
            self.say(f"{index + 1}) {option}", "    ")

    def answer(self, question: Question) -> int | float:
        """Ask until the answer parses; each bad one gets one line."""
        prompt = (
            f"answer [1-{len(question.options)}]: " if question.options else "answer (a number): "
        )
        if question.kind == "predict":
            prompt = "your prediction " + prompt[len("answer ") :]
        while True:
            value, problem = session.parse(question, self.ask(prompt))
            if problem is None and value is not None:
                return value
            self.say(f"  ✘ {problem}")

    def prove(self, question: Question) -> None:
        if not question.proof:
            return
        self.say("  Proving it on the broker…")
        try:
            shown = proofs.run(question.proof, self.bootstrap)
        except Exception as error:  # the broker down, most often: say so, keep drilling
            self.say(
                f"  the proof could not run: {error}. Is the broker up (`kafka-course broker up`)?"
            )
            return
        self.say(shown.text(), "  │ ")

    def teach(self, question: Question) -> None:
        self.say(f"Model answer: {question.model_answer}", "  ")
        for mistake in question.mistakes:
            self.say(f"Mistake people make: {mistake}", "  ")

    def practise(self, question: Question) -> session.Answered:
        if question.kind == "fix":
            return self.fix(question)
        value = self.answer(question)
        right = question.is_right(value)
        self.record(question, right)
        if question.kind == "predict":
            self.prove(question)
        verdict = "✔ right" if right else f"✘ not quite: the answer is {question.correct_text}"
        self.say(f"  {verdict}")
        self.teach(question)
        if question.proof and question.kind != "predict":
            if (
                self.ask("  p + Enter proves it on the broker, Enter goes on: ").strip().lower()
                == "p"
            ):
                self.prove(question)
        return session.Answered(question, right, session.shown(question, value))

    def fix(self, question: Question) -> session.Answered:
        exercise = session.fix_exercise(question)
        path = state_dir() / "drills" / f"{exercise.id}.py"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(session.broken_program(question))
        self.say(f"The program is in {path} (lesson 11's imports come with it):", "  ")
        self.say(path.read_text().rstrip(), "  │ ")
        while True:
            reply = self.ask(
                f"  edit it, then Enter grades `{exercise.function}` on the broker (s skips): "
            )
            if reply.strip().lower() == "s":
                self.record(question, False)
                self.teach(question)
                return session.Answered(question, False, "skipped")
            try:
                function = session.define(path.read_text(), exercise.function)
            except ValueError as error:
                self.say(f"  ✘ {error}")
                continue
            result = session.grade_fix(question, function, self.bootstrap)
            self.say(str(result), "  ")
            self.record(question, result.passed)
            if result.passed:
                self.teach(question)
            return session.Answered(
                question, result.passed, "repaired" if result.passed else "not yet"
            )

    def record(self, question: Question, right: bool) -> None:
        try:
            self.history.record(question.id, question.lesson, right)
        except OSError as error:
            self.say(f"  (could not save the history: {error})")

    # ----- whole drills ------------------------------------------------------------------

    def practice(self, questions: Sequence[Question]) -> list[session.Answered]:
        done: list[session.Answered] = []
        try:
            for number, question in enumerate(questions, 1):
                self.show_question(number, len(questions), question)
                done.append(self.practise(question))
        except Stop as stop:
            self.say(f"{stop}: stopped after {len(done)} of {len(questions)} questions.")
        self.say()
        right = sum(a.right for a in done)
        self.say(f"Score: {right}/{len(done)}. Answers saved in {self.history.path}.")
        return done

    def mock(self, questions: Sequence[Question]) -> list[session.Answered]:
        self.say(
            f"Mock interview: {len(questions)} questions across lessons, {MOCK_SECONDS} s each, "
            "no hints. The answers come at the end."
        )
        done: list[session.Answered] = []
        started = self.clock()
        try:
            for number, question in enumerate(questions, 1):
                self.show_question(number, len(questions), question)
                asked = self.clock()
                value = self.answer(question)
                took = self.clock() - asked
                late = took > MOCK_SECONDS
                right = question.is_right(value) and not late
                self.record(question, right)
                given = session.shown(question, value) + (
                    f" (after {took:.0f} s: over time)" if late else ""
                )
                done.append(session.Answered(question, right, given))
                self.say(f"  noted ({took:.0f} s)")
        except Stop as stop:
            self.say(f"{stop}: the interview ends after {len(done)} of {len(questions)} questions.")
        self.report(done, self.clock() - started)
        return done

    def report(self, done: Sequence[session.Answered], seconds: float) -> None:
        self.say()
        self.say(f"Score: {sum(a.right for a in done)}/{len(done)} in {seconds:.0f} s.")
        for item in done:
            mark = "✔" if item.right else "✘"
            line = f"{mark} {item.question.id}: you said {item.given}"
            if not item.right:
                line += f"; the answer is {item.question.correct_text}"
            self.say(line, "  ")
        weak = session.weakest(done)
        if weak:
            self.say("Weakest topics:")
            for topic, right, asked in weak:
                self.say(f"{topic}: {right}/{asked}", "  ")
            self.say("Drill them with `kafka-course drill --lesson NN`, or `--review` later.")
        elif done:
            self.say("No weak topic: every answer was right.")
