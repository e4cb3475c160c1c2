"""The four assignors of kafka-python on one scenario, and range on co-partitioned topics."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

from autograder.demos.lesson09.chart import Recording
from autograder.demos.lesson09.members import Group, MemberSpec, topic_partitions
from autograder.demos.lesson09.scenario import recording, run_step
from autograder.demos.lesson09.timeline import BrokerWatch, StepReport

ORDER = ("range", "roundrobin", "sticky", "cooperative-sticky")


def scenario(
    bootstrap: str,
    topic: str,
    group_id: str,
    assignor: str,
    partitions: int = 6,
    with_close: bool = False,
) -> tuple[list[StepReport], Recording]:
    """Three members join, a fourth joins, (with ``with_close``: the third closes,) then the
    second crashes (SIGKILL); one report per step, and the recording for the chart. The members
    run ``assignor`` with a 2 s session timeout."""
    parts = topic_partitions(topic, partitions)
    spec = MemberSpec(topics=(topic,), assignor=assignor)
    with Group(bootstrap, group_id, spec) as group, BrokerWatch(bootstrap, group_id) as watch:

        def start_three() -> None:
            for name in ("a", "b", "c"):
                group.add(name)

        t0 = time.time()
        steps: list[tuple[str, Callable[[], object], int]] = [
            ("a, b, c join", start_three, 3),
            ("d joins", partial(group.add, "d"), 4),
        ]
        if with_close:
            steps.append(("c closes", partial(group.close, "c"), 3))
        steps.append(("b crashes", partial(group.crash, "b"), 3 - with_close))
        reports = [
            run_step(group, parts, label, action, n, watch=watch) for label, action, n in steps
        ]
        return reports, recording(group, parts, t0)


def compare(
    bootstrap: str, topic: str, prefix: str, assignors=ORDER, budget_s: float = 80
) -> dict[str, list[StepReport]]:
    """``scenario`` once per assignor, each with its own group ``<prefix>-<assignor>``. Once
    ``budget_s`` has passed (a machine far too busy), the assignors left are skipped, and
    said so, rather than letting the cell run on."""
    found = {}
    started = time.monotonic()
    for name in assignors:
        if time.monotonic() - started > budget_s:
            print(f"  ! skipped {name}: the runs so far took over {budget_s:.0f} s")
            continue
        found[name] = scenario(bootstrap, topic, f"{prefix}-{name}", name)[0]
    return found


def print_comparison(results: dict[str, list[StepReport] | None]) -> None:
    """One row per assignor and step: the assignment after it, partitions moved, partitions that
    stood still, and the longest time one stood still."""
    print(
        f"{'assignor':<19}{'step':<14}{'assignment after (member: partitions)':<42}"
        f"{'moved':>6}{'stopped':>8}{'pause ms':>9}"
    )
    for name, reports in results.items():
        for r in reports or []:  # None: an assignor compare() had to skip
            shown = " ".join(f"{m}:{','.join(map(str, ps))}" for m, ps in r.assignment.items())
            flag = "" if r.settled else "  (not settled)"
            print(
                f"{name:<19}{r.step:<14}{shown:<42}{r.moved:>6}{r.paused:>8}{r.pause_ms:>9}{flag}"
            )


def timeline(bootstrap: str, topic: str, group_id: str, assignor: str = "range"):
    """The scenario with a clean close added, drawn: (the figure, the step reports)."""
    from autograder.demos.lesson09.chart import draw

    reports, rec = scenario(bootstrap, topic, group_id, assignor, with_close=True)
    return draw(rec, f"assignor {assignor}: who owned which partition"), reports


def print_broker_agreement(reports: list[StepReport]) -> None:
    """After each step: the assignment by the members' callbacks and by describe_groups."""
    print(f"{'step':<14}{'callbacks say':<28}{'broker says':<28}")
    for r in reports:
        mine = " ".join(f"{m}:{','.join(map(str, ps))}" for m, ps in r.assignment.items())
        theirs = " ".join(f"{m}:{','.join(map(str, ps))}" for m, ps in (r.broker or {}).items())
        print(f"{r.step:<14}{mine:<28}{theirs:<28}")


def co_partitioned(
    bootstrap: str, topics: tuple[str, str], group_id: str, assignor: str, partitions: int = 3
) -> dict[str, dict[str, list[int]]]:
    """Two members subscribed to two topics of ``partitions`` partitions each: which
    partitions of each topic every member got, by the members' callbacks."""
    parts = topic_partitions(topics[0], partitions) | topic_partitions(topics[1], partitions)
    spec = MemberSpec(topics=topics, assignor=assignor)
    with Group(bootstrap, group_id, spec) as group:

        def start_two() -> None:
            for name in ("a", "b"):
                group.add(name)

        run_step(group, parts, "a, b join", start_two, 2)
        return {
            member: {t: sorted(p for tt, p in owned if tt == t) for t in topics}
            for member, owned in sorted(group.owned_now().items())
        }


def print_co_partitioned(
    assignment: dict[str, dict[str, list[int]]], names: tuple[str, str]
) -> None:
    """member: partitions of the first topic | partitions of the second."""
    topics = list(next(iter(assignment.values())))
    for member, by_topic in assignment.items():
        shown = "   ".join(f"{label} {by_topic[t]}" for label, t in zip(names, topics, strict=True))
        print(f"{member}: {shown}")
