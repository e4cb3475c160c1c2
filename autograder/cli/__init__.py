"""`kafka-course`, the command line: a thin layer over every other package.

    main(argv) -> exit code     the entry point (`python -m autograder.cli` too)
    build_parser()              every subcommand: broker, groups, progress, reset, release, dev

Modules: ``main`` (the parser and the learner and author commands), ``broker`` (`broker up|down|
status|logs|reset`), ``groups`` (`groups list|describe|reset`) over ``group_admin`` (the admin
reads and offset moves they print).
"""

from autograder.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
