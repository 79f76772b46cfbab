"""The sandbox side: confine a forked child, load the submission, serve calls.

This module runs inside the zygote's children, never in the grader. Where the
system allows, the zygote forks each child as PID 1 of a new PID namespace
(``new_pid_namespace``), so that when the child dies everything it forked
dies with it. The child takes its own session, cuts itself off (network and
mount namespaces), hides the grader's files, drops privileges, sets its
resource limits and answers the trusted side's requests over a socket until
that socket closes.
"""

from __future__ import annotations

import ctypes
import importlib
import io
import os
import random
import resource
import signal
import socket
import sys
import traceback
import types
from typing import Any

import numpy as np
import torch

from autograder import protocol

__all__ = ["start", "new_pid_namespace", "Spec", "SETUP_FAILED", "SERVER_FAILED"]

# Exit codes for the sandbox's own failures, apart from the submission's.
SETUP_FAILED, SERVER_FAILED = 70, 71

Spec = dict  # the JSON-able description the trusted side sends; see remote.sandbox_spec

_CLONE_NEWNS = 0x00020000
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWPID = 0x20000000
_CLONE_NEWNET = 0x40000000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_BIND, _MS_REC, _MS_PRIVATE = 0x1000, 0x4000, 0x40000
_NOBODY = 65534


_OWN_PID_NS: list[int] = []


def new_pid_namespace() -> bool:
    """In the zygote: make the next child PID 1 of a new PID namespace (root only).

    A process may create a namespace for its children only while that
    setting still points at its own namespace, so it is reset first.
    """
    if os.geteuid() != 0:
        return False
    libc = _libc()
    if not _OWN_PID_NS:
        _OWN_PID_NS.append(os.open("/proc/self/ns/pid", os.O_RDONLY))
    if libc.setns(_OWN_PID_NS[0], _CLONE_NEWPID) != 0:
        return False
    return libc.unshare(_CLONE_NEWPID) == 0


def start(spec: Spec, fd: int, pid_namespace: bool) -> None:
    """Entry point in the zygote's fresh child; never returns."""
    code = SETUP_FAILED
    try:
        for ns_fd in _OWN_PID_NS:
            os.close(ns_fd)
        os.setsid()
        isolated = (["pid"] if pid_namespace else []) + _isolate(spec)
        code = SERVER_FAILED
        _server(spec, fd, isolated)
    finally:
        if os.environ.get("TORCHGRADE_DEBUG_SANDBOX") and code == SETUP_FAILED:
            with open("/tmp/torchgrade-sandbox-debug.log", "a") as fh:
                traceback.print_exc(file=fh)
        os._exit(code)


# ---------------------------------------------------------------- confinement


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _isolate(spec: Spec) -> list[str]:
    """Enter new namespaces and hide the grader's paths; return what held."""
    os.chdir(spec["workdir"])
    libc = _libc()
    held: list[str] = []
    root = os.geteuid() == 0
    flags = _CLONE_NEWNET | _CLONE_NEWNS | (0 if root else _CLONE_NEWUSER)
    if libc.unshare(flags) == 0:
        held.append("network")
        if _hide(libc, spec):
            held.append("files")
    elif libc.unshare(_CLONE_NEWNET | (0 if root else _CLONE_NEWUSER)) == 0:
        held.append("network")
    return held


def _hide(libc: ctypes.CDLL, spec: Spec) -> bool:
    """Cover the grader's folders with empty read-only tmpfs mounts.

    The server's working folder may lie under a covered folder: the warden
    changed into it first, and a cwd keeps reaching what it was opened on.
    """
    if libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None) != 0:
        return False
    ok = _expose_python(libc) if os.geteuid() == 0 else True
    for path in spec.get("hide", []):
        if os.path.isdir(path):
            flags = _MS_RDONLY | _MS_NOSUID | _MS_NODEV | _MS_NOEXEC
            ok &= libc.mount(b"tmpfs", path.encode(), b"tmpfs", flags, b"size=4k") == 0
        elif os.path.isfile(path):  # a file (a zip of submissions) reads as empty
            ok &= libc.mount(b"/dev/null", path.encode(), None, _MS_BIND, None) == 0
    return ok


