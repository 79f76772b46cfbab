"""The trusted side's client of one zygote (``autograder.sandbox.zygote``).

The zygote is started confined, as ``confinement.plan`` says, and asked over a
control socket to ``fork`` a sandbox (with a socket for it) and to ``reap`` a
sandbox's exit status once its process group has been killed.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time

from autograder import timeline
from autograder.confinement import Launch, plan

__all__ = ["Zygote", "prestart", "take_prestarted", "forget_prestarted", "reap_prestarted"]


class Zygote:
    """The trusted side's client of one zygote process (started lazily)."""

    def __init__(self, launch: Launch | None = None) -> None:
        self._launch = launch
        self._proc: subprocess.Popen | None = None
        self._ctl: socket.socket | None = None
        self._started_by = 0
        self._owner = True  # False for a channel to a zygote another client started
        self._lock = threading.Lock()
        self._answered = False  # for the timeline: the first answer shows the zygote's imports done

    def start(self) -> None:
        """Start the zygote process now rather than at the first fork."""
        with self._lock:
            self._ensure()

    def _ensure(self) -> socket.socket:
        if self._ctl is not None and self._running():
            return self._ctl
        # A channel whose shared zygote died goes on with one of its own.
        self._owner = True
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._proc = subprocess.Popen(
            self.launch.command(theirs.fileno()),
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
            close_fds=True,
            env={},  # the sandbox's environment is confinement.ENVIRONMENT, never ours
        )
        theirs.close()
        self._ctl, self._started_by = ours, os.getpid()
        timeline.mark("zygote started")
        return ours

    def _running(self) -> bool:
        # Only the process that started it can poll it; a forked worker that
        # took it over learns of its death from the control socket instead.
        return self._proc is not None and (os.getpid() != self._started_by or self._proc.poll() is None)

    @property
    def launch(self) -> Launch:
        if self._launch is None:
            self._launch = plan()
        return self._launch

    @property
    def confined(self) -> bool:
        return self.launch.confined

    def _ask(self, request: dict, fds: list[int] = ()) -> dict:
        with self._lock:
            ctl = self._ensure()
            start = time.perf_counter()
            try:
                socket.send_fds(ctl, [json.dumps(request).encode()], list(fds))
                raw = ctl.recv(65536)
            except OSError:  # its end is gone: a worker's shared zygote died
                raw = b""
            if not raw:
                ctl.close()
                self._ctl = None  # the next request starts a fresh one
            elif timeline.enabled():
                timeline.add(f"zygote {request.get('op')}", time.perf_counter() - start)
                if not self._answered:
                    self._answered = True
                    timeline.mark("zygote answers")
        if not raw:
            raise RuntimeError("the zygote process died")
        return json.loads(raw)

    def deepen(self, extras: tuple[str, ...]) -> None:
        """Have the zygote also import what ``extras`` need (``units.warm_extras``), as soon as it can (no reply awaited)."""
        with self._lock:
            socket.send_fds(self._ensure(), [json.dumps({"op": "deepen", "extras": list(extras)}).encode()], [])

    def ready(self) -> None:
        """Wait until the zygote has done its imports and forks at once."""
        self._ask({"op": "ping"})

    def fork(self, spec: dict, sock: socket.socket) -> int:
        """Start a sandbox serving on ``sock``; return its process-group id.

        A zygote that died (the OOM killer may pick it: it is a run's largest
        process) is found dead by this request and started again by the next.
        """
        try:
            return self._ask({"op": "fork", "spec": spec}, [sock.fileno()])["pid"]
        except RuntimeError:
            return self._ask({"op": "fork", "spec": spec}, [sock.fileno()])["pid"]

    def kill(self, pid: int) -> None:
        """Kill a sandbox and everything it started.

        Sandbox ids are the zygote's own: it lives in another PID namespace,
        so only it can send the signal (a sandbox is PID 1 of a namespace of
        its own, and all of that namespace goes with it).
        """
        self._ask({"op": "kill", "pid": pid})

    def reap(self, pid: int, wait_s: float | None = None) -> int | None:
        """A sandbox's exit code (negative: the signal that ended it).

        With ``wait_s``, gives up after that long and returns None: a sandbox
        that closed its socket gets a moment to exit before it is killed.
        """
        return self._ask({"op": "reap", "pid": pid, "wait_s": wait_s})["status"]

    def channel(self) -> "Zygote":
        """A client of this same zygote over a control channel of its own.

        For the workers of one run: each gets a channel, none pays for a
        zygote's start-up (an import of torch) of its own. The zygote serves
        until the last channel closes. Does not wait for the zygote's imports.
        """
        with self._lock:
            ctl = self._ensure()
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            try:
                socket.send_fds(ctl, [b'{"op": "attach"}'], [theirs.fileno()])
            finally:
                theirs.close()
        shared = Zygote(self._launch)
        shared._proc, shared._ctl, shared._started_by, shared._owner = self._proc, ours, self._started_by, False
        return shared

    def close(self) -> None:
        if self._ctl is not None:
            self._ctl.close()
        if self._proc is not None and self._owner and os.getpid() == self._started_by:
            self._proc.wait(timeout=10)
        self._proc = self._ctl = None


# A zygote started early (by the command line, before it imports the grading
# engine) so that its own import of torch overlaps the grader's.
_PRESTARTED: list[Zygote] = []
_HANDED_OVER: list[Zygote] = []


def prestart(launch: Launch) -> Zygote:
    """Start a zygote for ``launch`` now, for ``take_prestarted`` to hand over later."""
    zygote = Zygote(launch)
    zygote.start()
    _PRESTARTED.append(zygote)
    return zygote


def forget_prestarted() -> None:
    """Let go of zygotes started early without stopping them: in a forked
    process that is not to use them, or in the parent once a worker owns one.

    Only this process's copy of the control socket closes; a zygote ends when
    the last copy does. The process that started it still reaps it (``reap_prestarted``).
    """
    for zygote in _PRESTARTED:
        if zygote._ctl is not None:
            zygote._ctl.close()
            zygote._ctl = None
        _HANDED_OVER.append(zygote)
    _PRESTARTED.clear()


def reap_prestarted() -> None:
    """Wait for the zygotes this process started early and handed over (their owners have stopped)."""
    while _HANDED_OVER:
        proc = _HANDED_OVER.pop()._proc
        if proc is not None:
            try:
                proc.wait(timeout=10)
            except (subprocess.TimeoutExpired, ChildProcessError):
                proc.kill()


def take_prestarted(launch: Launch) -> Zygote | None:
    """The zygote started early for exactly this launch, if any; others are stopped."""
    found = None
    while _PRESTARTED:
        zygote = _PRESTARTED.pop()
        if found is None and zygote.launch == launch:
            found = zygote
        else:
            zygote.close()
    return found
