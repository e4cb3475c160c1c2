"""`kafka-course drill`: interview drills in the terminal, and the bank as a list.

kafka-course drill [--lesson NN] [--kind choice|number|predict|fix]   practise, question by question
kafka-course drill --mock N [--lesson NN] [--seed S]                  a timed mock interview
kafka-course drill --review                                           what you got wrong, when due
kafka-course drill --list [--json]                                    the question bank
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

KINDS = ("choice", "number", "predict", "fix")


def _list(questions, as_json: bool) -> int:
    if as_json:
        print(json.dumps([asdict(q) for q in questions], indent=1))
        return 0
    for q in questions:
        proved = "proof" if q.proof else "     "
        print(f"{q.lesson}  {q.kind:<7}  {q.difficulty:<6}  {proved}  {q.id}")
    print(f"{len(questions)} questions; {sum(bool(q.proof) for q in questions)} with a proof.")
    return 0


def _drill(args: argparse.Namespace) -> int:
    from autograder.broker import bootstrap_servers
    from autograder.drills import bank, session
    from autograder.drills.terminal import Drill

    try:
        questions = bank.select(args.lesson, args.kind)
    except KeyError as error:
        print(f"kafka-course drill: {error.args[0]}", file=sys.stderr)
        return 2
    except bank.BankError as error:
        print(f"kafka-course drill: the question bank is malformed: {error}", file=sys.stderr)
        return 2
    if args.list:
        return _list(questions, args.json)
    if args.mock is not None and args.mock < 1:
        print("kafka-course drill: --mock takes how many questions, 1 or more", file=sys.stderr)
        return 2
    drill = Drill(bootstrap_servers(), sys.stdin, sys.stdout)
    if args.review:
        due = set(drill.history.due())
        questions = tuple(q for q in questions if q.id in due)
        if not questions:
            upcoming = drill.history.next_due()
            later = f"; the next comes back {upcoming:%Y-%m-%d %H:%M}" if upcoming else ""
            print(f"Nothing to review now{later}. Wrong answers come back here, spaced out.")
            return 0
        drill.practice(questions)
    elif args.mock is not None:
        drawn = session.draw_mock(questions, args.mock, args.seed)
        if not drawn:
            print("kafka-course drill: no question to draw for a mock interview", file=sys.stderr)
            return 2
        drill.mock(drawn)
    else:
        drill.practice(questions)
    return 0


def scores_by_lesson() -> str:
    """The drill lines of `kafka-course progress`: per lesson, right of answered."""
    from autograder.drills.history import History

    history = History()
    scores = history.scores()
    if not scores:
        return "Drills: none answered yet (`kafka-course drill`)."
    lines = [f"Drills (latest answer per question, from {history.path}):"]
    lines += [
        f"  lesson {lesson}: {right}/{total} right" for lesson, (right, total) in scores.items()
    ]
    return "\n".join(lines)


def add_drill_commands(commands) -> None:
    drill = commands.add_parser("drill", help="interview drills: practise, mock interview, review")
    drill.add_argument("--lesson", metavar="NN", help="only this lesson's questions")
    drill.add_argument("--kind", choices=KINDS, help="only questions of this kind")
    mode = drill.add_mutually_exclusive_group()
    mode.add_argument("--mock", type=int, metavar="N", help="a timed mock interview of N questions")
    mode.add_argument("--review", action="store_true", help="what you answered wrong, when due")
    mode.add_argument("--list", action="store_true", help="list the question bank")
    drill.add_argument("--json", action="store_true", help="with --list: JSON")
    drill.add_argument("--seed", type=int, help="with --mock: the same draw every time")
    drill.set_defaults(handler=_drill)
