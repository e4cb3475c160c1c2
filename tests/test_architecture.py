"""The package's layers, read from its imports: nothing runs back up the layers.

    grading's foundation (paths, quiet, kafka_io,   where files live, quiet logs, Kafka access
      raw_log)
    broker/, faults/                                 the real broker and the fault proxy
    grading/                                         attempts, judges, verdicts
    notebook/                                        what a lesson notebook imports
    authoring/                                       release, dev check, nbgrader
    drills/                                          interview drills: bank, proofs, terminal
    doctor/                                          is this machine ready (`kafka-course doctor`)
    cli/                                             the kafka-course command
    demos/                                           what the lessons show; may use any layer

(drills/ sits above notebook/; its proofs/ are experiments, in the demos' layer.)

Also: the runtime dependencies pyproject.toml declares are the ones requirements.txt pins.
"""

from __future__ import annotations

import ast
import re

import pytest
import tomllib

from autograder.grading.paths import PACKAGE_DIR, REPO_ROOT

FOUNDATION = {
    "autograder.grading.paths",
    "autograder.grading.quiet",
    "autograder.grading.kafka_io",
    "autograder.grading.raw_log",
}

# package -> the packages it must never import
FORBIDDEN = {
    "grading": {"notebook", "authoring", "cli", "demos", "drills"},
    "broker": {"notebook", "authoring", "cli", "demos", "drills"},
    "faults": {"notebook", "authoring", "cli", "demos", "drills"},
    "notebook": {"authoring", "cli", "demos", "drills"},
    "authoring": {"cli", "demos", "drills"},
    "drills": {"authoring", "cli"},
    "doctor": {"cli", "demos", "drills"},
    "cli": {"demos"},
}


def _modules():
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = path.relative_to(REPO_ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


def _imports(path) -> set[str]:
    """Every autograder module ``path`` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}: relative import; the layering test reads absolute ones")
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("autograder"):
            for alias in node.names:  # `from autograder.grading import kafka_io` names a module
                found.add(f"{node.module}.{alias.name}")
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("autograder")}
    return found


def _package(module: str) -> str:
    if module.startswith("autograder.drills.proofs"):
        return (
            "demos"  # a proof is an experiment like a lesson's demonstration, and may use any layer
        )
    return module.split(".")[1] if module.count(".") else ""


MODULES = dict(_modules())


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_import_runs_back_up_the_layers(module):
    package = _package(module)
    wrong = sorted(
        i for i in _imports(MODULES[module]) if _package(i) in FORBIDDEN.get(package, ())
    )
    assert not wrong, f"{module} ({package}/) may not import {wrong}"


@pytest.mark.parametrize(
    "module", sorted(m for m in MODULES if _package(m) in ("broker", "faults"))
)
def test_broker_and_faults_use_only_the_grading_foundation(module):
    grading = {i for i in _imports(MODULES[module]) if _package(i) == "grading"}
    beyond = sorted(
        i
        for i in grading
        if not any(i.startswith(f) for f in FOUNDATION) and i != "autograder.grading"
    )
    assert not beyond, f"{module} reaches into grading beyond its foundation: {beyond}"


@pytest.mark.parametrize("module", sorted(FOUNDATION))
def test_the_foundation_imports_only_itself(module):
    others = sorted(
        i for i in _imports(MODULES[module]) if not any(i.startswith(f) for f in FOUNDATION)
    )
    assert not others, f"{module} is a foundation module but imports {others}"


def test_every_declared_dependency_is_pinned_and_every_pin_declared():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["dev"]

    def name(requirement: str) -> str:
        return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower()

    pins = [
        line.strip()
        for line in (REPO_ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert all("==" in pin for pin in pins), "requirements.txt pins exact versions"
    assert sorted(name(d) for d in declared) == sorted(name(p) for p in pins)
