"""Where the course broker keeps its files in the state dir, and what the last `up` recorded."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from autograder.grading.paths import state_dir as default_state_dir


@dataclass(frozen=True)
class StateLayout:
    """The broker's files under one state dir; `reset` removes exactly these."""

    root: Path

    @property
    def data_dir(self) -> Path:
        """Kafka's log.dirs: topics, committed offsets and the KRaft metadata log."""
        return self.root / "kafka-data"

    @property
    def server_properties(self) -> Path:
        return self.root / "server.properties"

    @property
    def log_file(self) -> Path:
        return self.root / "broker.log"

    @property
    def pid_file(self) -> Path:
        return self.root / "broker.pid"

    @property
    def record_file(self) -> Path:
        """JSON written by `up`: mode, bootstrap address, ports, pid."""
        return self.root / "broker.json"

    @property
    def lock_file(self) -> Path:
        return self.root / "broker.lock"

    def owned_paths(self) -> list[Path]:
        """Everything `reset` wipes; other files in the state dir are not ours to delete."""
        rotated = self.log_file.with_name(self.log_file.name + ".1")
        # Lesson 07's SQLite sinks belong to topics that reset deletes: they go with them.
        return [
            self.data_dir,
            self.server_properties,
            self.log_file,
            rotated,
            self.pid_file,
            self.record_file,
            self.root / "sinks",
        ]

    def read_record(self) -> dict:
        """What the last successful `up` wrote, or {} when nothing (readable) was recorded."""
        try:
            return json.loads(self.record_file.read_text())
        except (OSError, ValueError):
            return {}

    def write_record(self, record: dict) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        temporary = self.record_file.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(record, indent=2) + "\n")
        os.replace(temporary, self.record_file)  # readers never see half a record

    def forget_running_broker(self) -> None:
        """Drop the pid file and record once the broker is gone; the data stays."""
        for path in (self.pid_file, self.record_file):
            path.unlink(missing_ok=True)


def layout_for(state_dir: Path | str | None) -> StateLayout:
    """The layout under `state_dir`, or under the course's default state dir when None."""
    return StateLayout(Path(state_dir) if state_dir is not None else default_state_dir())


@contextlib.contextmanager
def exclusive(layout: StateLayout) -> Iterator[None]:
    """Hold the state dir's lock, so two `up`s at once cannot start two brokers on one data dir."""
    layout.root.mkdir(parents=True, exist_ok=True)
    with open(layout.lock_file, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