def _expose_python(libc: ctypes.CDLL) -> bool:
    """Let the unprivileged server reach the Python installation, and only it.

    Python may live under a folder others cannot enter (``/root`` is 0700), so
    its lazy imports would fail once the server drops to nobody. Each such
    folder is covered with a tmpfs that anyone may enter, and only the child
    folders on the way to Python are bound back in from the original.
    """
    blocked: dict[str, set[str]] = {}
    for path in {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, *sys.path) if p}:
        parts = path.split(os.sep)[1:]
        for i in range(len(parts) - 1):
            folder = os.sep + os.path.join(*parts[: i + 1])
            if os.path.isdir(folder) and not os.stat(folder).st_mode & 0o001:
                blocked.setdefault(folder, set()).add(parts[i + 1])
                break
    ok = True
    for folder in sorted(blocked, key=len):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            ok &= libc.mount(b"tmpfs", folder.encode(), b"tmpfs", _MS_NOSUID | _MS_NODEV, b"mode=0755,size=64k") == 0
            for child in sorted(blocked[folder]):
                target = os.path.join(folder, child)
                os.mkdir(target)
                source = f"/proc/self/fd/{fd}/{child}".encode()
                ok &= libc.mount(source, target.encode(), None, _MS_BIND | _MS_REC, None) == 0
        finally:
            os.close(fd)
    return ok


def _limit(which: int, value: int) -> None:
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value))


