"""`kafka-course dev check` for each lesson, nbgrader round trip included, on the real broker.

This is the course's gate: starters fail with guidance, solutions pass, wrong answers fail,
nbgrader gives the reference full points and both the untouched release and a notebook that
redefines its checks zero.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from autograder.grading import manifest
from autograder.grading.paths import REPO_ROOT


@pytest.mark.timeout(1800)  # a whole lesson, executed about seven times over
@pytest.mark.parametrize("lesson", [lesson.id for lesson in manifest.load()])
def test_dev_check_passes(bootstrap, lesson):
    env = dict(os.environ, KAFKA_BOOTSTRAP_SERVERS=bootstrap)
    done = subprocess.run(
        [sys.executable, "-m", "autograder.cli", "dev", "check", lesson],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    print(done.stdout)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "redefines-check: 0/" in done.stdout and "crashes-kernel: 0/" in done.stdout
    assert ", 0 failed" in done.stdout
