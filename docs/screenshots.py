"""Take the README's screenshots in a real JupyterLab, driven in headless Chromium.

    .venv/bin/python docs/screenshots.py      # needs the course broker up and a Chromium

Starts a learner's JupyterLab as `make lab` does (autograder/authoring/lab_session.py), walks
lesson 01 as a learner (a wrong answer, then the reference one, then the progress widget), and
answers a drill question with real clicks; saves what the browser shows to docs/images/. The
browser is the system's Chromium (Debian: `apt-get install chromium`), driven by Playwright's
Python package; set CHROMIUM to another path.
"""

from __future__ import annotations

import json
import sys
import time

from autograder.authoring.lab_session import (
    LabError,
    LearnerLab,
    NotebookPage,
    headless_chromium,
    reference_answer,
    wrong_answer,
)
from autograder.broker import bootstrap_servers
from autograder.grading.paths import REPO_ROOT

IMAGES = REPO_ROOT / "docs" / "images"
LESSON_01 = "01_producer_basics/01_producer_basics.ipynb"
DRILL_CELLS = [
    'from autograder.lesson import start\n\ncourse = start("11")',
    "from autograder.drills.widget import drill\n\n"
    'drill(course.bootstrap, lesson="10", kind="predict")',
]


def lesson_01(browser, lab: LearnerLab) -> None:
    page = NotebookPage(browser, lab, LESSON_01)
    page.run("code-03", wait_for="Kafka answers")
    page.run("code-05")
    page.type_code("create-topic", wrong_answer(LESSON_01, "create-topic", "retention_forgotten"))
    page.run("create-topic")
    page.run("check-create-topic", wait_for="not yet")
    page.screenshot("check-create-topic", IMAGES / "check-failed.png")
    page.type_code("create-topic", reference_answer(LESSON_01, "create-topic"))
    page.run("create-topic")
    page.run("check-create-topic", wait_for="✔ passed")
    page.screenshot("check-create-topic", IMAGES / "check-passed.png")
    page.run("code-progress", wait_for="1/3 · Producer basics")
    page.screenshot("code-progress", IMAGES / "progress-widget.png")


def drill_widget(browser, lab: LearnerLab) -> None:
    cells = [
        {"cell_type": "code", "metadata": {}, "source": s, "outputs": [], "execution_count": None}
        for s in DRILL_CELLS
    ]
    notebook = {
        "cells": cells,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (lab.root / "drill.ipynb").write_text(json.dumps(notebook))
    page = NotebookPage(browser, lab, "drill.ipynb", height=1600)  # the whole widget in view
    page.run(0, wait_for="Kafka answers")
    page.run(1)
    widget = page.cell(1).locator(".jp-OutputArea")
    widget.locator(".widget-toggle-button").nth(1).click()
    widget.locator("button", has_text="Predict").click()
    page.page.wait_for_selector("text=What the broker did", timeout=60_000)
    time.sleep(1)  # the proof's chart is drawn after its lines
    widget.screenshot(path=str(IMAGES / "drill-widget.png"))


def main() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    try:
        with LearnerLab(bootstrap_servers()) as lab, headless_chromium() as browser:
            lesson_01(browser, lab)
            drill_widget(browser, lab)
    except LabError as error:
        sys.exit(str(error))
    for name in ("check-failed", "check-passed", "progress-widget", "drill-widget"):
        print(f"saved {IMAGES / name}.png")


if __name__ == "__main__":
    main()
