"""A learner's JupyterLab in a real browser: for the browser test and the README's screenshots.

``LearnerLab`` starts JupyterLab exactly as `make lab` does (`kafka-course lab`, the learner's
config) on a free port with a token, serving a copy of the student release, with its own state
folder so a learner's real progress is never touched. ``NotebookPage`` drives one notebook in
headless Chromium through Playwright: run a cell, replace an exercise cell's code as a learner
types it, read a cell's output, take screenshots.

The browser is the system's Chromium (Debian: `apt-get install chromium`); Playwright's own
browser download is not needed. ``find_chromium()`` says where it is, or None.

Example:
    >>> with LearnerLab(bootstrap) as lab, headless_chromium() as browser:
    ...     page = NotebookPage(browser, lab, "01_producer_basics/01_producer_basics.ipynb")
    ...     page.run(2)
    ...     "Kafka answers" in page.output(2)
    True
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from autograder.broker.ports import free_port
from autograder.grading.paths import RELEASE_DIR, SOLUTIONS_DIR, SOURCE_DIR

START_TIMEOUT_S = 90
CELL_TIMEOUT_MS = 90_000


class LabError(Exception):
    """JupyterLab or the browser did not do what the session needed; str() says what."""


def find_chromium() -> str | None:
    """The system's Chromium: $CHROMIUM, then chromium, chromium-browser, google-chrome."""
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        found = candidate and shutil.which(candidate)
        if found:
            return found
    return None


def reference_answer(notebook: str, cell_id: str) -> str:
    """The code of an exercise cell as the course's reference solution has it."""
    cells = json.loads((SOLUTIONS_DIR / notebook).read_text())["cells"]
    return "".join(next(c for c in cells if c.get("id") == cell_id)["source"])


def wrong_answer(notebook: str, exercise_id: str, name: str) -> str:
    """One of the plausible mistakes the gate proves wrong (course/source/…/wrong_answers/)."""
    lesson_dir = SOURCE_DIR / Path(notebook).parent
    return (lesson_dir / "wrong_answers" / exercise_id / f"{name}.py").read_text()


class LearnerLab:
    """`kafka-course lab` on a copy of notebooks/, a free port, a token and a state folder."""

    def __init__(
        self, bootstrap: str, release: Path = RELEASE_DIR, instructor: bool = False
    ) -> None:
        self.bootstrap = bootstrap
        self.instructor = instructor  # `kafka-course lab --instructor`: nbgrader's tools on
        self.release = release
        self.port = free_port()
        self.token = secrets.token_hex(12)
        self._folder = Path(tempfile.mkdtemp(prefix="kc-lab-"))
        self.root = self._folder / "notebooks"
        self.state = self._folder / "state"  # the progress this lab's learner records
        self._process: subprocess.Popen | None = None

    def __enter__(self) -> LearnerLab:
        shutil.copytree(self.release, self.root)
        self._log = open(self._folder / "lab.log", "wb")  # noqa: SIM115 (closed in __exit__)
        env = dict(
            os.environ,
            KAFKA_BOOTSTRAP_SERVERS=self.bootstrap,
            KAFKA_COURSE_STATE_DIR=str(self.state),
            JUPYTERLAB_WORKSPACES_DIR=str(self._folder / "workspaces"),
            JUPYTERLAB_SETTINGS_DIR=str(self._folder / "settings"),
        )
        env.pop("KAFKA_COURSE_RUN_ID", None)  # a learner's kernel carries no grading run id
        self._process = subprocess.Popen(
            [sys.executable, "-m", "autograder.cli", "lab", "--no-browser"]
            + [f"--port={self.port}", f"--token={self.token}", f"--root={self.root}"]
            + (["--instructor"] if self.instructor else []),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )
        self._await_start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5)
        self._log.close()
        shutil.rmtree(self._folder, ignore_errors=True)

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}{sep}token={self.token}"

    def status(self, path: str) -> int:
        """The HTTP status JupyterLab answers ``path`` with (redirects not followed)."""

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any, **kwargs: Any) -> None:
                return None

        try:
            return urllib.request.build_opener(NoRedirect).open(self.url(path), timeout=10).status
        except urllib.error.HTTPError as error:
            return error.code

    def log(self) -> str:
        return (self._folder / "lab.log").read_text(errors="replace")

    def _await_start(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise LabError(f"JupyterLab exited on start:\n{self.log()[-2000:]}")
            try:
                urllib.request.urlopen(self.url("api/status"), timeout=2)
                return
            except OSError:
                time.sleep(0.5)
        raise LabError(f"JupyterLab did not answer within {START_TIMEOUT_S} s")


@contextmanager
def headless_chromium(executable: str | None = None) -> Iterator[Any]:
    """The system's Chromium, headless, driven by Playwright; closed on exit (one at a time)."""
    from playwright.sync_api import sync_playwright

    executable = executable or find_chromium()
    if executable is None:
        raise LabError("no Chromium found: apt-get install chromium, or set CHROMIUM")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable)
        try:
            yield browser
        finally:
            browser.close()


class NotebookPage:
    """One notebook open in JupyterLab, driven as a learner would (cells by index or by id)."""

    def __init__(self, browser: Any, lab: LearnerLab, notebook: str, height: int = 1000) -> None:
        self.lab = lab
        cells = json.loads((lab.root / notebook).read_text())["cells"]
        self._index = {c.get("id"): i for i, c in enumerate(cells)}
        self.page = browser.new_page(viewport={"width": 1200, "height": height})
        # A workspace of its own: the page shows this notebook only, not those opened before.
        self.page.goto(lab.url(f"lab/workspaces/{secrets.token_hex(4)}/tree/{notebook}"))
        self.page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=CELL_TIMEOUT_MS)
        self.page.wait_for_selector("text=| Idle", timeout=CELL_TIMEOUT_MS)  # the kernel is ready

    def index(self, cell: int | str) -> int:
        return cell if isinstance(cell, int) else self._index[cell]

    def cell(self, cell: int | str) -> Any:
        return self.page.locator(".jp-Notebook .jp-Cell").nth(self.index(cell))

    def run(self, cell: int | str, wait_for: str | None = None) -> None:
        """Run a cell with Shift+Enter and wait until its prompt shows it finished."""
        target = self.cell(cell)
        target.locator(".jp-InputArea-editor").click()
        self.page.keyboard.press("Shift+Enter")
        prompt = target.locator(".jp-InputArea-prompt")
        deadline = time.monotonic() + CELL_TIMEOUT_MS / 1000
        while time.monotonic() < deadline:
            text = prompt.inner_text()
            if "[*]" not in text and text.strip() not in ("[ ]:", ""):
                break
            time.sleep(0.2)
        else:
            raise LabError(f"cell {cell} did not finish within {CELL_TIMEOUT_MS // 1000} s")
        if wait_for:
            target.locator(".jp-OutputArea").get_by_text(wait_for).first.wait_for(timeout=30_000)

    def type_code(self, cell: int | str, code: str) -> None:
        """Replace a cell's code, as a paste: the editor's auto-indent does not reshape it."""
        self.cell(cell).locator(".jp-InputArea-editor").click()
        self.page.keyboard.press("Control+A")
        self.page.keyboard.insert_text(code)

    def output(self, cell: int | str) -> str:
        return self.cell(cell).locator(".jp-OutputArea").inner_text()

    def screenshot(self, cell: int | str, path: Path) -> None:
        """The cell, its code and its output, as the learner sees them."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.cell(cell).screenshot(path=str(path))

    def menu_labels(self) -> list[str]:
        return self.page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
