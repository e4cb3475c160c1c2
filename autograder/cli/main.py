"""`kafka-course`: the course's command line.

kafka-course broker up|down|status|logs|reset   the course's Kafka broker
kafka-course lab [--instructor] [--port N]      JupyterLab on the lessons (make lab)
kafka-course doctor [--json]                    is this machine ready? each problem with its fix
kafka-course progress                           which exercises you have passed, drill scores
kafka-course drill [--lesson NN] [--kind K] [--mock N] [--review] [--list [--json]]
                                                interview drills
kafka-course reset LESSON                       put a lesson's notebook back as released
kafka-course release [LESSON...] [--check]      regenerate notebooks/ and solutions/
kafka-course dev check [LESSON ...]             the course's self-test gate
kafka-course groups list                        every consumer group and its state
kafka-course groups describe GROUP [--json]     committed offset, end offset, lag
kafka-course groups reset GROUP --to-earliest|--to-latest|--to-datetime DATETIME
kafka-course topic dump TOPIC [--partition N] [--from OFFSET] [--limit N] [--json]
                        [--isolation read_committed|read_uncommitted]   records and markers
"""

from __future__ import annotations

import argparse
import sys

from autograder.grading.quiet import silence_kafka_logs


def _release(args: argparse.Namespace) -> int:
    from autograder.authoring import release

    if args.check:
        problems = release.drift()
        for line in problems:
            print(line)
        if problems:
            print("notebooks/ or solutions/ drifted from course/source: run `kafka-course release`")
            return 1
        print("notebooks/ and solutions/ match course/source")
        return 0
    release.write_all(args.lessons)
    print(
        "regenerated notebooks/ and solutions/ from course/source"
        + (f" for lesson(s) {', '.join(args.lessons)}" if args.lessons else "")
    )
    return 0


def _progress(args: argparse.Namespace) -> int:
    from autograder.cli.drill import scores_by_lesson
    from autograder.notebook import progress

    print(progress.summary())
    print(scores_by_lesson())
    return 0


def _reset(args: argparse.Namespace) -> int:
    from autograder.authoring.reset import reset_lesson

    try:
        backup = reset_lesson(args.lesson)
    except KeyError as error:
        print(error.args[0], file=sys.stderr)
        return 1
    print(f"lesson {args.lesson} is back as released; your previous notebook is in {backup}")
    return 0


def _dev_check(args: argparse.Namespace) -> int:
    from autograder.authoring import devcheck
    from autograder.broker import bootstrap_servers
    from autograder.grading import kafka_io

    bootstrap = bootstrap_servers()
    try:
        kafka_io.ping(bootstrap)
    except kafka_io.BrokerUnreachable as error:
        print(f"dev check needs a broker: {error}", file=sys.stderr)
        return 1
    report = devcheck.run(args.lessons, bootstrap, nbgrader=not args.no_nbgrader)
    return 1 if report.failed else 0


def build_parser() -> argparse.ArgumentParser:
    from autograder.cli.broker import add_broker_commands
    from autograder.cli.doctor import add_doctor_command
    from autograder.cli.drill import add_drill_commands
    from autograder.cli.groups import add_groups_commands
    from autograder.cli.lab import add_lab_command
    from autograder.cli.topics import add_topic_commands

    parser = argparse.ArgumentParser(prog="kafka-course", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    add_broker_commands(commands)
    add_groups_commands(commands)
    add_topic_commands(commands)
    add_drill_commands(commands)
    add_lab_command(commands)
    add_doctor_command(commands)

    commands.add_parser("progress", help="which exercises you have passed").set_defaults(
        handler=_progress
    )
    reset = commands.add_parser(
        "reset",
        help="put a lesson's notebook back as released (your copy is kept in .state/backups)",
    )
    reset.add_argument("lesson", metavar="LESSON", help="lesson id, e.g. 01")
    reset.set_defaults(handler=_reset)

    release = commands.add_parser("release", help="regenerate notebooks/ and solutions/")
    release.add_argument(
        "lessons", nargs="*", metavar="LESSON", help="only these lessons (default: all)"
    )
    release.add_argument(
        "--check", action="store_true", help="only report whether the committed copies drifted"
    )
    release.set_defaults(handler=_release)

    dev = commands.add_parser("dev", help="tools for course authors")
    dev_commands = dev.add_subparsers(dest="dev_command", required=True)
    check = dev_commands.add_parser("check", help="the self-test gate for lessons")
    check.add_argument("lessons", nargs="*", metavar="LESSON", help="lesson ids (default: all)")
    check.add_argument("--no-nbgrader", action="store_true", help="skip the nbgrader round trip")
    check.set_defaults(handler=_dev_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    silence_kafka_logs()
    args = build_parser().parse_args(argv)
    return args.handler(args) or 0


if __name__ == "__main__":
    sys.exit(main())
