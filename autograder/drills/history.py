"""The learner's drill history and its Leitner boxes, kept in the course's state folder.

Every answer is appended to ``.state/drills.json``. A question answered wrong enters box 1 and
comes back in the next review; each right answer in a review moves it up a box, and a higher box
waits longer before it comes back (``BOX_DAYS``); a wrong answer sends it back to box 1. After
the last box a question is learned and leaves the review. Like progress.json, this file is the
learner's alone: the dev check, nbgrader and the tests run with another state folder.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from autograder.grading.paths import state_dir

BOX_DAYS = (0, 1, 3, 7, 14)  # box n (1-based) comes back BOX_DAYS[n - 1] days after its answer
LEARNED = len(BOX_DAYS) + 1


def history_file() -> Path:
    return state_dir() / "drills.json"


@dataclass(frozen=True)
class Box:
    box: int
    due: datetime


class History:
    """The answers so far and each question's box; ``save`` writes them atomically."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or history_file()
        data = self._read()
        self.answers: list[dict] = list(data.get("answers", []))
        self.boxes: dict[str, dict] = dict(data.get("boxes", {}))

    def _read(self) -> dict:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def record(
        self, question_id: str, lesson: str, right: bool, now: datetime | None = None
    ) -> None:
        """One answer: appended, and the question's box moved (see the module docstring)."""
        now = now or datetime.now()
        self.answers.append(
            {
                "id": question_id,
                "lesson": lesson,
                "right": right,
                "at": now.isoformat("T", "seconds"),
            }
        )
        entry = self.boxes.get(question_id)
        if not right:
            self.boxes[question_id] = {"box": 1, "due": now.isoformat("T", "seconds")}
        elif entry is not None:
            box = int(entry.get("box", 1)) + 1
            if box >= LEARNED:
                self.boxes[question_id] = {"box": LEARNED, "due": None}
            else:
                due = now + timedelta(days=BOX_DAYS[box - 1])
                self.boxes[question_id] = {"box": box, "due": due.isoformat("T", "seconds")}
        self.save()

    def due(self, now: datetime | None = None) -> list[str]:
        """Question ids whose box has come round, lowest box first, then the longest waiting."""
        now = now or datetime.now()
        waiting = [
            (int(e["box"]), str(e["due"]), qid)
            for qid, e in self.boxes.items()
            if e.get("due")
            and int(e.get("box", 1)) < LEARNED
            and datetime.fromisoformat(e["due"]) <= now
        ]
        return [qid for _, _, qid in sorted(waiting)]

    def next_due(self) -> datetime | None:
        """When the next question comes back, if any is still in a box."""
        dues = [datetime.fromisoformat(e["due"]) for e in self.boxes.values() if e.get("due")]
        return min(dues) if dues else None

    def latest(self) -> dict[str, dict]:
        """Each question's latest answer."""
        return {answer["id"]: answer for answer in self.answers}

    def scores(self) -> dict[str, tuple[int, int]]:
        """Per lesson: (questions whose latest answer is right, questions answered)."""
        per: dict[str, list[int]] = {}
        for answer in self.latest().values():
            counts = per.setdefault(answer["lesson"], [0, 0])
            counts[0] += bool(answer["right"])
            counts[1] += 1
        return {lesson: (right, total) for lesson, (right, total) in sorted(per.items())}

    def save(self) -> None:
        """Write the history through a temporary file, so a crash mid-write loses nothing."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"answers": self.answers, "boxes": self.boxes}, indent=1)
        with tempfile.NamedTemporaryFile("w", dir=self.path.parent, delete=False) as temp:
            temp.write(text)
        os.replace(temp.name, self.path)
