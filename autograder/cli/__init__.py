"""`kafka-course`, the command line: a thin layer over every other package.

    main(argv) -> exit code     the entry point (`python -m autograder.cli` too)
    build_parser()              every subcommand: broker, groups, topic, progress, reset,
                                release, dev

Modules: ``main`` (the parser and the learner and author commands), ``broker`` (`broker up|down|
status|logs|reset`), ``groups`` (`groups list|describe|reset`) over ``group_admin`` (the admin
reads and offset moves they print) and ``group_records`` (a group's generation, from the
coordinator's records), ``topics`` (`topic dump`, a log record by record, markers included).
"""

from autograder.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
