"""An interactive playground: pick an assignor, add, close or crash members, add partitions, and
see the assignment the broker reports redrawn after each step.

Headless by default: ``playground()`` first plays a fixed script of steps and draws the result,
so under nbclient or nbgrader the cell ends on its own and nothing waits for a click. The
buttons shown under it start a fresh group of their own when clicked.
"""

from __future__ import annotations

import time
from dataclasses import replace

from kafka import KafkaAdminClient
from kafka.admin import NewPartitions

from autograder.demos.lesson09.chart import draw
from autograder.demos.lesson09.members import ASSIGNORS, Group, MemberSpec, topic_partitions
from autograder.demos.lesson09.scenario import recording, run_step
from autograder.demos.lesson09.timeline import BrokerWatch, StepReport

# (action, argument): what the headless run does, in order.
SCRIPT = [
    ("add", None),
    ("add", None),
    ("add", None),
    ("add partitions", 2),
    ("crash", None),
    ("close", None),
]
SPEC = MemberSpec(metadata_max_age_ms=1000)  # members notice new partitions within a second


class Playground:
    """One live group on one topic, driven step by step."""

    def __init__(
        self, bootstrap: str, topic: str, group_id: str, assignor: str, partitions: int
    ) -> None:
        self.bootstrap, self.topic, self.partitions = bootstrap, topic, partitions
        self.group = Group(
            bootstrap,
            group_id,
            replace(SPEC, topics=(topic,), assignor=assignor),
        ).__enter__()
        self.watch = BrokerWatch(bootstrap, group_id).__enter__()
        self.t0 = time.time()
        self.reports: list[StepReport] = []
        self._names = iter("abcdefghijklmnopqrstuvwxyz")

    def running(self) -> list[str]:
        return [name for name, m in self.group.members.items() if m.alive and m.how_ended is None]

    def step(self, action: str, argument: int | None = None) -> StepReport | None:
        """Do one action and wait for the group to settle; None when the action makes no sense
        now (closing with nobody running)."""
        parts = topic_partitions(self.topic, self.partitions)
        alive = self.running()
        if action == "add":
            name = next(self._names)
            return self._run(f"{name} joins", lambda: self.group.add(name), len(alive) + 1, parts)
        if action in ("close", "crash") and alive:
            name = alive[-1]
            do = self.group.close if action == "close" else self.group.crash
            return self._run(
                f"{name} {action}es" if action == "crash" else f"{name} {action}s",
                lambda: do(name),
                len(alive) - 1,
                parts,
            )
        if action == "add partitions":
            self.partitions += argument or 1
            parts = topic_partitions(self.topic, self.partitions)

            def grow() -> None:
                self.group.mark(f"{self.partitions} partitions")
                admin = KafkaAdminClient(bootstrap_servers=self.bootstrap)
                try:
                    admin.create_partitions(
                        {self.topic: NewPartitions(total_count=self.partitions)}
                    )
                finally:
                    admin.close()

            if not alive:
                grow()
                return None
            return self._run(f"{self.partitions} partitions", grow, len(alive), parts)
        return None

    def _run(self, label, action, members, parts) -> StepReport:
        if members == 0:
            action()
            time.sleep(0.5)
            report = StepReport(step=label)
        else:
            report = run_step(self.group, parts, label, action, members, watch=self.watch)
        self.reports.append(report)
        return report

    def figure(self):
        return draw(
            recording(self.group, topic_partitions(self.topic, self.partitions), self.t0),
            "what the group did",
        )

    def broker_says(self) -> str:
        latest = self.watch.latest()
        if latest is None:
            return "the broker has not answered yet"
        shown = " ".join(
            f"{m}:{','.join(str(p) for _, p in ps)}" for m, ps in sorted(latest.members.items())
        )
        return f"broker: {latest.state}, assignor {latest.assignor or '-'}, {shown or 'no members'}"

    def shutdown(self) -> None:
        self.group.close_all()
        self.watch.__exit__(None, None, None)
        self.group.shutdown()


def play_script(
    bootstrap: str, topic: str, group_id: str, assignor: str = "cooperative-sticky", script=SCRIPT
):
    """Run ``script`` on a fresh group; (the figure, the step reports). Every member is closed
    before this returns."""
    from autograder.grading import kafka_io

    kafka_io.create_topic(bootstrap, topic, 4)
    ground = Playground(bootstrap, topic, group_id, assignor, 4)
    try:
        for action, argument in script:
            ground.step(action, argument)
        return ground.figure(), ground.reports
    finally:
        ground.shutdown()


def playground(bootstrap: str, make_topic, make_group, assignor: str = "cooperative-sticky"):
    """The scripted run drawn, then the controls for your own runs (each click acts at once;
    nothing waits). ``make_topic(n)`` and ``make_group(n)`` give fresh names per run."""
    import ipywidgets as widgets  # type: ignore[import-untyped]
    import matplotlib.pyplot as plt
    from IPython.display import display

    figure, reports = play_script(bootstrap, make_topic(0), make_group(0), assignor)
    display(figure)
    plt.close(figure)
    for r in reports:
        shown = " ".join(
            f"{m}:{','.join(map(str, ps))}" for m, ps in (r.broker or r.assignment).items()
        )
        print(
            f"{r.step:<16} broker: {shown:<30} moved {r.moved}, stopped {r.paused}, {r.pause_ms} ms"
        )

    state: dict = {"ground": None, "runs": 0}
    choose = widgets.Dropdown(options=list(ASSIGNORS), value=assignor, description="assignor")
    buttons = {
        name: widgets.Button(description=name)
        for name in ("add", "close", "crash", "add partitions", "stop")
    }
    out = widgets.Output()

    def act(name: str) -> None:
        with out:
            out.clear_output(wait=True)
            if name == "stop":
                if state["ground"]:
                    state["ground"].shutdown()
                    state["ground"] = None
                print("every member closed")
                return
            if state["ground"] is None:
                state["runs"] += 1
                n = state["runs"]
                from autograder.grading import kafka_io

                kafka_io.create_topic(bootstrap, make_topic(n), 4)
                state["ground"] = Playground(
                    bootstrap, make_topic(n), make_group(n), choose.value, 4
                )
            ground = state["ground"]
            ground.step(name, 1 if name == "add partitions" else None)
            fig = ground.figure()
            display(fig)
            plt.close(fig)
            print(ground.broker_says())

    for name, button in buttons.items():
        button.on_click(lambda _, n=name: act(n))
    display(widgets.VBox([widgets.HBox([choose, *buttons.values()]), out]))
