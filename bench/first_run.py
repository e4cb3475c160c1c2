"""Benchmark: a newcomer's time to first success, from a fresh clone to lesson 01's setup cell.

    .venv/bin/python bench/first_run.py [--cold-pip]

In a temporary folder: `git clone` of this repository (committed files only, as a learner
gets them), then, each timed on its own:

- setup_s: `make setup` in the clone (its own .venv from PyPI). Pip's cache (~/.cache/pip)
  is used as on a learner's second machine; --cold-pip sets PIP_NO_CACHE_DIR for a first one.
- broker_cold_s: `kafka-course broker up` with an empty jar cache (KAFKA_COURSE_CACHE) and an
  empty Maven local repository (-Dmaven.repo.local through MAVEN_OPTS): every jar downloaded.
- broker_warm_s: `broker down`, then `broker up` again with that cache kept.
- first_cell_s: lesson 01's first code cell run by nbclient against the clone's broker, from
  kernel start to the cell's completion.

The clone's broker has its own state dir and a free port (never the shared 9092); it is
stopped and every temporary folder removed, whatever fails. The last line is JSON:
{"setup_s": ..., "broker_cold_s": ..., "broker_warm_s": ..., "first_cell_s": ...}.

`--time-first-cell NOTEBOOK` is the child mode that does the cell measurement: it runs in the
clone's interpreter, so the kernel imports the clone's course code, and prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograder.broker.ports import free_port  # noqa: E402
from autograder.grading.paths import REPO_ROOT  # noqa: E402

FIRST_LESSON = Path("notebooks/01_producer_basics/01_producer_basics.ipynb")
FIGURES = ("setup_s", "broker_cold_s", "broker_warm_s", "first_cell_s")
STEP_TIMEOUT_SECONDS = 30 * 60  # `make setup` on a slow network
CELL_TIMEOUT_SECONDS = 120
BROKER_ANSWERS = "✔ Kafka answers"  # what start("01") prints once it reached the broker
# Inherited settings that would make the clone use another broker, jars or environment.
NOT_INHERITED = ("KAFKA_BOOTSTRAP_SERVERS", "KAFKA_HOME", "VIRTUAL_ENV", "PYTHONPATH")


def figures_line(figures: Mapping[str, float]) -> str:
    """The JSON last line: the four figures in their fixed order, in seconds, 2 decimals.

    Example:
        >>> figures_line({"first_cell_s": 3.0, "setup_s": 90.123, "broker_cold_s": 12,
        ...               "broker_warm_s": 2.5})
        '{"setup_s": 90.12, "broker_cold_s": 12.0, "broker_warm_s": 2.5, "first_cell_s": 3.0}'
    """
    return json.dumps({name: round(float(figures[name]), 2) for name in FIGURES})


def clone_environment(scratch: Path, cold_pip: bool = False) -> dict[str, str]:
    """The environment every step in the clone runs with: its own state, cache and Maven repo."""
    env = {name: value for name, value in os.environ.items() if name not in NOT_INHERITED}
    env.update(
        KAFKA_COURSE_STATE_DIR=str(scratch / "state"),
        KAFKA_COURSE_CACHE=str(scratch / "jar-cache"),
        KAFKA_COURSE_BROKER="jvm",  # the launcher a learner without Docker gets
        MAVEN_OPTS=f"{env.get('MAVEN_OPTS', '')} -Dmaven.repo.local={scratch / 'm2'}".strip(),
    )
    if cold_pip:
        env["PIP_NO_CACHE_DIR"] = "1"
    return env


def timed(command: Sequence[str | Path], cwd: Path, env: Mapping[str, str]) -> float:
    """Seconds `command` took; its output is shown only if it fails (then it raises)."""
    started = time.perf_counter()
    done = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT_SECONDS,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(
            f"`{' '.join(map(str, command))}` failed (exit code {done.returncode}):\n"
            f"{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    return elapsed


def first_cell_seconds(notebook: Path) -> tuple[float, str]:
    """Run the notebook's first code cell in a new kernel: seconds from kernel start, its output.

    The kernel is this interpreter's (nbclient's "python3"), started in the notebook's folder.
    """
    import nbclient
    import nbformat

    whole = nbformat.read(notebook, as_version=4)
    first = next(cell for cell in whole.cells if cell.cell_type == "code")
    only_first = nbformat.v4.new_notebook(cells=[first], metadata=whole.metadata)
    client = nbclient.NotebookClient(
        only_first,
        timeout=CELL_TIMEOUT_SECONDS,
        kernel_name="python3",
        resources={"metadata": {"path": str(notebook.parent)}},
    )
    started = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - started
    output = "".join(
        out.get("text", "") or str(out.get("data", {}).get("text/plain", ""))
        for out in only_first.cells[0].outputs
    )
    return elapsed, output


def measure_first_cell(python: Path, notebook: Path, env: Mapping[str, str]) -> float:
    """first_cell_s with `python`'s kernel; raises unless the cell reached the broker."""
    done = subprocess.run(
        [str(python), __file__, "--time-first-cell", str(notebook)],
        env=env,
        capture_output=True,
        text=True,
        timeout=CELL_TIMEOUT_SECONDS + 60,
    )
    result = json.loads((done.stdout.strip().splitlines() or ["{}"])[-1] or "{}")
    if done.returncode != 0 or BROKER_ANSWERS not in result.get("output", ""):
        raise RuntimeError(f"lesson 01's setup cell failed:\n{done.stdout}{done.stderr}")
    return float(result["first_cell_s"])


