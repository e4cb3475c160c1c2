"""`kafka-course dev check` for each lesson, nbgrader round trip included, on the real broker.

This is the course's gate: starters fail with guidance, solutions pass (every lesson cell runs),
wrong answers fail, nbgrader gives the reference full points and the untouched release, a
notebook that redefines its checks and one that kills its kernel zero.

One `dev check` runs every selected lesson (all of them, or those `-k` picks), so that the
rounds of the next lesson fill the workers while the last rounds of one finish; each lesson's
test then reads that lesson's own lines.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from autograder.grading import manifest
from autograder.grading.paths import REPO_ROOT

LESSONS = manifest.load()
TEST_NAME = "test_dev_check_passes"


def _selected_lessons(session) -> list[str]:
    return sorted(
        {
            item.callspec.params["lesson"]
            for item in session.items
            if getattr(item, "originalname", None) == TEST_NAME
        }
    )


@pytest.fixture(scope="module")
def learner_state(tmp_path_factory):
    """The state folder (where a learner's progress.json lives) the dev check runs with."""
    return tmp_path_factory.mktemp("learner-state")


@pytest.fixture(scope="module")
def dev_check(bootstrap, learner_state, request) -> subprocess.CompletedProcess:
    """One `kafka-course dev check` over the selected lessons; its output is printed."""
    env = dict(
        os.environ, KAFKA_BOOTSTRAP_SERVERS=bootstrap, KAFKA_COURSE_STATE_DIR=str(learner_state)
    )
    env.pop("KAFKA_COURSE_RUN_ID", None)  # as in a learner's terminal
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder.cli",
            "dev",
            "check",
            *_selected_lessons(request.session),
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    print(done.stdout)
    # Each lesson's time, also in the run's log (captured output shows only on failure).
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        for line in re.findall(r"^(?:lesson \d+: \d+ s|total: .*)$", done.stdout, re.MULTILINE):
            print(f"\ndev check {line}", end="")
        print()
    return done


def _lines_of(stdout: str, lesson: manifest.LessonSpec) -> str | None:
    """What the check printed for one lesson, from its title to its time; None if it never got
    that far."""
    found = re.search(
        rf"^lesson {lesson.id}: {re.escape(lesson.title)}\n(.*?)^lesson {lesson.id}: \d+ s$",
        stdout,
        re.MULTILINE | re.DOTALL,
    )
    return found.group(1) if found else None


@pytest.mark.timeout(3600)  # the first test waits for the whole run: every lesson, side by side
@pytest.mark.parametrize("lesson", [lesson.id for lesson in LESSONS])
def test_dev_check_passes(dev_check, lesson):
    lines = _lines_of(dev_check.stdout, manifest.lesson(lesson))
    assert lines is not None, dev_check.stdout[-4000:] + dev_check.stderr[-2000:]
    assert "✘" not in lines, lines
    assert "solution notebook: every lesson cell runs" in lines
    assert "redefines-check: 0/" in lines and "crashes-kernel: 0/" in lines
    assert "nbgrader autograde reference, every cell run as instructors grade:" in lines


@pytest.mark.timeout(3600)
def test_dev_check_passes_as_a_whole(dev_check):
    assert dev_check.returncode == 0, dev_check.stdout[-4000:] + dev_check.stderr[-2000:]
    assert ", 0 failed" in dev_check.stdout
    assert re.search(r"^total: \d+ s for \d+ lesson", dev_check.stdout, re.MULTILINE)


def test_the_dev_check_leaves_the_learners_progress_alone(dev_check, learner_state):
    """Its solution rounds pass every exercise, yet none of that is the learner's progress."""
    assert "solution" in dev_check.stdout and "passes" in dev_check.stdout
    assert not (learner_state / "progress.json").exists()
