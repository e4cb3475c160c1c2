"""`kafka-course broker up|down|status|logs|reset`: the broker API as shell commands.

Every command prints plain lines on stdout; a BrokerError prints its message on stderr and
exits 1. Try it without the top-level CLI:

    python -m autograder.cli.broker broker status
"""

from __future__ import annotations

import argparse
import sys

from autograder.broker import control
from autograder.broker.errors import BrokerError


def add_broker_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register `broker up|down|status|logs|reset` on a parser's subparsers.

    Each command sets `args.handler(args) -> int` (the exit code), as the top-level CLI expects.
    """
    broker = subparsers.add_parser(
        "broker",
        help="start, stop and inspect the course's broker",
        description="The course's single-node Kafka broker.",
    )
    verbs = broker.add_subparsers(dest="broker_command", required=True, metavar="COMMAND")

    up = verbs.add_parser("up", help="start the broker (no-op if it already runs)")
    up.add_argument(
        "--port",
        type=int,
        default=9092,
        help="client port on localhost (9092); with --nodes N, the first of N",
    )
    up.add_argument(
        "--nodes",
        type=int,
        default=1,
        help="brokers: 1 (default) or more for a real cluster with one controller",
    )
    up.set_defaults(handler=_guarded(_up))

    verbs.add_parser(
        "down", help="stop the broker (every node of a cluster); its data stays"
    ).set_defaults(handler=_guarded(lambda args: print(control.down())))
    verbs.add_parser("status", help="say which broker the course uses and where").set_defaults(
        handler=_guarded(lambda args: print(control.status().describe()))
    )

    logs = verbs.add_parser("logs", help="print the end of the broker's log")
    logs.add_argument("-n", "--lines", type=int, default=50, help="how many lines (50)")
    logs.set_defaults(handler=_guarded(lambda args: print(control.logs(args.lines))))

    verbs.add_parser("reset", help="stop the broker and wipe its data (jars stay)").set_defaults(
        handler=_guarded(lambda args: print(control.reset()))
    )


def _up(args: argparse.Namespace) -> None:
    if args.nodes < 1:
        raise BrokerError(f"--nodes must be 1 or more, not {args.nodes}.")
    if not control.status().running:
        where = (
            f"on localhost:{args.port}"
            if args.nodes == 1
            else f"as a {args.nodes}-broker cluster on localhost:{args.port}-"
            f"{args.port + args.nodes - 1}"
        )
        print(
            f"Starting Kafka {where} "
            "(the very first start also fetches the Kafka jars, about 55 MB)...",
            flush=True,
        )
    print(control.up(port=args.port, nodes=args.nodes).describe())


def _guarded(command):
    """Run `command`; a BrokerError becomes its message on stderr and exit code 1."""

    def handler(args: argparse.Namespace) -> int:
        try:
            command(args)
        except BrokerError as error:
            print(error, file=sys.stderr)
            return 1
        return 0

    return handler


def main(argv: list[str] | None = None) -> int:
    """A stand-alone `broker ...` command line, for trying it outside `kafka-course`."""
    parser = argparse.ArgumentParser(prog="kafka-course")
    add_broker_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
