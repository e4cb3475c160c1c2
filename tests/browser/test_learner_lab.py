"""Lesson 01 in a real JupyterLab, in headless Chromium, driven as a learner drives it.

One walk through the notebook, in order: the lab shows no instructor tools and no news
question; the setup cell prints the broker line; the progress widget shows nothing passed;
a wrong answer to exercise 1 is checked and the failure renders as expected, found and hint
with no traceback; a right answer passes; "Refresh" on the progress widget then shows the pass.
Screenshots of each step go to test-artifacts/browser/.
"""

from __future__ import annotations

import os
import time

import pytest

from autograder.authoring.lab_session import (
    LearnerLab,
    NotebookPage,
    find_chromium,
    headless_chromium,
    reference_answer,
    wrong_answer,
)
from autograder.grading.paths import REPO_ROOT

pytestmark = pytest.mark.broker

NOTEBOOK = "01_producer_basics/01_producer_basics.ipynb"
ARTIFACTS = REPO_ROOT / "test-artifacts" / "browser"

WRONG_ANSWER = wrong_answer(NOTEBOOK, "create-topic", "retention_forgotten")
RIGHT_ANSWER = reference_answer(NOTEBOOK, "create-topic")


@pytest.fixture(scope="module")
def browser():
    chromium = find_chromium()
    if chromium is None:
        reason = "no Chromium on this machine: apt-get install chromium (or set CHROMIUM)"
        if os.environ.get("KAFKA_COURSE_REQUIRE_BROWSER"):
            pytest.fail(reason + "; .ci/run requires one")  # CI must not skip this test
        pytest.skip(reason)
    with headless_chromium(chromium) as launched:
        yield launched


@pytest.fixture(scope="module")
def page(bootstrap, browser):
    with LearnerLab(bootstrap) as lab:
        shown = NotebookPage(browser, lab, NOTEBOOK)
        yield shown
        shown.page.screenshot(path=str(_artifact("last-page.png")))


def _what_shows(page: NotebookPage) -> dict[str, bool]:
    """Which of nbgrader's instructor tools and JupyterLab's news question the page shows."""
    time.sleep(3)  # the news question, where it is on, pops up shortly after the page loads
    return {
        "Nbgrader menu": "Nbgrader" in page.menu_labels(),
        "Create Assignment sidebar": page.page.get_by_text("Create Assignment").count() > 0,
        "news question": page.page.locator(".Toastify__toast", has_text="news").count() > 0,
        "formgrader": page.lab.status("formgrader") != 404,  # nbgrader's server side
    }


def test_a_learners_lab_shows_no_instructor_tools_and_no_news_question(page):
    shown = _what_shows(page)
    page.page.screenshot(path=str(_artifact("01-opened.png")))
    assert not any(shown.values()), shown


def test_the_instructors_lab_keeps_them(bootstrap, browser):
    """The same probe sees all of them in `kafka-course lab --instructor` (make instructor-lab)."""
    with LearnerLab(bootstrap, instructor=True) as lab:
        shown = _what_shows(NotebookPage(browser, lab, NOTEBOOK))
    assert all(shown.values()), shown


def test_the_setup_cell_prints_the_broker_line(page):
    page.run("code-03", wait_for="Kafka answers")
    assert f"Kafka answers at {page.lab.bootstrap}" in page.output("code-03")
    page.run("code-05")  # the admin client's imports, which the reference solution uses
    page.screenshot("code-03", _artifact("02-setup.png"))


def test_the_progress_widget_starts_with_nothing_passed(page):
    page.run("code-progress", wait_for="Lesson 01")
    widget = page.cell("code-progress")
    assert widget.locator(".widget-hprogress").count() == 11  # one bar per lesson
    assert "0/3 · Producer basics" in page.output("code-progress")


def test_a_wrong_answer_renders_expected_found_and_hint_without_a_traceback(page):
    page.type_code("create-topic", WRONG_ANSWER)
    page.run("create-topic")
    page.run("check-create-topic", wait_for="not yet")
    shown = page.output("check-create-topic")
    for part in ("✘ not yet", "expected", "found", "hint", "CheckFailed"):
        assert part in shown
    assert "Traceback" not in shown and "File " not in shown
    page.screenshot("check-create-topic", _artifact("03-check-failed.png"))


def test_a_right_answer_passes(page):
    page.type_code("create-topic", RIGHT_ANSWER)
    page.run("create-topic")
    page.run("check-create-topic", wait_for="✔ passed")
    shown = page.output("check-create-topic")
    assert "✔ passed" in shown and "not yet" not in shown
    page.screenshot("check-create-topic", _artifact("04-check-passed.png"))


def test_the_progress_widget_shows_the_pass_on_refresh(page):
    widget = page.cell("code-progress")
    assert "0/3 · Producer basics" in page.output("code-progress")  # nothing redraws by itself
    widget.locator("button", has_text="Refresh").click()
    widget.get_by_text("1/3 · Producer basics").wait_for(timeout=10_000)
    assert "create-topic: passed" in page.output("code-progress")
    assert (page.lab.state / "progress.json").is_file()  # the lab's own learner, not yours
    page.screenshot("code-progress", _artifact("05-progress-widget.png"))


def _artifact(name: str):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name
