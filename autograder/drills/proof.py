"""What a proof shows: an experiment on the real broker, and what it measured.

A question of the bank may name a proof: a function in ``autograder.drills.proofs`` that runs a
small experiment on the course broker in a few seconds and returns a ``Proof``. Its
``observed`` is the answer in the question's own terms (the index of the option that came true,
or the number measured), so a test can hold every model answer to what the broker did.

Example:
    >>> proof = run("key_sticks_to_one_partition", "localhost:9092")
    >>> proof.observed, proof.lines[0]
    (1, 'user123 went to partition 1 all 20 times')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from autograder.grading.namespace import Namespace, new_run_id

DRILLS_LESSON = "drills"  # the namespace a proof's topics and groups live in


@dataclass(frozen=True)
class Chart:
    """A small chart: line series of (x, y) points, or one bar per label when ``bars``."""

    title: str
    x_label: str
    y_label: str
    series: dict[str, tuple[tuple[float, float], ...]] = field(default_factory=dict)
    bars: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Proof:
    """What an experiment showed.

    ``observed`` is compared with the question's ``correct``; ``lines`` say what happened, one
    finding each, in plain words; ``table`` holds rows where rows say more than sentences.
    """

    observed: int | float
    lines: tuple[str, ...]
    table: tuple[dict, ...] = ()
    chart: Chart | None = None

    def text(self) -> str:
        """The proof for a terminal: its lines, then its table, aligned."""
        out = list(self.lines)
        if self.table:
            columns = list(self.table[0])
            rows = [[str(row.get(c, "")) for c in columns] for row in self.table]
            widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
            out.append("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
            out += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
        return "\n".join(out)


ProofFunction = Callable[[str, Namespace], Proof]


def proofs() -> dict[str, ProofFunction]:
    """Every proof by name, from the ``PROOFS`` dicts of ``autograder.drills.proofs``."""
    from autograder.drills.proofs import PROOFS

    return PROOFS


def run(name: str, bootstrap: str, namespace: Namespace | None = None) -> Proof:
    """Run the proof ``name`` on the broker at ``bootstrap``, in a fresh namespace by default."""
    return proofs()[name](bootstrap, namespace or Namespace(new_run_id(), DRILLS_LESSON))
