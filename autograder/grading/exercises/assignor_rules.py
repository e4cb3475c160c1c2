"""The range and round-robin assignors' rules, and the mistakes learners make with them (lesson
09's predict-assignment).

The check never takes these for the truth: it forms each group on the broker and compares the
learner's answer with what the group's leader really assigned. These rules only let it say which
mistake an answer made, so the hint can name it.

An assignment is ``{member: {topic: (partition, ...)}}``; ``members`` maps each member's name
to the topics it subscribes to, ``partitions`` each topic to its partition count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

Assignment = dict[str, dict[str, tuple[int, ...]]]
Members = Mapping[str, Sequence[str]]


def _tidy(found: Mapping[str, Mapping[str, Iterable[int]]], members: Iterable[str]) -> Assignment:
    return {
        member: {t: tuple(sorted(ps)) for t, ps in sorted(found.get(member, {}).items()) if ps}
        for member in members
    }


def range_rule(members: Members, partitions: Mapping[str, int], order=sorted) -> Assignment:
    """Topic by topic: the topic's partitions in order, cut into one contiguous run per
    subscribed member (members in ``order``), the first members one partition longer."""
    found: dict[str, dict[str, list[int]]] = {m: {} for m in members}
    for topic, count in sorted(partitions.items()):
        readers = order([m for m in members if topic in members[m]])
        if not readers:
            continue
        share, extra = divmod(count, len(readers))
        start = 0
        for index, member in enumerate(readers):
            length = share + (1 if index < extra else 0)
            found[member][topic] = list(range(start, start + length))
            start += length
    return _tidy(found, members)


def round_robin_rule(members: Members, partitions: Mapping[str, int], order=sorted) -> Assignment:
    """Every partition of every topic, sorted by (topic, partition), dealt one at a time to the
    members in ``order`` in a circle; a member not subscribed to the partition's topic is
    passed over (and loses that turn)."""
    found: dict[str, dict[str, list[int]]] = {m: {} for m in members}
    circle = order(list(members))
    turn = 0
    for topic, count in sorted(partitions.items()):
        for partition in range(count):
            while topic not in members[circle[turn % len(circle)]]:
                turn += 1
            found[circle[turn % len(circle)]].setdefault(topic, []).append(partition)
            turn += 1
    return _tidy(found, members)


RULES: dict[str, Callable[..., Assignment]] = {"range": range_rule, "roundrobin": round_robin_rule}


def _as_given(names):
    return list(names)


def _round_robin_topic_by_topic(members: Members, partitions: Mapping[str, int]) -> Assignment:
    merged: dict[str, dict[str, tuple[int, ...]]] = {m: {} for m in members}
    for topic, count in partitions.items():
        for member, topics in round_robin_rule(members, {topic: count}).items():
            merged[member].update(topics)
    return _tidy(merged, members)


def _range_over_every_partition(members: Members, partitions: Mapping[str, int]) -> Assignment:
    every = [(t, p) for t, count in sorted(partitions.items()) for p in range(count)]
    ordered = sorted(members)
    share, extra = divmod(len(every), len(ordered))
    found: dict[str, dict[str, list[int]]] = {m: {} for m in members}
    start = 0
    for index, member in enumerate(ordered):
        length = share + (1 if index < extra else 0)
        for topic, partition in every[start : start + length]:
            found[member].setdefault(topic, []).append(partition)
        start += length
    return _tidy(found, members)


def mistakes(
    assignor: str, members: Members, partitions: Mapping[str, int]
) -> dict[str, Assignment]:
    """What each known mistake predicts for this case, by the mistake's name."""
    other = "roundrobin" if assignor == "range" else "range"
    found = {
        "members in the order given": RULES[assignor](members, partitions, order=_as_given),
        f"the {other} rule": RULES[other](members, partitions),
    }
    if assignor == "roundrobin":
        found["dealt topic by topic"] = _round_robin_topic_by_topic(members, partitions)
    else:
        found["one range over every partition"] = _range_over_every_partition(members, partitions)
    return found


def normalised(answer, members: Iterable[str]) -> Assignment | None:
    """The learner's answer as an Assignment (JSON made its lists of lists); None when it has
    another shape."""
    if not isinstance(answer, dict):
        return None
    found: dict[str, dict[str, list[int]]] = {}
    for member, topics in answer.items():
        if not isinstance(topics, dict):
            return None
        try:
            found[str(member)] = {str(t): [int(p) for p in ps] for t, ps in topics.items()}
        except (TypeError, ValueError):
            return None
    return _tidy(found, sorted(set(members) | set(found)))
