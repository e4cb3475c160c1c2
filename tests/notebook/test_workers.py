"""Child processes that lessons start are really killed, even when the lesson's code raises."""

from __future__ import annotations

import signal
import time

import pytest

from autograder.notebook.workers import Worker, running


def test_kill_ends_the_child_with_sigkill():
    worker = Worker(time.sleep, 60).start()
    assert worker.alive
    worker.kill()
    assert not worker.alive and worker.exitcode == -signal.SIGKILL


def test_leaving_the_block_kills_workers_even_when_it_raised():
    worker = Worker(time.sleep, 60)
    with pytest.raises(RuntimeError), running(worker):
        assert worker.alive
        raise RuntimeError("the learner's code failed")
    assert not worker.alive


def test_wait_returns_the_exit_code_of_a_finished_child():
    assert Worker(time.sleep, 0).start().wait(30) == 0
