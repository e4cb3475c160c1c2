"""nbgrader settings for the course. Run nbgrader commands from this folder."""

from nbgrader.coursedir import CourseDirectory

from autograder.authoring.nbgrader_plugin import AUTOGRADE_PREPROCESSORS

c = get_config()  # noqa: F821  (nbgrader provides it)

c.CourseDirectory.course_id = "kafka-producers-consumers"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
# Wrong answers (source/<lesson>/wrong_answers/) are the gate's, never the learners': nbgrader
# copies every other file of a lesson's folder into the release and the autograded submissions.
c.CourseDirectory.ignore = [*CourseDirectory.ignore.default(), "wrong_answers"]

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# Each check bounds itself to about 20 s; the cell limit leaves room for a slow machine.
c.Execute.timeout = 120

# Autograde as nbgrader does, plus two steps: give each execution its own run id before the
# kernel starts, and after it ends, judge every check again from the broker in this process.
c.Autograde.autograde_preprocessors = AUTOGRADE_PREPROCESSORS
