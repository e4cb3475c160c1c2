"""Authoring: turning course/source into what learners and instructors get, and proving it works.

Public API:

    release.write_all(lessons) / release.drift()   notebooks/ and solutions/ from course/source
    devcheck.run(lessons, bootstrap) -> Report     the self-test gate (`kafka-course dev check`)
    roundtrip.autograde_lesson(lesson)             nbgrader release, submit, autograde, export
    nbgrader_plugin.AUTOGRADE_PREPROCESSORS        the run id and the broker verdict for nbgrader
    notebook_run                                   executing a notebook, reading its check cells
    exercise_cells                                 running only the cells the exercises need
    reset.reset_lesson(lesson)                     a learner's notebook back as released

Builds on grading/ and notebook/; nothing here imports cli/ (a test asserts it). Modules are
imported as such, so that nbgrader's configuration loads only the plugin.

Example:
    >>> from autograder.authoring import devcheck
    >>> devcheck.run(["01"], "localhost:9092").failed
    []
"""
