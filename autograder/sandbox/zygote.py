"""The zygote: a process that has imported torch once and forks a sandbox per request.

``import torch`` costs seconds; ``fork`` from a process that already holds it
costs milliseconds. The zygote is started by the trusted side inside
bubblewrap, so it is confined before it loads anything: its filesystem holds
the Python runtime read-only and this package, nothing of the grader, the
course or the host. It imports torch and numpy, seeds the generators and
runs one fakegpu operator on one element (what every sandbox would do first;
no thread pool starts, CUDA stays untouched); once idle it runs the common
operators once (``rehearsal``), so that no sandbox pays their first use. It
waits on a control socket: ``fork`` starts a
sandbox on the socket that comes with the request, ``reap`` collects a
sandbox's exit status once the trusted side has killed its process group,
``attach`` adds a control channel (one per worker of a run that shares it).
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import random
import selectors
import shutil
import signal
import socket
import sys
import tempfile
import time

from . import confine

__all__ = ["serve", "WARM_IMPORTS", "EXTRA_IMPORTS"]

# Modules torch loads on first use. Imported here so that no sandbox pays
# for them, but only while no request waits: a check of one unit forks its
# sandbox as soon as torch is in, and a sandbox that needs one of these
# before the zygote has it imports it itself. Importing does no torch work:
# no thread pool starts and CUDA stays untouched.
WARM_IMPORTS = ("torch.optim", "torch.utils.data", "csv", "statistics")
# Costly ones, only once ``deepen`` asks for them, for the units that need
# them: sympy (0.25 s) comes with the first backward(gradient=) or
# autograd.grad(grad_outputs=), dynamo (0.6 s more) with the first optimizer.
EXTRA_IMPORTS = {
    "autograd": ("torch.fx.experimental.symbolic_shapes",),
    "optimizers": ("torch.fx.experimental.symbolic_shapes", "torch._dynamo"),
}


def serve(fd: int, config: dict) -> None:
    """The zygote's main loop (runs in the zygote process)."""
    # What every sandbox needs, before the first fork.
    importlib.import_module("numpy.random")
    importlib.import_module("torch")

    from . import fakegpu, rehearsal, server

    fakegpu.warm()  # one operator on one element: no thread pool, and no sandbox imports the DTensor package
    # What each sandbox does first, done once here: NumPy's first seeding alone costs 8 ms.
    random.seed(0)
    sys.modules["numpy.random"].seed(0)
    torch = sys.modules["torch"]
    torch.manual_seed(0)
    # Backward on a device other than the CPU runs on a thread of its own per
    # device, started in each sandbox and handed every backward: on fakegpu
    # that costs more than the backward itself (306 against 111 us a small one).
    torch.autograd.set_multithreading_enabled(False)

    confined = bool(config.get("confined"))
    # Unconfined sandboxes get a scratch folder each, under one the trusted side made.
    scratch_root = None if confined else tempfile.mkdtemp(prefix="zygote-", dir=config.get("scratch"))
    ctl = socket.socket(fileno=fd)
    try:
        _loop(ctl, confined, scratch_root, server, rehearsal)
    finally:
        if scratch_root:
            shutil.rmtree(scratch_root, ignore_errors=True)
    # Nothing is left to write, and the trusted side waits for this exit:
    # skip the interpreter's teardown of torch (0.3 s; 0.5 s more once
    # dynamo is in).
    os._exit(0)


def _warm_next(pending: list[str]) -> None:
    try:
        importlib.import_module(pending.pop(0))
    except ImportError:
        pass  # an optional speed-up, never a reason not to grade


def _loop(ctl: socket.socket, confined: bool, scratch_root: str | None, server, rehearsal) -> None:
    # Several workers of one run may share this zygote, each over a channel
    # of its own (``attach``); it serves until the last channel closes.
    selector = selectors.DefaultSelector()
    selector.register(ctl, selectors.EVENT_READ)
    channels = {ctl}
    pending = list(WARM_IMPORTS)
    # What a sandbox would run first, run here once when idle and after the
    # imports it needs; no request waits for it.
    rehearsals: list[tuple[str, ...]] = [("base",)]
    while channels:
        ready = selector.select(0 if pending or rehearsals else None)
        if not ready and pending:
            _warm_next(pending)
            continue
        if not ready and rehearsals:
            rehearsal.rehearse(rehearsals.pop(0))
            continue
        for key, _ in ready:
            chan = key.fileobj
            try:
                raw, fds, _, _ = socket.recv_fds(chan, 65536, 1)
            except OSError:
                raw, fds = b"", []
            if not raw:
                selector.unregister(chan)
                channels.discard(chan)
                chan.close()
                continue
            _collect()
            request = json.loads(raw)
            op = request.get("op")
            if op == "attach" and fds:  # no reply: the sender need not wait for our imports
                new = socket.socket(fileno=fds.pop())
                channels.add(new)
                selector.register(new, selectors.EVENT_READ)
            elif op == "fork" and fds:
                spec = dict(request["spec"], confined=confined)
                if scratch_root:
                    spec["workdir"] = tempfile.mkdtemp(dir=scratch_root)
                pid_namespace = confine.new_pid_namespace() if confined else False
                gc.freeze()
                pid = os.fork()
                if pid == 0:
                    # The sandbox keeps nothing of ours: no channel, no selector.
                    selector.close()
                    for other in channels:
                        other.close()
                    server.start(spec, fds[0], pid_namespace)
                os.close(fds.pop())
                _LIVE.add(pid)
                if scratch_root:
                    _WORKDIRS[pid] = spec["workdir"]
                chan.send(json.dumps({"pid": pid}).encode())
            elif op == "kill":
                _kill(request["pid"])
                chan.send(b'{"ok": true}')
            elif op == "reap":
                chan.send(json.dumps({"status": _reap(request["pid"], request["wait_s"])}).encode())
            elif op == "deepen":  # no reply
                extras = tuple(e for e in request.get("extras", []) if type(e) is str and e in EXTRA_IMPORTS)
                pending += [m for e in extras for m in EXTRA_IMPORTS[e] if m not in sys.modules and m not in pending]
                rehearsals.append(extras)
            elif op == "ping":  # answered once the warm imports (and any deep ones asked for) are done
                while pending:
                    _warm_next(pending)
                chan.send(b'{"ok": true}')
            for fd in fds:  # descriptors sent with a request that takes none
                os.close(fd)


# Exit codes of sandboxes reaped before anyone asked: a sandbox closed after
# a normal run is killed and left for the zygote to collect at leisure.
_FINISHED: dict[int, int] = {}
_WORKDIRS: dict[int, str] = {}  # unconfined sandboxes' folders, removed when they end


def _done(pid: int, status: int) -> int:
    _LIVE.discard(pid)
    folder = _WORKDIRS.pop(pid, None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
    return os.waitstatus_to_exitcode(status)


def _kill(pid: int) -> None:
    """SIGKILL a sandbox's process group; ignored for ids that are not our children."""
    if type(pid) is not int or pid <= 1 or (pid not in _LIVE):
        return
    for send in (os.killpg, os.kill):
        try:
            send(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


_LIVE: set[int] = set()  # sandboxes forked and not yet reaped


def _collect() -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _FINISHED[pid] = _done(pid, status)
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
            return _done(done, status)
        if time.monotonic() > deadline:
            return None
        time.sleep(0.002)
