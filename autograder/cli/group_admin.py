"""Consumer groups seen from outside: committed offsets, end offsets, lag, and resets.

This is what `kafka-course groups` runs, and what lesson 08 reads while it charts lag. It only
uses the admin API, so looking at a group never joins it, never commits and never moves it.

Rules, the same everywhere in the course:

* **lag = end offset - committed offset**. The committed offset is the next record the group
  will read, so a group that has read everything has lag 0.
* A partition the group never committed has ``committed = None`` and ``lag = None``: where a
  consumer would start there depends on its ``auto.offset.reset``, so its lag is unknown.
  (Kafka's own tool prints ``-`` for both.)
* The partitions of a group are every partition of every topic it has committed offsets on or
  that a member of it is assigned, so a partition it never committed shows up too.
* A group of either protocol is described: a classic group through DescribeGroups (kafka-python),
  a consumer-protocol group (KIP-848, `group.protocol=consumer`), which DescribeGroups refuses
  ("is not a classic group"), through ConsumerGroupDescribe (confluent-kafka's admin client, as
  kafka-python 3.0.12 has no such request). Generations and epochs, which neither gives, are
  read from the coordinator's own records (group_records).

Example:
    >>> with GroupAdmin("localhost:9092") as groups:
    ...     view = groups.describe("my-group")
    >>> [(row.partition, row.lag) for row in view.partitions]
    [(0, 3), (1, None)]
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from kafka import KafkaAdminClient, TopicPartition
from kafka.admin import OffsetSpec
from kafka.protocol.consumer import OffsetTimestamp
from kafka.structs import OffsetAndMetadata

REQUEST_TIMEOUT_MS = 5000
BOOTSTRAP_TIMEOUT_MS = 3000  # a stopped broker is reported in seconds

# Kafka error classes that mean "the broker is not there (any more)".
_UNREACHABLE = (
    "NoBrokersAvailable",
    "KafkaConnectionError",
    "KafkaTimeoutError",
    "RequestTimedOutError",
    "NodeNotReadyError",
)


class GroupError(Exception):
    """A one-line reason the command could not be done, saying what to do instead."""


class BrokerDown(GroupError):
    pass


class UnknownGroup(GroupError):
    pass


class GroupActive(GroupError):
    pass


@dataclass(frozen=True)
class Member:
    """One consumer in the group, as the group coordinator knows it.

    ``target`` (the partitions the coordinator is moving the member to) and ``epoch`` (the
    member epoch) exist only in a consumer-protocol group; a classic group has None there.
    """

    member_id: str
    client_id: str
    host: str
    partitions: tuple[tuple[str, int], ...]
    group_instance_id: str | None = None
    target: tuple[tuple[str, int], ...] | None = None
    epoch: int | None = None

    def to_json(self) -> dict:
        return {
            "member_id": self.member_id,
            "client_id": self.client_id,
            "host": self.host,
            "group_instance_id": self.group_instance_id,
            "partitions": _partitions_json(self.partitions),
            "member_epoch": self.epoch,
            "target_partitions": None if self.target is None else _partitions_json(self.target),
        }


def _partitions_json(partitions: tuple[tuple[str, int], ...]) -> list[dict]:
    return [{"topic": topic, "partition": partition} for topic, partition in partitions]


@dataclass(frozen=True)
class GroupMembers:
    """A group's members and what the coordinator says about the group as a whole.

    ``group_protocol`` is "classic" or "consumer" (KIP-848). ``assignor`` is the classic
    group's chosen protocol (range, roundrobin, sticky, cooperative-sticky) or the broker-side
    assignor of a consumer group (uniform, range). ``generation`` is a classic group's
    generation or a consumer group's group epoch, as last written to __consumer_offsets; None
    when that record could not be found. ``target_epoch``: a consumer group's target
    assignment epoch (None for classic).
    """

    group: str
    state: str
    protocol_type: str
    group_protocol: str
    assignor: str
    generation: int | None
    target_epoch: int | None
    members: tuple[Member, ...]

    def to_json(self) -> dict:
        return {
            "group": self.group,
            "state": self.state,
            "protocol_type": self.protocol_type,
            "group_protocol": self.group_protocol,
            "assignor": self.assignor,
            "generation": self.generation,
            "target_epoch": self.target_epoch,
            "members": [member.to_json() for member in self.members],
        }


@dataclass(frozen=True)
class PartitionLag:
    """One partition of a group: where it committed, where the log ends, and who reads it."""

    topic: str
    partition: int
    committed: int | None
    end: int
    member: Member | None = None

    @property
    def lag(self) -> int | None:
        """Records written but not yet committed by the group; None if it never committed."""
        return None if self.committed is None else self.end - self.committed

    def to_json(self) -> dict:
        return {
            "topic": self.topic,
            "partition": self.partition,
            "committed": self.committed,
            "end": self.end,
            "lag": self.lag,
        }


@dataclass(frozen=True)
class GroupView:
    """A group at one moment: its state, its members and every partition's lag."""

    group: str
    state: str
    members: tuple[Member, ...]
    partitions: tuple[PartitionLag, ...]

    @property
    def total_lag(self) -> int:
        """The sum of the known lags (partitions never committed count for nothing)."""
        return sum(row.lag for row in self.partitions if row.lag is not None)


