"""Running `kafka-course ...` from a notebook cell, as a learner would type it in a terminal."""

from __future__ import annotations

import contextlib
import shlex
import sys


def kafka_course(*args: str) -> None:
    """Print the command line, run it in this process and print what it says (its error
    messages included, on stdout so they read as part of the cell), then a non-zero exit code.

    Runs in-process rather than in a shell: a notebook's shell may not have the course's
    virtualenv on its PATH, and a fresh interpreter costs a second each time.
    """
    from autograder.cli.main import build_parser
    from autograder.grading.quiet import grader_busy

    print("$ kafka-course " + " ".join(shlex.quote(a) for a in args))
    # As in a terminal, where the command silences kafka-python: only its own lines show.
    with contextlib.redirect_stderr(sys.stdout), grader_busy():
        try:
            parsed = build_parser().parse_args(list(args))
            code = parsed.handler(parsed) or 0
        except SystemExit as stop:  # argparse refusing the command line
            code = stop.code if isinstance(stop.code, int) else 2
    if code:
        print(f"(exit code {code})")
