"""The experiments that prove the bank's answers, by name.

Each ``lessonNN`` module here holds the proofs of its lesson's questions in a module-level
``PROOFS`` dict ``{name: function(bootstrap, namespace) -> Proof}``; they are collected here,
so adding proofs never edits this file. A proof runs in a few seconds, bounds every wait, makes
its topics and groups with ``namespace.topic(...)`` / ``namespace.group(...)``, and closes every
client it opens.
"""

from __future__ import annotations

import importlib
import pkgutil

from autograder.drills.proof import ProofFunction


def _collect() -> dict[str, ProofFunction]:
    found: dict[str, ProofFunction] = {}
    for module in sorted(
        m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith("lesson")
    ):
        for name, function in importlib.import_module(f"{__name__}.{module}").PROOFS.items():
            if name in found:
                raise ValueError(f"two proofs share the name {name!r}")
            found[name] = function
    return found


PROOFS: dict[str, ProofFunction] = _collect()
