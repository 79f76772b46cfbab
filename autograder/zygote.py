"""A process that has imported torch once and forks a sandbox per request.

``import torch`` costs seconds; ``fork`` from a process that already holds it
costs milliseconds. The zygote imports torch and numpy, does no torch work (no
thread pool, CUDA untouched), and waits on a control socket. The trusted side
sends ``fork`` with a socket for the new sandbox, and ``reap`` to collect a
sandbox's exit status once it has killed its process group.
"""

from __future__ import annotations

import importlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

__all__ = ["Zygote"]

_BOOT = """
import sys
try:
    import autograder
except ImportError:
    sys.path.append({parent!r})
from autograder.zygote import serve
serve(int(sys.argv[1]))
"""


class Zygote:
    """The trusted side's client of one zygote process (started lazily)."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen | None = None
        self._ctl: socket.socket | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the zygote process now rather than at the first fork."""
        with self._lock:
            self._ensure()

    def _ensure(self) -> socket.socket:
        if self._proc is not None and self._proc.poll() is None:
            return self._ctl
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        parent = str(Path(__file__).resolve().parent.parent)
        self._proc = subprocess.Popen(
            [sys.executable, "-I", "-c", _BOOT.format(parent=parent), str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
            close_fds=True,
        )
        theirs.close()
        self._ctl = ours
        return ours

    def _ask(self, request: dict, fds: list[int] = ()) -> dict:
        with self._lock:
            ctl = self._ensure()
            socket.send_fds(ctl, [json.dumps(request).encode()], list(fds))
            raw = ctl.recv(65536)
        if not raw:
            raise RuntimeError("the zygote process died")
        return json.loads(raw)

    def fork(self, spec: dict, sock: socket.socket) -> int:
        """Start a sandbox serving on ``sock``; return its process-group id."""
        return self._ask({"op": "fork", "spec": spec}, [sock.fileno()])["pid"]

    def reap(self, pid: int, wait_s: float | None = None) -> int | None:
        """A sandbox's exit code (negative: the signal that ended it).

        With ``wait_s``, gives up after that long and returns None: a sandbox
        that closed its socket gets a moment to exit before it is killed.
        """
        return self._ask({"op": "reap", "pid": pid, "wait_s": wait_s})["status"]

    def close(self) -> None:
        if self._ctl is not None:
            self._ctl.close()
        if self._proc is not None:
            self._proc.wait(timeout=10)
        self._proc = self._ctl = None


# Modules torch loads on first use (the first optimizer step imports dynamo,
# the first backward with gradient= imports sympy: about 1.3 s together).
# Imported here, once, so that no sandbox pays for them; importing does no
# torch work, so no thread pool starts and CUDA stays untouched.
WARM_IMPORTS = (
    "numpy",
    "numpy.random",
    "torch",
    "torch.optim",
    "torch.utils.data",
    "torch._dynamo",
    "torch.fx.experimental.symbolic_shapes",
    "sympy",
    "csv",
    "statistics",
)


def serve(fd: int) -> None:
    """The zygote's main loop (runs in the zygote process)."""
    for name in WARM_IMPORTS:
        try:
            importlib.import_module(name)
        except ImportError:
            pass  # an optional speed-up, never a reason not to grade

    from autograder import sandbox

    ctl = socket.socket(fileno=fd)
    while True:
        try:
            raw, fds, _, _ = socket.recv_fds(ctl, 65536, 1)
        except OSError:
            return
        if not raw:
            return
        _collect()
        request = json.loads(raw)
        if request["op"] == "fork":
            pid_namespace = sandbox.new_pid_namespace()
            pid = os.fork()
            if pid == 0:
                ctl.close()
                sandbox.start(request["spec"], fds[0], pid_namespace)
            os.close(fds[0])
            ctl.send(json.dumps({"pid": pid}).encode())
        elif request["op"] == "reap":
            ctl.send(json.dumps({"status": _reap(request["pid"], request["wait_s"])}).encode())


# Exit codes of sandboxes reaped before anyone asked: a sandbox closed after
# a normal run is killed and left for the zygote to collect at leisure.
_FINISHED: dict[int, int] = {}


def _collect() -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _FINISHED[pid] = os.waitstatus_to_exitcode(status)
        if len(_FINISHED) > 4096:
            del _FINISHED[next(iter(_FINISHED))]


def _reap(pid: int, wait_s: float | None) -> int | None:
    if pid in _FINISHED:
        return _FINISHED.pop(pid)
    deadline = None if wait_s is None else time.monotonic() + wait_s
    while True:
        try:
            done, status = os.waitpid(pid, 0 if deadline is None else os.WNOHANG)
        except ChildProcessError:
            return 0
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            return None
        time.sleep(0.002)
