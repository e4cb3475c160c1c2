"""The learner's entry point: a lesson notebook's setup cell starts here.

>>> from autograder.lesson import start
>>> course = start("01")
"""

from autograder.notebook.lesson import Lesson, start

__all__ = ["Lesson", "start"]
