"""`kafka-course groups list | describe | reset`: consumer groups, their lag, and resets.

    kafka-course groups list
    kafka-course groups describe GROUP [--json]
    kafka-course groups describe GROUP --members [--json]
    kafka-course groups reset GROUP (--to-earliest | --to-latest | --to-datetime DATETIME)
                                    [--topic TOPIC ...] [--dry-run]

`describe` prints, per partition, the group's committed offset, the log end offset and the lag,
laid out like Kafka's `kafka-consumer-groups.sh --describe`. A partition the group never
committed shows `-` (null in `--json`) as committed offset and as lag: where a consumer would
start there depends on its `auto.offset.reset`. `--json` prints a list of
`{"topic", "partition", "committed", "end", "lag"}` objects.

`describe --members` prints the group as a whole (state, protocol type, group protocol,
assignor, generation, member count) and then one row per member, with the columns of Kafka's
`kafka-consumer-groups --describe --members --verbose`: member id, `group.instance.id` (`-` for a
dynamic member), host, client id, number of partitions, member epoch, assigned partitions,
target epoch and target partitions (`topic:0,1;other:2`). The epochs and the target exist only
in a consumer-protocol group (KIP-848); a classic group shows `-` there, as Kafka's tool does.
Unlike Kafka's tool it also shows a classic group's generation, read from the coordinator's
records in __consumer_offsets (the generation of the last completed rebalance). `--json`
prints one object (MEMBERS_JSON_SHAPE below).

`reset` acts at once (no `--execute` as Kafka's tool wants: a course broker holds nothing a
reset could lose, since it moves bookmarks, never records); `--dry-run` shows the moves without
making them. It refuses while the group has active members. Without `--topic` it moves every
partition of every topic the group has committed offsets on. `--to-datetime` takes ISO 8601
(`2026-11-27T10:00:00`, local time, or with an offset: `2026-11-27T10:00:00+00:00`, `...Z`) and
moves each partition to its first record written at or after that moment (the end offset when
there is none).

Exit codes: 0 done; 1 the broker is down, the group or topic is unknown, or the group has
active members (one line on stderr says what to do); 2 the command line itself is wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when a command runs: `kafka-course broker ...` needs no kafka-python
    from autograder.cli.group_admin import (
        GroupAdmin,
        GroupMembers,
        GroupView,
        OffsetMove,
        ResetTarget,
    )

EXIT_CODES = (
    "exit codes: 0 done; 1 the broker is down, the group or topic is unknown, or the "
    "group has active members; 2 the command line is wrong"
)
MEMBERS_JSON_SHAPE = """\
{"group": str, "state": str, "protocol_type": "consumer", "group_protocol": "classic" | "consumer",
 "assignor": str, "generation": int | null, "target_epoch": int | null,
 "members": [{"member_id": str, "client_id": str, "host": str, "group_instance_id": str | null,
              "partitions": [{"topic": str, "partition": int}, ...],
              "member_epoch": int | null, "target_partitions": [...] | null}, ...]}