@dataclass(frozen=True)
class GroupSummary:
    group: str
    state: str


@dataclass(frozen=True)
class OffsetMove:
    """One partition's committed offset before and after a reset."""

    topic: str
    partition: int
    before: int | None
    after: int


@dataclass(frozen=True)
class ResetTarget:
    """Where to move a group: the earliest or the latest offsets, or the first record written
    at or after a moment (``when``, timezone-aware)."""

    kind: Literal["earliest", "latest", "datetime"]
    when: datetime | None = None

    def spec(self) -> OffsetSpec | OffsetTimestamp:
        if self.kind == "earliest":
            return OffsetSpec.EARLIEST
        if self.kind == "latest":
            return OffsetSpec.LATEST
        assert self.when is not None and self.when.tzinfo is not None
        return OffsetTimestamp(int(self.when.timestamp() * 1000))

    def describe(self) -> str:
        if self.kind == "datetime":
            assert self.when is not None
            return f"the first record at or after {self.when.isoformat()}"
        return f"the {self.kind} offsets"


def parse_datetime(text: str) -> datetime:
    """An ISO 8601 date or date-time; one without a timezone is taken as local time.

    Example:
        >>> parse_datetime("2026-11-27T10:00:00+00:00").isoformat()
        '2026-11-27T10:00:00+00:00'
    """
    cleaned = text.strip()
    if cleaned.endswith(("Z", "z")):  # Python 3.10's fromisoformat does not know "Z"
        cleaned = cleaned[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO 8601 date-time such as 2026-11-27T10:00:00 "
            "(local time) or 2026-11-27T10:00:00+00:00"
        ) from None
    return moment if moment.tzinfo is not None else moment.astimezone()


def _member(raw: dict) -> Member:
    assignment = raw.get("member_assignment") or {}
    partitions = []
    if isinstance(assignment, dict):
        for entry in assignment.get("assigned_partitions", []):
            partitions += [(entry["topic"], p) for p in entry["partitions"]]
    return Member(
        member_id=raw.get("member_id", ""),
        client_id=raw.get("client_id", ""),
        host=(raw.get("client_host") or "").lstrip("/"),
        partitions=tuple(sorted(partitions)),
        group_instance_id=raw.get("group_instance_id") or None,
    )


def _confluent_partitions(assignment) -> tuple[tuple[str, int], ...]:
    return tuple(sorted((tp.topic, tp.partition) for tp in assignment.topic_partitions))


def _confluent_state(state) -> str:
    """ConsumerGroupState.STABLE -> "Stable", as DescribeGroups spells states."""
    name = getattr(state, "name", str(state))
    return "".join(word.capitalize() for word in name.split("_"))


