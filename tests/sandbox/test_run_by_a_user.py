"""Run by a user rather than root, the sandboxes are confined just as well.

Instructors and students run torchgrade as themselves. Bubblewrap then works
in a user namespace of theirs, and the zygote must still give each sandbox a
PID namespace of its own: without one, a sandbox sees every other sandbox
running beside it, for the same user, and could kill another student's.

Here the grader is run in a user namespace where it is uid 1000, which takes
the same path as a real user (``unshare --map-user``); the files stay
readable, since outside that namespace it is still the user who owns them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from autograder.confinement import bwrap_status

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    sys.path.insert(0, sys.argv[1])
    from autograder.confinement import plan
    from autograder.remote import Limits, Sandbox
    from autograder.zygote import Zygote

    LOOK = '''
    import os
    def me():
        status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
        return {"uid": os.getuid(), "pid": os.getpid(), "processes": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
                "caps": [status[k].strip() for k in ("CapEff", "CapPrm", "CapBnd")], "no_new_privs": status["NoNewPrivs"].strip()}
    '''
    zygote = Zygote(plan([sys.argv[1]], allow_unconfined=False))
    boxes = [Sandbox(zygote, LOOK.encode(), "look", limits=Limits(call_seconds=30)) for _ in range(2)]
    seen = [box.module.me() for box in boxes]
    print(json.dumps({"grader_uid": os.geteuid(), "isolated": [b.isolated for b in boxes], "seen": seen}))
    for box in boxes:
        box.close()
    zygote.close()
    """
)


def test_each_sandbox_has_its_own_pid_namespace_and_no_capabilities(tmp_path):
    if bwrap_status()[0] is None:
        pytest.skip("needs bubblewrap")
    runner: list[str] = []
    if os.geteuid() == 0:
        unshare = shutil.which("unshare")
        probe = subprocess.run([unshare or "unshare", "--user", "--map-user=1000", "--map-group=1000", "true"], capture_output=True)
        if unshare is None or probe.returncode != 0:
            pytest.skip("needs util-linux unshare with --map-user, and user namespaces, to run as a user")
        runner = [unshare, "--user", "--map-user=1000", "--map-group=1000"]
    script = tmp_path / "as_user.py"
    script.write_text(SCRIPT)
    done = subprocess.run([*runner, sys.executable, str(script), str(ROOT)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["grader_uid"] != 0
    for isolated, seen in zip(found["isolated"], found["seen"]):
        assert {"pid", "network", "files", "ipc"} <= set(isolated)
        assert seen["pid"] == 1 and seen["processes"] == [1]  # no other sandbox, no zygote, no grader
        assert seen["caps"] == ["0000000000000000"] * 3 and seen["no_new_privs"] == "1"
