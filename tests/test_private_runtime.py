"""The sandbox reaches the Python runtime wherever it lives, or the run stops.

A virtual environment under nested private folders (0700, as ``~/.cache/...``
is for pipx, poetry, uv and conda installs) and a ``pip install --user``
site-packages under a private home: the reference solutions of all twelve
units must score full marks from either. A runtime file the sandbox cannot
read stops the run before anyone is graded, naming the file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from autograder.units import load_course

REPO = Path(__file__).resolve().parents[1]
SITE = Path(sysconfig.get_paths()["purelib"])  # this environment's site-packages
VERSION = f"python{sys.version_info.major}.{sys.version_info.minor}"

pytestmark = pytest.mark.slow


def _private(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def _link_tree(source: Path, dest: Path) -> None:
    """A copy of ``source`` made of hard links (instant on one filesystem), else a real copy."""
    try:
        shutil.copytree(source, dest, copy_function=os.link, symlinks=True)
    except OSError:
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(source, dest, symlinks=True)


@pytest.fixture(scope="module")
def reference_class(tmp_path_factory) -> Path:
    subs = tmp_path_factory.mktemp("refclass") / "subs"
    course = load_course(REPO)
    for student in ("ref_a", "ref_b"):
        (subs / student).mkdir(parents=True)
        for unit in course.units:
            shutil.copyfile(unit.solution, subs / student / unit.filename)
    return subs


def _grade(python: str, subs: Path, out: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    cmd = [python, "-m", "autograder", "grade", str(subs), "--out", str(out), "--course", str(REPO), "--seed", "15", "--workers", "2"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, cwd=str(out.parent))


def _full_marks(out: Path) -> None:
    doc = json.loads((out / "grades.json").read_text())
    for student, row in doc["students"].items():
        for unit, got in row["units"].items():
            lost = [c for c in got["checks"] if c["status"] != "passed"]
            assert got["score"] == got["max_score"], (student, unit, lost[:3])


@pytest.fixture(scope="module")
def private_venv(tmp_path_factory) -> Path:
    home = _private(tmp_path_factory.mktemp("home") / "root")
    venv = _private(_private(home / ".cache") / "tool") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = venv / "lib" / VERSION / "site-packages"
    shutil.rmtree(site)
    _link_tree(SITE, site)
    return venv


def test_venv_under_nested_private_folders(private_venv, reference_class, tmp_path):
    out = tmp_path / "out"
    done = _grade(str(private_venv / "bin" / "python"), reference_class, out)
    assert done.returncode == 0, done.stderr[-3000:]
    _full_marks(out)


def test_user_site_packages_under_a_private_home(reference_class, tmp_path):
    base = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    userbase = _private(_private(tmp_path / "home") / ".local")
    _link_tree(SITE, userbase / "lib" / VERSION / "site-packages")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONUSERBASE": str(userbase), "HOME": str(tmp_path / "home")}
    found = subprocess.run([str(base), "-c", "import site, torch; print(site.ENABLE_USER_SITE, torch.__file__)"],
                           capture_output=True, text=True, env=env)  # fmt: skip
    assert found.returncode == 0 and found.stdout.startswith("True") and str(userbase) in found.stdout, found.stderr
    out = tmp_path / "out"
    done = _grade(str(base), reference_class, out, env)
    assert done.returncode == 0, done.stderr[-3000:]
    _full_marks(out)


def test_an_unreadable_runtime_stops_the_run_naming_the_file(private_venv, reference_class, tmp_path):
    """A file of the runtime the sandbox cannot read: no one is graded, the error says which and what to do."""
    if os.geteuid() != 0:
        pytest.skip("run by a user, sandboxes are that user (without capabilities): what the user reads, they read")
    site = private_venv / "lib" / VERSION / "site-packages"
    hidden = site / "zz_unreadable_pkg"
    hidden.mkdir()
    (hidden / "__init__.py").write_text("X = 1\n")
    os.chmod(hidden / "__init__.py", 0o600)
    try:
        out = tmp_path / "out"
        done = _grade(str(private_venv / "bin" / "python"), reference_class, out)
    finally:
        shutil.rmtree(hidden)
    assert done.returncode != 0
    assert "zz_unreadable_pkg/__init__.py" in done.stderr and "chmod" in done.stderr, done.stderr[-2000:]
    assert not (out / "grades.json").exists()