def _vm(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def _confine(spec: Spec) -> None:
    limits = spec["limits"]
    budget = limits["memory_mb"] << 20
    _limit(resource.RLIMIT_DATA, _vm("VmData") + budget)
    if not spec.get("cuda"):
        # CUDA reserves huge address ranges, so the address-space cap is CPU-only.
        _limit(resource.RLIMIT_AS, _vm("VmSize") + budget + (512 << 20))
    _limit(resource.RLIMIT_CPU, limits["cpu_seconds"])
    _limit(resource.RLIMIT_FSIZE, limits["file_mb"] << 20)
    _limit(resource.RLIMIT_CORE, 0)
    _limit(resource.RLIMIT_NOFILE, 256)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large write fails, not kills
    if os.geteuid() == 0:
        os.chown(".", _NOBODY, _NOBODY)
        os.setgroups([])
        os.setgid(_NOBODY)
        os.setuid(_NOBODY)
    # RLIMIT_NPROC counts every process of the user, threads included, and
    # binds no root: it is set once the server runs as somebody else.
    running = sum(1 for p in os.listdir("/proc") if p.isdigit() and _owned(p))
    _limit(resource.RLIMIT_NPROC, running + limits["processes"])


def _owned(pid: str) -> bool:
    try:
        return os.stat(f"/proc/{pid}").st_uid == os.getuid()
    except OSError:
        return False


class _CappedText(io.TextIOBase):
    """stdout/stderr for the submission: keeps the first ``cap`` characters."""

    def __init__(self, cap: int) -> None:
        self.cap, self.parts, self.size, self.dropped = cap, [], 0, 0

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        s = str(s)
        room = self.cap - self.size
        if room > 0:
            self.parts.append(s[:room])
            self.size += min(len(s), room)
        self.dropped += max(0, len(s) - max(room, 0))
        return len(s)

    def take(self) -> str:
        out = "".join(self.parts)
        self.parts = []
        if self.dropped:
            out += f"\n[... {self.dropped} more characters of output dropped]"
            self.dropped = 0
        return out


# ---------------------------------------------------------------- serving


def _server(spec: Spec, fd: int, isolated: list[str]) -> None:
    code = 0
    try:
        devnull = os.open(os.devnull, os.O_RDWR)
        for std in (0, 1, 2):
            os.dup2(devnull, std)
        out = _CappedText(spec["limits"]["output_kb"] << 10)
        sys.stdout = sys.stderr = out
        _confine(spec)
        torch.set_num_threads(spec.get("threads", 1))
        seed = spec["seed"]
        random.seed(seed)
        np.random.seed(seed % 2**32)
        torch.manual_seed(seed)
        sock = socket.socket(fileno=fd)
        _Server(sock, spec, out, isolated).loop()
    except BaseException:  # noqa: BLE001 - the trusted side reads the exit code
        if os.environ.get("TORCHGRADE_DEBUG_SANDBOX"):
            with open("/tmp/torchgrade-sandbox-debug.log", "a") as fh:
                traceback.print_exc(file=fh)
        code = SERVER_FAILED
    finally:
        os._exit(code)


class _Server:
    def __init__(self, sock: socket.socket, spec: Spec, out: _CappedText, isolated: list[str]) -> None:
        self.sock, self.spec, self.out, self.isolated = sock, spec, out, isolated
        self.objects: dict[int, Any] = {}
        self.path = spec["module_file"]  # relative: the working folder may be hidden by path

    def loop(self) -> None:
        while True:
            try:
                header, blobs = protocol.recv_frame(self.sock, self.spec["max_bytes"])
            except (EOFError, ConnectionError):
                return
            reply, out_blobs = self.answer(header, blobs)
            reply["output"] = self.out.take()
            protocol.send_frame(self.sock, reply, out_blobs)

    # -- handles

    def _ref(self, tag: dict) -> Any:
        if tag.get("t") != "ref" or tag.get("id") not in self.objects:
            raise protocol.ProtocolError("unknown handle")
        return self.objects[tag["id"]]

    def _handle(self, obj: Any) -> dict:
        oid = len(self.objects)
        self.objects[oid] = obj
        cls = type(obj)
        mro = [f"{getattr(c, '__module__', '?')}.{getattr(c, '__qualname__', '?')}" for c in cls.__mro__]
        return {"t": "handle", "id": oid, "type": mro[0], "mro": mro, "callable": callable(obj)}

    # -- requests

    def answer(self, header: dict, blobs: list[bytearray]) -> tuple[dict, list]:
        op = header.get("op")
        try:
            if op == "import":
                return self._value(self._import(), {})
            if op == "hello":
                return {"ok": True, "isolated": self.isolated, "uid": os.getuid()}, []
            target = self.objects[header["id"]] if "id" in header else None
            dctx = protocol.DecodeContext(blobs, handle=self._ref)
            args = [protocol.decode(a, dctx) for a in header.get("args", [])]
            kwargs = {k: protocol.decode(v, dctx) for k, v in header.get("kwargs", {}).items()}
            if op == "getattr":
                return self._value(getattr(target, header["name"]), {})
            if op == "setattr":
                setattr(target, header["name"], args[0])
                return self._value(None, {})
            if op == "len":
                return self._value(len(target), {})
            if op == "getitem":
                return self._value(target[args[0]], {})
            if op == "iter":
                return self._value(iter(target), {}, as_handle=True)
            if op == "next":
                try:
                    return self._value(next(target), {})
                except StopIteration:
                    return {"ok": True, "stop": True}, []
            if op == "get":
                return self._value(_resolve(header["path"]), {}, as_handle=True)
            if op in ("call", "make"):
                if op == "make":
                    target = _resolve(header["path"])
                return self._call(target, args, kwargs)
            raise protocol.ProtocolError(f"unknown op {op!r}")
        except BaseException as exc:  # noqa: BLE001 - reported to the trusted side
            return {"ok": False, "error": self._describe(exc)}, []

    def _import(self) -> Any:
        # Read and run by relative path: the folder's absolute path may be hidden.
        name = self.spec["module_name"]
        with open(self.path, encoding="utf-8") as fh:
            code = compile(fh.read(), self.path, "exec")
        module = types.ModuleType(name)
        module.__file__ = self.path
        sys.modules[name] = module
        exec(code, module.__dict__)  # noqa: S102 - this is the sandbox: running it is the point
        return module

    def _call(self, fn: Any, args: list, kwargs: dict) -> tuple[dict, list]:
        inputs = dict(protocol.arrays_in(args)) | dict(protocol.arrays_in(kwargs))
        before = {p: _snapshot(x) for p, x in inputs.items()}
        extents = {p: e for p, x in inputs.items() if (e := protocol.extent(x))}
        result = fn(*args, **kwargs)
        reply, blobs = self._value(result, extents)
        changed = [p for p, x in inputs.items() if _snapshot(x) != before[p]]
        if changed:
            ctx = protocol.EncodeContext(blobs)
            reply["mutated"] = [{"path": p, "value": protocol.encode(inputs[p], ctx)} for p in changed]
        return reply, blobs

    def _value(self, value: Any, extents: dict, as_handle: bool = False) -> tuple[dict, list]:
        ctx = protocol.EncodeContext(handle=self._handle, args=extents)
        tag = self._handle(value) if as_handle else protocol.encode(value, ctx)
        return {"ok": True, "value": tag}, ctx.blobs

    def _describe(self, exc: BaseException) -> dict:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == self.path]
        for f in frames:
            f.filename = os.path.basename(f.filename)
        try:
            message = str(exc)[:2000]
        except BaseException:  # noqa: BLE001
            message = "<the exception's message could not be read>"
        return {
            "type": type(exc).__name__,
            "message": message,
            "traceback": "".join(traceback.format_list(frames))[-4000:],
        }


def _resolve(path: str) -> Any:
    """A callable the trusted side names, from torch only (``torch.nn.Linear``)."""
    if not path.startswith("torch."):
        raise ValueError(f"only torch objects can be made, not {path!r}")
    module, _, name = path.rpartition(".")
    obj = importlib.import_module(module) if module else None
    return getattr(obj, name)


def _snapshot(x: Any) -> tuple:
    if isinstance(x, np.ndarray):
        return (x.shape, x.tobytes())
    if x.device.type == "meta":
        return (tuple(x.shape), x.dtype)
    grad = None if x.grad is None else bytes(protocol.tensor_bytes(x.grad))
    return (tuple(x.shape), x.dtype, x.requires_grad, bytes(protocol.tensor_bytes(x)), grad)