class GroupAdmin:
    """An admin client for looking at and resetting groups; close it (or use ``with``)."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        try:
            self._admin = KafkaAdminClient(
                bootstrap_servers=bootstrap,
                client_id="kafka-course-groups",
                request_timeout_ms=REQUEST_TIMEOUT_MS,
                bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
            )
        except Exception as error:
            raise self._down(error) from None

    def __enter__(self) -> GroupAdmin:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self._admin.close()

    def _down(self, error: Exception) -> BrokerDown:
        return BrokerDown(
            f"no Kafka broker answers at {self.bootstrap} "
            f"({type(error).__name__}); start it with `kafka-course broker up`, "
            "or point KAFKA_BOOTSTRAP_SERVERS at a running one"
        )

    def _call(self, method: str, *args, **kwargs):
        try:
            return getattr(self._admin, method)(*args, **kwargs)
        except Exception as error:
            if type(error).__name__ in _UNREACHABLE:
                raise self._down(error) from None
            raise

    # -- reading ----------------------------------------------------------------------

    def list_groups(self) -> list[GroupSummary]:
        """Every group the broker knows, sorted by id."""
        found = self._call("list_groups")
        return sorted(
            (GroupSummary(g["group_id"], g.get("group_state") or "?") for g in found),
            key=lambda g: g.group,
        )

    def _description(self, group: str) -> dict:
        """DescribeGroups' answer; for a consumer-protocol group (which it refuses), the same
        keys filled from ConsumerGroupDescribe, plus "group_protocol"."""
        raw = self._call("describe_groups", [group])[group]
        error = raw.get("error") or ""
        if "is not a classic group" in error:
            return self._consumer_protocol_description(group)
        if "GroupIdNotFound" in error:
            raise UnknownGroup(
                f"no consumer group {group!r} at {self.bootstrap}; "
                "`kafka-course groups list` shows the groups there"
            )
        return {**raw, "group_protocol": "classic"}

    def _consumer_protocol_description(self, group: str) -> dict:
        # Imported here: only consumer-protocol groups need librdkafka.
        from confluent_kafka.admin import AdminClient

        admin = AdminClient(
            {"bootstrap.servers": self.bootstrap, "client.id": "kafka-course-groups"}
        )
        future = admin.describe_consumer_groups([group], request_timeout=REQUEST_TIMEOUT_MS / 1000)
        try:
            described = future[group].result(timeout=REQUEST_TIMEOUT_MS / 1000 + 5)
        except Exception as error:
            raise GroupError(
                f"the broker did not describe consumer-protocol group {group!r} ({error}); "
                "run the command again, and if it persists check `kafka-course broker status`"
            ) from None
        members = [
            Member(
                member_id=m.member_id,
                client_id=m.client_id,
                host=(m.host or "").lstrip("/"),
                partitions=_confluent_partitions(m.assignment),
                group_instance_id=m.group_instance_id or None,
                target=_confluent_partitions(m.target_assignment)
                if m.target_assignment is not None
                else (),
            )
            for m in described.members
        ]
        return {
            "group_state": _confluent_state(described.state),
            "protocol_type": "consumer",
            "protocol_data": described.partition_assignor or "",
            "group_protocol": "consumer",
            "members": members,
        }

    def _members(self, raw: dict) -> tuple[Member, ...]:
        return tuple(m if isinstance(m, Member) else _member(m) for m in raw.get("members", []))

    def _partitions(self, topics: set[str]) -> list[TopicPartition]:
        if not topics:
            return []
        described = self._call("describe_topics", sorted(topics))
        return sorted(
            TopicPartition(t["name"], p["partition_index"])
            for t in described
            for p in t["partitions"]
        )

    def _ends(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        if not partitions:
            return {}
        found = self._call("list_partition_offsets", {tp: OffsetSpec.LATEST for tp in partitions})
        return {tp: answer.offset for tp, answer in found.items()}

    def _committed(self, group: str) -> dict[TopicPartition, int]:
        found = self._call("list_group_offsets", {group: None}).get(group, {})
        return {tp: meta.offset for tp, meta in found.items() if meta.offset >= 0}

    def describe(self, group: str) -> GroupView:
        """The group's state, members and lag per partition; UnknownGroup if there is none."""
        raw = self._description(group)
        members = self._members(raw)
        committed = self._committed(group)
        owner = {tp: m for m in members for tp in m.partitions}
        topics = {tp.topic for tp in committed} | {topic for topic, _ in owner}
        partitions = self._partitions(topics)
        ends = self._ends(partitions)
        rows = tuple(
            PartitionLag(
                tp.topic,
                tp.partition,
                committed.get(tp),
                ends[tp],
                owner.get((tp.topic, tp.partition)),
            )
            for tp in partitions
        )
        return GroupView(group, raw.get("group_state") or "?", members, rows)

    def describe_members(self, group: str) -> GroupMembers:
        """The group's members (id, client id, host, instance id, partitions) and its state,
        protocol type, protocol, assignor and generation; UnknownGroup if there is none."""
        from autograder.cli.group_records import read_group_records

        raw = self._description(group)
        members = self._members(raw)
        consumer_protocol = raw["group_protocol"] == "consumer"
        try:
            records = read_group_records(
                self.bootstrap,
                group,
                tuple(m.member_id for m in members) if consumer_protocol else (),
            )
        except Exception as error:
            if type(error).__name__ in _UNREACHABLE:
                raise self._down(error) from None
            raise
        if consumer_protocol:
            members = tuple(
                replace(m, epoch=records.member_epochs.get(m.member_id)) for m in members
            )
        return GroupMembers(
            group=group,
            state=raw.get("group_state") or "?",
            protocol_type=raw.get("protocol_type") or "",
            group_protocol=raw["group_protocol"],
            assignor=raw.get("protocol_data") or "",
            generation=records.generation,
            target_epoch=records.target_epoch if consumer_protocol else None,
            members=tuple(sorted(members, key=lambda m: (m.client_id, m.member_id))),
        )

    # -- resetting --------------------------------------------------------------------

    def plan_reset(
        self, group: str, target: ResetTarget, topics: list[str] | None = None
    ) -> list[OffsetMove]:
        """Where a reset would move each partition, without moving anything.

        ``topics`` defaults to every topic the group has committed offsets on; every partition
        of each is moved, those never committed included. Refuses (GroupActive) while the group
        has members: their own commits would overwrite the reset at once.
        """
        members = self._members(self._description(group))
        if members:
            clients = ", ".join(sorted({m.client_id for m in members}))
            raise GroupActive(
                f"group {group!r} has {len(members)} active member(s) "
                f"(client id {clients}); stop its consumers first (close() them "
                "or end their programs), then run the reset again"
            )
        committed = self._committed(group)
        if topics:
            existing = set(self._call("list_topics"))
            missing = [t for t in topics if t not in existing]
            if missing:
                raise GroupError(
                    f"no topic {missing[0]!r} at {self.bootstrap}; check the name given to --topic"
                )
            wanted = set(topics)
        else:
            wanted = {tp.topic for tp in committed}
            if not wanted:
                raise GroupError(
                    f"group {group!r} has no committed offsets to reset; name the "
                    "topic to start it on with --topic"
                )
        partitions = self._partitions(wanted)
        spec = target.spec()
        earliest = self._call(
            "list_partition_offsets", {tp: OffsetSpec.EARLIEST for tp in partitions}
        )
        latest = self._ends(partitions)
        found = self._call("list_partition_offsets", {tp: spec for tp in partitions})
        moves = []
        for tp in partitions:
            offset = found[tp].offset
            # No record at or after the moment: the offset the next record will get.
            if offset < 0 or offset > latest[tp]:
                offset = latest[tp]
            offset = max(offset, earliest[tp].offset)
            moves.append(OffsetMove(tp.topic, tp.partition, committed.get(tp), offset))
        return moves

    def reset(
        self,
        group: str,
        target: ResetTarget,
        topics: list[str] | None = None,
        dry_run: bool = False,
    ) -> list[OffsetMove]:
        """Move the group's committed offsets to ``target``; the moves made (or planned)."""
        moves = self.plan_reset(group, target, topics)
        if dry_run or not moves:
            return moves
        offsets = {
            TopicPartition(m.topic, m.partition): OffsetAndMetadata(m.after, "", -1) for m in moves
        }
        answers = self._call("alter_group_offsets", group, offsets)
        refused = {tp: error for tp, error in answers.items() if error.__name__ != "NoError"}
        if any(
            e.__name__
            in ("UnknownMemberIdError", "RebalanceInProgressError", "IllegalGenerationError")
            for e in refused.values()
        ):
            raise GroupActive(
                f"group {group!r} gained a member during the reset; stop its "
                "consumers first, then run the reset again"
            )
        if refused:
            tp, error = sorted(refused.items())[0]
            raise GroupError(
                f"the broker refused the reset of {tp.topic}/{tp.partition}: {error.__name__}"
            )
        return moves
