"""nbgrader's autograde, with the verdict taken from the broker in the grader's own process.

A learner's notebook runs in a kernel it controls: it can redefine `course.check` or patch any
module before the check cell runs. So the grader also judges every check cell itself, after
the kernel is done, from what the broker holds for that execution's run id. A cell the kernel
passed but the broker does not support gets an error output, and nbgrader scores it zero.
"""

from __future__ import annotations

import os

from nbconvert.preprocessors import ClearMetadataPreprocessor, Preprocessor
from nbformat.v4 import new_output
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    Execute,
    IgnorePattern,
    LimitOutput,
    SaveAutoGrades,
)
from traitlets import Bool

from autograder.grading import manifest
from autograder.grading.namespace import RUN_ID_ENV, Namespace, new_run_id
from autograder.grading.quiet import silence_kafka_logs

RUN_ID_KEY = "kafka_course_run_id"


class AssignRunId(Preprocessor):
    """Before the kernel starts: a fresh run id, passed to the kernel through its environment."""

    enabled = Bool(True).tag(config=True)  # nbconvert preprocessors are off unless enabled

    def preprocess(self, nb, resources):
        run_id = new_run_id()
        os.environ[RUN_ID_ENV] = run_id  # the kernel nbgrader starts next inherits it
        resources[RUN_ID_KEY] = run_id
        return nb, resources


def _has_error(cell) -> bool:
    return any(o.get("output_type") == "error" for o in cell.get("outputs", ()))


class BrokerVerdict(Preprocessor):
    """After the kernel ends: judge each check cell again from the broker, in this process."""

    enabled = Bool(True).tag(config=True)

    def preprocess(self, nb, resources):
        from autograder.broker import bootstrap_servers
        from autograder.grading.verdict import rejudge

        os.environ.pop(RUN_ID_ENV, None)
        run_id = resources.get(RUN_ID_KEY)
        silence_kafka_logs()
        bootstrap = bootstrap_servers()
        for cell in nb.cells:
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
            found = manifest.exercise_by_check_grade_id(grade_id)
            if cell.cell_type != "code" or found is None or _has_error(cell):
                continue
            lesson, exercise = found
            try:
                result = rejudge(bootstrap, Namespace(run_id, lesson.id), exercise.id)
            except Exception as error:  # a forged claim, a broker gone: never points
                summary, text = "could not be judged", f"{type(error).__name__}: {error}"
            else:
                if result.passed:
                    continue
                summary, text = result.summary, str(result)
            self.log.warning("%s: the broker does not support a pass: %s", exercise.id, summary)
            cell.outputs.append(
                new_output(
                    "error",
                    ename="BrokerVerdict",
                    evalue=f"{exercise.id}: {summary}",
                    traceback=[text],
                )
            )
        return nb, resources


AUTOGRADE_PREPROCESSORS = [
    AssignRunId,
    Execute,
    BrokerVerdict,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]