(generation: a classic group's generation or a consumer group's group epoch, null if its record
was not found; target_epoch, member_epoch and target_partitions: null in a classic group)"""
GROUP_COLUMNS = (
    "GROUP",
    "STATE",
    "PROTOCOL-TYPE",
    "GROUP-PROTOCOL",
    "ASSIGNMENT-STRATEGY",
    "GENERATION",
    "#MEMBERS",
)
MEMBER_COLUMNS = (
    "GROUP",
    "CONSUMER-ID",
    "GROUP-INSTANCE-ID",
    "HOST",
    "CLIENT-ID",
    "#PARTITIONS",
    "CURRENT-EPOCH",
    "CURRENT-ASSIGNMENT",
    "TARGET-EPOCH",
    "TARGET-ASSIGNMENT",
)
DESCRIBE_COLUMNS = (
    "GROUP",
    "TOPIC",
    "PARTITION",
    "CURRENT-OFFSET",
    "LOG-END-OFFSET",
    "LAG",
    "CONSUMER-ID",
    "HOST",
    "CLIENT-ID",
)


def _bootstrap() -> str:
    from autograder.broker import bootstrap_servers

    return bootstrap_servers()


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Left-aligned columns two spaces apart, as Kafka's tools print them."""
    cells = [list(header)] + [["-" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells)
    return "\n".join(line.rstrip() for line in lines)


def describe_text(view: GroupView) -> str:
    """The describe table; a line above it when the group has no active member."""
    rows = [
        (
            view.group,
            row.topic,
            row.partition,
            row.committed,
            row.end,
            row.lag,
            row.member.member_id if row.member else None,
            row.member.host if row.member else None,
            row.member.client_id if row.member else None,
        )
        for row in view.partitions
    ]
    lines = []
    if not view.members:
        lines.append(f"Consumer group '{view.group}' has no active members.\n")
    if rows:
        lines.append(table(DESCRIBE_COLUMNS, rows))
    else:
        lines.append(
            f"Consumer group '{view.group}' has no committed offsets and no assigned partitions."
        )
    return "\n".join(lines)


def describe_json(view: GroupView) -> str:
    return json.dumps([row.to_json() for row in view.partitions], indent=2)


def assignment_text(partitions: Sequence[tuple[str, int]] | None) -> str | None:
    """("t", 0), ("t", 1), ("u", 2) -> "t:0,1;u:2", as Kafka's tool writes an assignment."""
    if not partitions:
        return None
    by_topic: dict[str, list[int]] = {}
    for topic, partition in sorted(partitions):
        by_topic.setdefault(topic, []).append(partition)
    return ";".join(f"{t}:{','.join(map(str, ps))}" for t, ps in by_topic.items())


def members_text(view: GroupMembers) -> str:
    """The group line, then one row per member (or a line saying there is none)."""
    group_row = (
        view.group,
        view.state,
        view.protocol_type or None,
        view.group_protocol,
        view.assignor or None,
        view.generation,
        len(view.members),
    )
    lines = [table(GROUP_COLUMNS, [group_row]), ""]
    if not view.members:
        lines.append(f"Consumer group '{view.group}' has no active members.")
        return "\n".join(lines)
    rows = [
        (
            view.group,
            m.member_id,
            m.group_instance_id,
            m.host,
            m.client_id,
            len(m.partitions),
            m.epoch,
            assignment_text(m.partitions),
            view.target_epoch if m.target is not None else None,
            assignment_text(m.target),
        )
        for m in view.members
    ]
    lines.append(table(MEMBER_COLUMNS, rows))
    return "\n".join(lines)


def reset_text(group: str, target: ResetTarget, moves: list[OffsetMove], dry_run: bool) -> str:
    rows = [(group, m.topic, m.partition, m.before, m.after) for m in moves]
    text = table(("GROUP", "TOPIC", "PARTITION", "OLD-OFFSET", "NEW-OFFSET"), rows)
    verb = "would move (dry run, nothing changed)" if dry_run else "moved"
    return f"{text}\n{verb} {len(moves)} partition(s) of {group!r} to {target.describe()}"


def _list(args: argparse.Namespace, groups: GroupAdmin) -> None:
    found = groups.list_groups()
    if not found:
        print(f"no consumer groups at {groups.bootstrap}")
        return
    print(table(("GROUP", "STATE"), [(g.group, g.state) for g in found]))


def _describe(args: argparse.Namespace, groups: GroupAdmin) -> None:
    if args.members:
        members = groups.describe_members(args.group)
        print(json.dumps(members.to_json(), indent=2) if args.json else members_text(members))
        return
    view = groups.describe(args.group)
    print(describe_json(view) if args.json else describe_text(view))


def _reset(args: argparse.Namespace, groups: GroupAdmin) -> None:
    from autograder.cli.group_admin import ResetTarget

    if args.to_datetime is not None:
        target = ResetTarget("datetime", args.to_datetime)
    else:
        target = ResetTarget("earliest" if args.to_earliest else "latest")
    moves = groups.reset(args.group, target, args.topic, dry_run=args.dry_run)
    print(reset_text(args.group, target, moves, args.dry_run))


def _guarded(command: Callable[[argparse.Namespace, GroupAdmin], None]):
    """Run ``command`` with an admin client; a GroupError is one line on stderr and exit 1."""

    def handler(args: argparse.Namespace) -> int:
        from autograder.cli.group_admin import GroupAdmin, GroupError

        try:
            with GroupAdmin(_bootstrap()) as groups:
                command(args, groups)
        except GroupError as error:
            print(f"kafka-course groups: {error}", file=sys.stderr)
            return 1
        return 0

    return handler


def _datetime_argument(text: str):
    from autograder.cli.group_admin import parse_datetime

    try:
        return parse_datetime(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_groups_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register `groups list|describe|reset` on a parser's subparsers."""
    groups = subparsers.add_parser(
        "groups",
        help="consumer groups: lag and offset resets",
        description="Consumer groups: committed offsets, lag, resets.",
        epilog=EXIT_CODES,
    )
    verbs = groups.add_subparsers(dest="groups_command", required=True, metavar="COMMAND")

    verbs.add_parser(
        "list", help="every consumer group on the broker, with its state"
    ).set_defaults(handler=_guarded(_list))

    describe = verbs.add_parser(
        "describe",
        help="committed offset, end offset and lag per partition; --members: the members",
        description="Committed offset, end offset and lag per partition. With --members: the\n"
        "group's state, protocol, assignor and generation, and each member's id, instance id,\n"
        "host, client id and partitions (kafka-consumer-groups --describe --members --verbose).",
        epilog=f"--members --json prints:\n{MEMBERS_JSON_SHAPE}\n\n{EXIT_CODES}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    describe.add_argument("group", metavar="GROUP")
    describe.add_argument(
        "--members",
        action="store_true",
        help="the members and their partitions, the group's state, assignor and generation",
    )
    describe.add_argument(
        "--json",
        action="store_true",
        help="a JSON list of {topic, partition, committed, end, lag}, null where never "
        "committed; with --members one object (shape below)",
    )
    describe.set_defaults(handler=_guarded(_describe))

    reset = verbs.add_parser(
        "reset",
        help="move a group's committed offsets (the group must have no active members)",
        epilog=EXIT_CODES,
        description="Move a group's committed offsets at once (--dry-run "
        "only shows the moves). Refused while the group has active members.",
    )
    reset.add_argument("group", metavar="GROUP")
    where = reset.add_mutually_exclusive_group(required=True)
    where.add_argument("--to-earliest", action="store_true", help="the oldest records kept")
    where.add_argument(
        "--to-latest", action="store_true", help="the end: skip every record written so far"
    )
    where.add_argument(
        "--to-datetime",
        metavar="DATETIME",
        type=_datetime_argument,
        help="the first record at or after an ISO 8601 time, e.g. "
        "2026-11-27T10:00:00 (local time) or 2026-11-27T10:00:00+00:00",
    )
    reset.add_argument(
        "--topic",
        action="append",
        metavar="TOPIC",
        help="only this topic "
        "(repeatable); default: every topic the group has committed offsets on",
    )
    reset.add_argument("--dry-run", action="store_true", help="show the moves, change nothing")
    reset.set_defaults(handler=_guarded(_reset))
