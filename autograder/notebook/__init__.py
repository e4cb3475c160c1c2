"""The notebook side: what a lesson notebook imports, how a verdict is shown, the learner's
progress, and worker processes for demonstrations that must really start and die.

Public API:

    start(lesson_id, bootstrap=None) -> Lesson   a lesson's setup cell (also as autograder.lesson)
    Lesson.check(exercise_id, function)          run a check and show its verdict
    report(result)                               show a CheckResult; raise CheckFailed if failed
    CheckFailed                                  a failed check, shown without a traceback
    progress                                     the learner's own record of passed exercises
    Worker, running(...)                         demo processes that can be SIGKILLed

Builds on grading/; nothing here imports authoring/ or cli/ (a test asserts it).

Example:
    >>> from autograder.notebook import start
    >>> course = start("01")
    >>> course.check("create-topic", create_orders_topic)
"""

from autograder.notebook import progress
from autograder.notebook.display import CheckFailed, report
from autograder.notebook.lesson import Lesson, start
from autograder.notebook.workers import Worker, running

__all__ = ["CheckFailed", "Lesson", "Worker", "progress", "report", "running", "start"]
