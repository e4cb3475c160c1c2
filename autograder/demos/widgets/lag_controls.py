"""Lesson 08's lag controls: Start and Stop buttons, a consumer count, and the live lag chart.

Start sets a producer writing at a steady rate to a multi-partition topic, and as many
consumers as the count says reading it in one group: each a real ``KafkaConsumer`` member in
its own thread, whose work costs a fixed time per record, so one consumer falls behind and more
catch up. A sampler reads the group's lag from the broker (committed against end offsets,
through ``GroupAdmin.describe``, as `kafka-course groups describe` does) twice a second and
redraws the chart (lesson 08's ``lag_chart_png``). Changing the count while running adds or
closes members: a real rebalance each time. Stop closes everything, so the members leave the
group at once.

Bounded whatever happens: a run stops itself after ``max_run_s`` even if nobody clicks Stop,
every thread is a daemon whose loop has a deadline, and stopping joins them with timeouts. A
failure (the broker down, most often) shows in the status line instead of reaching stderr.

Headless: ``lag_controls(course)`` displays the widget, then runs a short default (1 consumer,
then 2) to the end before it returns, so under nbclient or nbgrader the cell shows that run's
chart and its summary as text; in a browser the learner goes on with Start and Stop. Tests set
``consumers.value``, call ``start()``/``stop()`` (or click the buttons) and read ``samples``,
``status.value`` and ``chart.value``.

Public API: ``LagControls`` (``.start_button``, ``.stop_button``, ``.consumers``, ``.chart``,
``.status``, ``.samples``, ``.marks``, ``.errors``, ``.running``, ``.start()``, ``.stop()``,
``.run_for(seconds, counts)``, ``.threads_alive()``, ``.text()``) and ``lag_controls``.

Example:
    >>> from autograder.demos.widgets.lag_controls import lag_controls
    >>> lag = lag_controls(course)   # shows the default run, then waits for Start
    >>> lag.consumers.value = 3      # while running: a third member joins the group
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped]
from kafka import KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError

from autograder.cli.group_admin import GroupAdmin, GroupView, UnknownGroup
from autograder.demos.lesson08.chart import MIN_REDRAW_S, lag_chart_png
from autograder.demos.lesson08.race import Sample
from autograder.grading import kafka_io
from autograder.grading.quiet import grader_busy, route_kafka_logs_to_stdout

PER_SECOND = 80  # what the producer writes
SECONDS_PER_RECORD = 1 / 60  # one consumer handles 60 a second: behind; two handle 120: ahead
MAX_RUN_S = 60.0
EVERY_S = 0.5
JOIN_TIMEOUT_S = 8.0  # a closing consumer sends LeaveGroup; its request timeout is 7 s
# Short timeouts, as in the race: a member that vanished is dropped by the group in seconds.
FAST_GROUP = {"session_timeout_ms": 6000, "heartbeat_interval_ms": 300, "request_timeout_ms": 7000}
_WRONG_STYLE = "color:#b00"

# One run per group in this kernel: a second widget on the same group stops the first.
_running: dict[str, LagControls] = {}


@dataclass
class _Member:
    client_id: str
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None


@dataclass
class _Run:
    started: float  # time.monotonic() when the producer started
    until: float  # the run's hard deadline, on the same clock
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    quiet: ExitStack = field(default_factory=ExitStack)


class LagControls:
    """A producer, a group of slow consumers and their lag chart; ``box`` is the widget."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        group: str,
        partitions: int = 4,
        per_second: float = PER_SECOND,
        seconds_per_record: float = SECONDS_PER_RECORD,
        max_run_s: float = MAX_RUN_S,
        every_s: float = EVERY_S,
    ) -> None:
        route_kafka_logs_to_stdout()  # a client's warning must not reach the kernel's stderr
        self.bootstrap, self.topic, self.group = bootstrap, topic, group
        self.partitions = partitions
        self.per_second, self.seconds_per_record = per_second, seconds_per_record
        self.max_run_s, self.every_s = max_run_s, every_s
        self.samples: list[Sample] = []
        self.marks: list[tuple[float, str]] = []  # (t, "2 consumers") at each count change
        self.errors: list[str] = []
        self.members_after: int | None = None  # the group's members once the run stopped
        self._members: list[_Member] = []
        self._leaving: list[_Member] = []
        self._run: _Run | None = None
        self._idle = threading.Event()  # set once a run is wholly torn down (and before any)
        self._idle.set()
        self._guard = threading.RLock()  # start, stop and resizing one at a time
        self._span_s = 10.0
        self._drawn_at, self._draw_cost_s = float("-inf"), 0.0

        self.start_button = widgets.Button(description="Start", icon="play", button_style="success")
        self.stop_button = widgets.Button(description="Stop", icon="stop", disabled=True)
        self.consumers = widgets.IntSlider(
            value=1,
            min=1,
            max=partitions,
            description="consumers",
            continuous_update=False,  # one rebalance where the slider is let go, not on the way
        )
        self.status = widgets.HTML()
        self.chart = widgets.Image(format="png", value=lag_chart_png([], (), self._span_s))
        self.box = widgets.VBox(
            [
                widgets.HBox([self.start_button, self.stop_button, self.consumers]),
                self.status,
                self.chart,
            ]
        )
        self.start_button.on_click(lambda _button: self._shown(self.start))
        self.stop_button.on_click(lambda _button: self._shown(self.stop))
        self.consumers.observe(lambda _change: self._shown(self._resize), names="value")
        self._show_status()

    # ----- what the learner does ---------------------------------------------------------

    @property
    def running(self) -> bool:
        """True from start() until the stopped run is wholly torn down and drawn."""
        return not self._idle.is_set()

    def start(self) -> None:
        """Start the producer, ``consumers.value`` members and the sampler (a fresh chart)."""
        with self._guard:
            if self._run is not None:
                return
            other = _running.get(self.group)
            if other is not None and other is not self:
                other.stop()
            now = time.monotonic()
            run = _Run(started=now, until=now + self.max_run_s)
            # kafka-python's chatter while members join and leave would only clutter the cells.
            run.quiet.enter_context(grader_busy())
            self._run, _running[self.group] = run, self
            self._idle.clear()
            self.samples, self.marks, self.errors = [], [], []
            self.members_after = None
            self._drawn_at = float("-inf")
            for target in (self._produce, self._sample):
                thread = threading.Thread(target=target, args=(run,), daemon=True)
                run.threads.append(thread)
                thread.start()
            self._resize()
            self.start_button.disabled, self.stop_button.disabled = True, False
        self._show_status()

    def stop(self) -> None:
        """Stop everything, close every member (they leave the group) and draw the result."""
        with self._guard:
            run = self._run
            if run is None:
                return
            if _running.get(self.group) is self:
                del _running[self.group]
            run.stop.set()
            for member in self._members:
                member.stop.set()
            self._leaving += self._members
            self._members = []
            here = threading.current_thread()
            try:
                for thread in [*run.threads, *(m.thread for m in self._leaving if m.thread)]:
                    if thread is not here:
                        thread.join(JOIN_TIMEOUT_S)
                self._leaving = [m for m in self._leaving if m.thread and m.thread.is_alive()]
                self.members_after = self._members_now()
            finally:  # whatever failed, the run is over and kafka-python may speak again
                run.quiet.close()
                self._run = None
            try:
                self._draw(force=True)
            except Exception as error:
                self._failed("drawing the chart", error)
            self._show_status()
            self.start_button.disabled, self.stop_button.disabled = False, True
            self._idle.set()

    def run_for(self, seconds: float, counts: Sequence[int] = (1, 2)) -> None:
        """A whole run in this thread: ``counts[0]`` consumers, then each next count after an
        equal share of ``seconds``, then Stop. What the headless default does."""
        self._span_s = seconds
        self.consumers.value = counts[0]
        self.start()
        run = self._run
        try:
            for n, count in enumerate(counts[1:], start=1):
                if run is None or run.stop.wait(
                    run.started + seconds * n / len(counts) - time.monotonic()
                ):
                    break
                self.consumers.value = count
            if run is not None:
                run.stop.wait(run.started + seconds - time.monotonic())
        finally:
            self.stop()
            self._span_s = 10.0

    # ----- the clients -------------------------------------------------------------------

    def _resize(self) -> None:
        """While running, add or close members until the group has ``consumers.value``."""
        with self._guard:
            run = self._run
            if run is None:
                return
            wanted = self.consumers.value
            if wanted == len(self._members):
                return
            while len(self._members) < wanted:
                member = _Member(f"lag-consumer-{len(self._members) + 1}")
                member.thread = threading.Thread(
                    target=self._consume, args=(run, member), daemon=True
                )
                self._members.append(member)
                member.thread.start()
            while len(self._members) > wanted:
                member = self._members.pop()
                member.stop.set()  # it closes itself, without keeping the kernel waiting
                self._leaving.append(member)
            t = time.monotonic() - run.started
            self.marks.append((t, f"{wanted} consumer{'s' if wanted > 1 else ''}"))

    def _consume(self, run: _Run, member: _Member) -> None:
        """A group member whose work takes ``seconds_per_record`` a record, paced on the clock
        (the n-th record done no sooner than n times that after the first), committing after
        each poll's batch, until its stop, the run's stop or the run's deadline."""
        try:
            consumer = KafkaConsumer(
                self.topic,
                bootstrap_servers=self.bootstrap,
                group_id=self.group,
                client_id=member.client_id,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                max_poll_records=20,
                **FAST_GROUP,
            )
        except Exception as error:
            self._failed(f"{member.client_id} could not start", error)
            return
        try:
            done, since = 0, time.monotonic()
            while not member.stop.is_set() and time.monotonic() < run.until:
                batches = consumer.poll(timeout_ms=100)
                count = sum(len(records) for records in batches.values())
                if not count:
                    done, since = 0, time.monotonic()  # idle time is not saved up for later
                    continue
                done += count
                if member.stop.wait(since + done * self.seconds_per_record - time.monotonic()):
                    break  # stopped mid-batch: not done, so not committed
                try:
                    consumer.commit()
                except KafkaError:
                    pass  # a rebalance took a partition away; its new owner reads it again
        except Exception as error:
            self._failed(member.client_id, error)
        finally:
            try:
                consumer.close(autocommit=False)  # sends LeaveGroup: the group rebalances now
            except Exception as error:
                self._failed(f"{member.client_id} closing", error)

    def _produce(self, run: _Run) -> None:
        """Write ``per_second`` records a second, round-robin over the partitions."""
        try:
            producer = KafkaProducer(
                bootstrap_servers=self.bootstrap,
                linger_ms=20,
                max_block_ms=5000,  # a send() never blocks the loop past its deadline for long
                request_timeout_ms=5000,
            )
        except Exception as error:
            self._failed("the producer could not start", error)
            return
        try:
            sent = 0
            while not run.stop.is_set() and time.monotonic() < run.until:
                wait = run.started + sent / self.per_second - time.monotonic()
                if wait > 0:
                    run.stop.wait(wait)
                    continue
                producer.send(
                    self.topic, value=b"click %d" % sent, partition=sent % self.partitions
                )
                sent += 1
        except Exception as error:
            self._failed("the producer", error)
        finally:
            producer.close(timeout=5)

    def _sample(self, run: _Run) -> None:
        """Every ``every_s``, the group's lag from the broker; at the deadline, Stop."""
        try:
            with GroupAdmin(self.bootstrap) as groups:
                n = 0
                while not run.stop.wait(run.started + n * self.every_s - time.monotonic()):
                    t = time.monotonic() - run.started
                    if time.monotonic() >= run.until:
                        break
                    try:
                        self.samples.append(self._measure(groups, t))
                    except Exception as error:
                        self._failed("reading the lag", error)
                    self._draw()
                    self._show_status()
                    n = int((time.monotonic() - run.started) / self.every_s) + 1  # no catching up
        except Exception as error:
            self._failed("reading the lag", error)
        # The deadline passed with nobody clicking Stop. Stopped from another thread, since
        # stop() joins this one; and only this run, which a click may have stopped already.
        threading.Thread(target=self._stop_run, args=(run,), daemon=True).start()

    def _stop_run(self, run: _Run) -> None:
        with self._guard:
            if self._run is run:
                self.stop()

    def _measure(self, groups: GroupAdmin, t: float) -> Sample:
        """Lag per partition: end offset - committed offset. A partition the group has not
        committed yet counts all its records, since these members start at the earliest."""
        view: GroupView | None
        try:
            view = groups.describe(self.group)
        except UnknownGroup:  # no member has joined yet
            view = None
        rows = {r.partition: r for r in (view.partitions if view else ()) if r.topic == self.topic}
        lags = {p: row.lag for p, row in rows.items() if row.lag is not None}
        if len(lags) < self.partitions:
            ends = kafka_io.end_offsets(self.bootstrap, self.topic)
            lags = {p: lags.get(p, end) for p, end in ends.items()}
        members = view.members if view else ()
        spread = tuple(sorted(len(m.partitions) for m in members))
        return Sample(t, lags, len(members), spread)

    def _members_now(self) -> int | None:
        try:
            with GroupAdmin(self.bootstrap) as groups:
                return len(groups.describe(self.group).members)
        except UnknownGroup:
            return 0
        except Exception as error:
            self._failed("describing the group", error)
            return None

    def threads_alive(self) -> int:
        """Threads of this widget still running: 0 once a run has stopped."""
        run_threads = self._run.threads if self._run else []
        members = [*self._members, *self._leaving]
        return sum(t.is_alive() for t in [*run_threads, *(m.thread for m in members if m.thread)])

    # ----- what it shows -----------------------------------------------------------------

    def _shown(self, action: Callable[[], None]) -> None:
        """Run a button's or the slider's action; a failure goes to the status line, since a
        handler's traceback would go to the kernel's stderr."""
        try:
            action()
        except Exception as error:
            self._failed("the controls", error)
            self._show_status()

    def _failed(self, what: str, error: Exception) -> None:
        self.errors.append(f"{what}: {type(error).__name__}: {error}")

    def _draw(self, force: bool = False) -> None:
        """Redraw, unless the last drawing was so recent that drawing again would take CPU
        time from the consumers being watched (the stopped run is always drawn)."""
        began = time.monotonic()
        if not force and began - self._drawn_at < max(MIN_REDRAW_S, 3 * self._draw_cost_s):
            return
        self.chart.value = lag_chart_png(list(self.samples), list(self.marks), self._span_s)
        self._drawn_at = time.monotonic()
        self._draw_cost_s = self._drawn_at - began

    def summary_text(self) -> str:
        last = self.samples[-1] if self.samples else None
        if self._run is not None:
            if last is None:
                return f"Starting: {self.consumers.value} consumer(s) joining {self.group}…"
            spread = ", ".join(map(str, last.spread)) or "none yet"
            return (
                f"Running {last.t:.0f} s: total lag {last.total} · {last.members} member(s) in "
                f"the group ({self.consumers.value} asked) · partitions per member: {spread}"
            )
        if last is None:
            return (
                f"Stopped. Press Start: a producer writes {self.per_second:.0f} records a second "
                f"to {self.partitions} partitions, and each consumer handles "
                f"{1 / self.seconds_per_record:.0f} a second."
            )
        peak = max(s.total for s in self.samples)
        left = "?" if self.members_after is None else self.members_after
        return (
            f"Stopped after {last.t:.0f} s: peak lag {peak}, lag at the end {last.total} · "
            f"members left in the group: {left}"
        )

    def _show_status(self) -> None:
        errors = "".join(
            f"<br><span style='{_WRONG_STYLE}'>{html.escape(e)}</span>" for e in self.errors[-3:]
        )
        hint = " Is the broker up (<code>kafka-course broker up</code>)?" if self.errors else ""
        self.status.value = html.escape(self.summary_text()) + errors + hint

    def text(self) -> str:
        """The status as text, with the run's steps: what a run without a browser shows."""
        steps = ", ".join(f"{label} at {t:.1f} s" for t, label in self.marks)
        lines = [self.summary_text()] + ([f"Consumers: {steps}."] if steps else [])
        return "\n".join(lines + self.errors[-3:])

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = self.box._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = self.text()
        return bundle


def lag_controls(
    course: Any, partitions: int = 4, default_s: float = 5.0, **options: Any
) -> LagControls:
    """Display the controls on this run's topic ``lag-controls`` (``partitions`` partitions)
    and group ``lag-controls``, run the default (``default_s`` seconds, 1 consumer then 2; 0
    for none) to the end, show its result and return the controls."""
    from IPython.display import display

    topic = course.topic("lag-controls", partitions=partitions)
    controls = LagControls(
        course.bootstrap, topic, course.group("lag-controls"), partitions, **options
    )
    handle = display(controls, display_id=True)
    if default_s:
        controls.run_for(default_s, counts=(1, 2))
        if handle is not None:
            handle.update(controls)  # the text shown without a browser: the run's result
    return controls
