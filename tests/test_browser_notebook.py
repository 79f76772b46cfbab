"""A real browser: JupyterLab serves a unit's notebook, headless Chromium runs
its cells through Playwright, and the ``%check`` result is read off the page."""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from autograder.notebooks import notebook_path
from autograder.units import load_course
from tests.browser import chromium

ROOT = Path(__file__).resolve().parent.parent
UNIT = "02_reshaping"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    """JupyterLab on a copy of the course; the unit's notebook gets the reference code as a cell before its last."""
    browser = chromium()
    for needed in ("jupyterlab", "playwright"):
        if importlib.util.find_spec(needed) is None:
            message = f"needs {needed}: pip install -e '.[test]'"
            pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    course = tmp_path / "course"
    for part in ("assignments", "solutions", "checks"):
        shutil.copytree(ROOT / part, course / part, ignore=shutil.ignore_patterns("__pycache__"))
    unit = load_course(course).unit(UNIT)
    path = notebook_path(unit)
    nb = json.loads(path.read_text())
    reference = unit.solution.read_text().replace("from __future__ import annotations\n", "")
    nb["cells"].insert(len(nb["cells"]) - 1, {"cell_type": "code", "id": "reference", "metadata": {}, "outputs": [],
                                              "execution_count": None, "source": reference})  # fmt: skip
    path.write_text(json.dumps(nb))
    port, token = _free_port(), secrets.token_hex(16)
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ip=127.0.0.1", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={course}", "--LabApp.expose_app_in_browser=True", "--ServerApp.allow_root=True"],
        stdout=subprocess.DEVNULL, stderr=(tmp_path / "lab.log").open("w"), env=dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "jcfg")),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("JupyterLab did not start:\n" + (tmp_path / "lab.log").read_text()[-3000:])
                time.sleep(0.5)
        url = f"http://127.0.0.1:{port}/lab/tree/{path.relative_to(course)}?token={token}"
        yield browser, url, unit
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_check_in_jupyterlab_shows_the_result_table(lab):
    from playwright.sync_api import sync_playwright

    browser_path, url, unit = lab
    most = sum(e.points for e in unit.exercises)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.goto(url, timeout=120_000)
            page.wait_for_function("() => window.jupyterapp && document.querySelector('.jp-Notebook')", timeout=120_000)
            # the kernel is up once the notebook's session says idle
            page.wait_for_function(
                "() => { const w = window.jupyterapp.shell.currentWidget;"
                " return w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel"
                " && w.sessionContext.session.kernel.status === 'idle'; }", timeout=120_000)  # fmt: skip
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
            last = page.locator(".jp-Notebook .jp-Cell").last
            done = last.locator(".torchgrade-check")
            done.wait_for(timeout=300_000)
            text = done.inner_text()
            assert f"{unit.name}: {most:g}/{most:g} points" in text and "all checks pass" in text, text[:2000]
            assert last.locator(".torchgrade-check table tr").count() > len(unit.exercises)  # a row per check and device
            # an exercise's own check cell, run before the reference cell, showed 0 for the untouched stub
            first_check = page.locator(".jp-Notebook .jp-Cell", has_text=f"%check {unit.exercises[0].name}").first
            first_check.scroll_into_view_if_needed()  # JupyterLab renders only the cells in view
            shown = first_check.locator(".torchgrade-check")
            shown.wait_for(timeout=60_000)
            assert f"{unit.exercises[0].name}: 0/" in shown.text_content()  # the DOM text: a cell out of view is not laid out
        finally:
            browser.close()
