"""The forked runner that lets lesson 07 crash a function defined in a notebook cell."""

from __future__ import annotations

import multiprocessing
import os
import time

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from autograder.authoring import notebook_run
from autograder.grading.crash_runner import crash_now, run_forked


def test_a_closure_runs_in_the_child_and_its_value_comes_back():
    answer = {"value": 41}
    result = run_forked(lambda: answer["value"] + 1, time_limit_s=10)
    assert (result.returned, result.exitcode, result.crashed) == (42, 0, False)


def test_the_child_is_another_process():
    assert run_forked(os.getpid, time_limit_s=10).returned != os.getpid()


def test_a_sigkill_in_the_child_is_reported_as_a_crash_and_the_parent_goes_on():
    def dies():
        print("last words")
        crash_now()

    result = run_forked(dies, time_limit_s=10)
    assert result.crashed and result.exitcode == -9
    assert result.returned is None and "last words" in result.output


def test_an_error_in_the_child_is_reported_not_raised():
    def fails():
        raise SystemExit("bye")

    result = run_forked(fails, time_limit_s=10)
    assert result.error_type == "SystemExit" and not result.crashed


def test_a_child_past_its_time_limit_is_killed():
    started = time.monotonic()
    result = run_forked(lambda: time.sleep(60), time_limit_s=1)
    assert result.timed_out and not result.crashed
    assert time.monotonic() - started < 5
    assert multiprocessing.active_children() == []


def test_a_function_defined_in_a_notebook_cell_crashes_without_taking_the_kernel_down(bootstrap):
    nb = new_notebook(
        cells=[
            new_code_cell(
                "from autograder.grading.crash_runner import crash_now, run_forked\n"
                "def learner():\n    print('working')\n    crash_now()"
            ),
            new_code_cell(
                "result = run_forked(learner, time_limit_s=20)\n"
                "print(result.crashed, result.output.strip())"
            ),
            new_code_cell("print('kernel alive')"),
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    nb = notebook_run.execute(nbformat.from_dict(nb), bootstrap)
    texts = ["".join(o.get("text", "") for o in cell.outputs) for cell in nb.cells]
    stderr = [o for cell in nb.cells for o in cell.outputs if o.get("name") == "stderr"]
    assert texts[1].strip() == "True working" and texts[2].strip() == "kernel alive"
    assert stderr == []
