"""Take the README's screenshots in a real JupyterLab, driven in headless Chromium.

    .venv/bin/python docs/screenshots.py      # needs the course broker up and a Chromium

Starts JupyterLab on a free port with a token, opens a scratch notebook that shows the drill
widget, answers a question with real clicks, and saves the widget as it renders in the browser
to docs/images/. The browser is the system's Chromium (Debian: `apt-get install chromium`),
driven by Playwright's Python package (`pip install playwright`); set CHROMIUM to another path.
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
import urllib.request
from pathlib import Path

from autograder.broker import bootstrap_servers
from autograder.broker.ports import free_port
from autograder.grading.paths import REPO_ROOT

IMAGES = REPO_ROOT / "docs" / "images"
CELLS = [
    'from autograder.lesson import start\n\ncourse = start("11")',
    "from autograder.drills.widget import drill\n\n"
    'drill(course.bootstrap, lesson="10", kind="predict")',
]


def chromium() -> str:
    found = (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if not found:
        sys.exit("no Chromium found: install it (Debian: apt-get install chromium) or set CHROMIUM")
    return found


def scratch_notebook(folder: Path) -> Path:
    cells = [
        {"cell_type": "code", "metadata": {}, "source": s, "outputs": [], "execution_count": None}
        for s in CELLS
    ]
    notebook = {
        "cells": cells,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = folder / "drill.ipynb"
    path.write_text(json.dumps(notebook))
    return path


def start_lab(folder: Path, port: int, token: str) -> subprocess.Popen:
    lab = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "jupyter"),
            "lab",
            "--no-browser",
            f"--port={port}",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={folder}",
            "--allow-root",
        ],
        env=dict(os.environ, KAFKA_BOOTSTRAP_SERVERS=bootstrap_servers()),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2)
            return lab
        except OSError:
            time.sleep(0.5)
    lab.kill()
    sys.exit("JupyterLab did not start within 60 s")


def main() -> None:
    from playwright.sync_api import sync_playwright

    IMAGES.mkdir(parents=True, exist_ok=True)
    port, token = free_port(), secrets.token_hex(8)
    with tempfile.TemporaryDirectory() as folder:
        scratch_notebook(Path(folder))
        lab = start_lab(Path(folder), port, token)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium())
                page = browser.new_page(viewport={"width": 1100, "height": 1400})
                page.goto(f"http://127.0.0.1:{port}/lab/tree/drill.ipynb?token={token}")
                page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
                page.wait_for_selector("text=| Idle", timeout=60_000)  # the kernel is ready
                news = page.locator(".jp-toast-button", has_text="No")
                if news.count():
                    news.first.click()  # JupyterLab's question about Jupyter news
                page.locator(".jp-Cell").first.click()
                page.keyboard.press("Shift+Enter")
                page.wait_for_selector("text=Kafka answers", timeout=60_000)
                page.keyboard.press("Shift+Enter")
                widget = page.locator(".jp-Cell").nth(1).locator(".jp-OutputArea")
                widget.locator(".widget-toggle-button").nth(1).click()
                widget.locator("button", has_text="Predict").click()
                page.wait_for_selector("text=What the broker did", timeout=60_000)
                time.sleep(1)
                widget.screenshot(path=str(IMAGES / "drill-widget.png"))
                browser.close()
        finally:
            lab.terminate()
            lab.wait(10)
    print(f"saved {IMAGES / 'drill-widget.png'}")


if __name__ == "__main__":
    main()
