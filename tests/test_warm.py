"""The warm checker: a later `torchgrade check` on a terminal reuses a warm process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder import warm

FIXTURE = Path(__file__).parent / "fixtures" / "course"


@pytest.fixture
def course(tmp_path):
    root = tmp_path / "course"
    shutil.copytree(FIXTURE, root)
    return root


@pytest.fixture
def server(course):
    proc = subprocess.Popen([sys.executable, "-c", f"from pathlib import Path; from autograder.warm import serve; serve(Path({str(course)!r}), idle_seconds=20)"])
    deadline = time.monotonic() + 120
    while warm.ask(course, {"ping": True}, timeout=5) is None:
        assert proc.poll() is None and time.monotonic() < deadline, "the warm checker did not come up"
        time.sleep(0.2)
    yield proc
    proc.kill()
    proc.wait()


def _check(course: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "autograder", "check", "01", "--course", str(course), "--seed", "3", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ, **env})


def test_a_warm_check_answers_as_a_fresh_one(course, server):
    solved = course / "solutions" / "01_toy" / "toy.py"
    fresh = _check(course, "--file", str(solved), "--json", TORCHGRADE_NO_WARM="1")
    warmed = _check(course, "--file", str(solved), "--json", TORCHGRADE_WARM="1")
    assert fresh.returncode == warmed.returncode == 0, warmed.stderr
    a, b = json.loads(fresh.stdout), json.loads(warmed.stdout)
    assert a["units"]["01_toy"]["score"] == b["units"]["01_toy"]["score"] == 4
    assert [c["status"] for c in a["units"]["01_toy"]["checks"]] == [c["status"] for c in b["units"]["01_toy"]["checks"]]
    stub = _check(course, TORCHGRADE_WARM="1")  # the stub in assignments/: nothing passes, exit 1
    assert stub.returncode == 1 and "warm" in stub.stderr


def test_it_serves_only_its_own_user(course, server):
    """The socket's folder is private, and the server checks the peer's uid too."""
    folder = warm.socket_path(course).parent
    assert os.stat(folder).st_mode & 0o077 == 0 and os.stat(warm.socket_path(course)).st_mode & 0o077 == 0
    if os.geteuid() != 0:
        pytest.skip("needs root to try as another user")
    pid = os.fork()
    if pid == 0:
        import socket

        os.setgid(65534)
        os.setuid(65534)
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(str(warm.socket_path(course).resolve()))
            os._exit(1)  # connected: wrong
        except OSError:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_it_stops_when_idle(course):
    proc = subprocess.Popen([sys.executable, "-c", f"from pathlib import Path; from autograder.warm import serve; serve(Path({str(course)!r}), idle_seconds=1)"])
    assert proc.wait(timeout=120) == 0
    assert not warm.socket_path(course).exists()


def test_a_planted_socket_folder_is_not_used(tmp_path, monkeypatch):
    """Another user who makes the warm checker's folder first (open to all,
    or a link to theirs) could answer a student's checks: it is refused."""
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    folder = tmp_path / f"torchgrade-warm-{os.getuid()}"
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)
    with pytest.raises(PermissionError, match="not using a warm checker"):
        warm.socket_path(tmp_path)
    folder.rmdir()
    (tmp_path / "theirs").mkdir(mode=0o700)
    folder.symlink_to(tmp_path / "theirs")
    with pytest.raises(PermissionError, match="a link"):
        warm.socket_path(tmp_path)