def measure(cold_pip: bool = False) -> dict[str, float]:
    """The four figures from a fresh clone; prints each step as it finishes."""
    scratch = Path(tempfile.mkdtemp(prefix="bench-first-run-"))
    clone, figures = scratch / "kafka-course", {}
    env = clone_environment(scratch, cold_pip)
    course = [clone / ".venv" / "bin" / "kafka-course"]
    port = str(free_port(avoid={9092}))
    broker_started = False
    try:
        subprocess.run(["git", "clone", "-q", str(REPO_ROOT), str(clone)], check=True)
        figures["setup_s"] = timed(["make", "setup"], clone, env)
        print(f"make setup: {figures['setup_s']:.1f} s", flush=True)
        broker_started = True
        figures["broker_cold_s"] = timed([*course, "broker", "up", "--port", port], clone, env)
        print(f"broker up, empty jar cache: {figures['broker_cold_s']:.1f} s", flush=True)
        first_down = timed([*course, "broker", "down"], clone, env)
        print(f"  first broker down (writes the CDS archive): {first_down:.1f} s", flush=True)
        figures["broker_warm_s"] = timed([*course, "broker", "up", "--port", port], clone, env)
        print(f"broker up, warm cache: {figures['broker_warm_s']:.1f} s", flush=True)
        python = clone / ".venv" / "bin" / "python"
        figures["first_cell_s"] = measure_first_cell(python, clone / FIRST_LESSON, env)
        print(f"lesson 01's setup cell, kernel start included: {figures['first_cell_s']:.1f} s")
    finally:
        if broker_started:
            subprocess.run(
                [*map(str, course), "broker", "down"], cwd=clone, env=env, capture_output=True
            )
        shutil.rmtree(scratch, ignore_errors=True)
    return figures


def pip_cache_state() -> str:
    """How much pip's cache holds now: a warm one skips most of `make setup`'s downloads."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "pip"
    cache = Path(os.environ.get("PIP_CACHE_DIR", default))
    size = sum(f.stat().st_size for f in cache.rglob("*") if f.is_file()) if cache.is_dir() else 0
    return f"{size / 1e6:.0f} MB in {cache}" if size else f"empty ({cache})"


def main(cold_pip: bool = False) -> dict[str, float]:
    """Measure, print the figures, print the JSON line last; return the figures."""
    pip_cache = "off (PIP_NO_CACHE_DIR)" if cold_pip else pip_cache_state()
    print(
        f"First run from a fresh clone of {REPO_ROOT} ({os.cpu_count()} CPUs; pip cache "
        f"{pip_cache}; a shared machine, so figures vary from run to run):",
        flush=True,
    )
    figures = measure(cold_pip)
    print(figures_line(figures))
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold-pip", action="store_true", help="make setup without pip's cache")
    parser.add_argument("--time-first-cell", type=Path, metavar="NOTEBOOK", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.time_first_cell:
        seconds, output = first_cell_seconds(args.time_first_cell)
        print(json.dumps({"first_cell_s": seconds, "output": output}))
    else:
        main(cold_pip=args.cold_pip)
