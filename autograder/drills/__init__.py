"""Interview drills: the question bank, the proofs on the broker, and the ways to drill.

    bank       course/drills.yml read and checked: ``load()``, ``select(lesson, kind)``
    proof      ``Proof`` and ``run(name, bootstrap)``: an experiment that shows the answer
    proofs/    the experiments, one module per lesson
    history    the learner's answers and their Leitner boxes, in the course's state folder
    session    asking, judging and scoring, shared by the terminal and the widget
    terminal   `kafka-course drill` in plain text
    widget     the same in JupyterLab, with ipywidgets

Layer: above grading/ and notebook/ (a fix question is graded by a clinic exercise's check);
proofs may use demos/, as lessons do. The CLI imports it only inside its handler.
"""
