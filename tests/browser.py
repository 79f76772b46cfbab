"""The browser tests' needs: Debian's Chromium (Playwright's own browser
download cannot be reached from CI machines) and pdftotext.

On a machine without them a browser test is skipped with what to install;
under CI (the CI environment variable, which .ci/run sets) it fails: CI
must run every test.
"""

from __future__ import annotations

import os
import shutil

import pytest

INSTALL = "install them with: sudo apt-get install chromium poppler-utils (Debian/Ubuntu), then run the tests again"


def chromium() -> str:
    """The path of a Chromium binary, or skip (fail under CI) saying how to get one."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        _missing("Chromium")
    return found


def pdftotext() -> str:
    found = shutil.which("pdftotext")
    if found is None:
        _missing("pdftotext")
    return found


def _missing(what: str) -> None:
    message = f"this browser test needs {what}, which is not on PATH: {INSTALL}"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI runs every test: a missing browser is a failure there)")
    pytest.skip(message)
