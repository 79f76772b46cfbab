"""The sandbox's server: load the submission, answer the trusted side's calls.

Runs in a sandbox forked by the zygote, after ``confine.enter``. Requests and
replies are frames of the ``protocol``; the submission's own file arrives by
content (``put``), as do the data files checks hand over, so the trusted side
never writes where the sandbox could have planted a link or a FIFO.
"""

from __future__ import annotations

import collections
import importlib
import inspect
import io
import itertools
import os
import random
import socket
import sys
import traceback
import types
from typing import Any

import numpy as np
import torch

from . import confine, decoding, protocol

__all__ = ["start", "SETUP_FAILED", "SERVER_FAILED"]

# Exit codes for the sandbox's own failures, apart from the submission's.
SETUP_FAILED, SERVER_FAILED = 70, 71
_MAX_NAME = 128


def start(spec: dict, fd: int, pid_namespace: bool) -> None:
    """Entry point in the zygote's fresh child; never returns."""
    code = SETUP_FAILED
    try:
        devnull = os.open(os.devnull, os.O_RDWR)
        for std in (0, 1) if spec.get("debug") else (0, 1, 2):
            os.dup2(devnull, std)
        out = _CappedText(spec["limits"]["output_kb"] << 10)
        sys.stdout = sys.stderr = out
        isolated = confine.enter(spec, pid_namespace)
        code = SERVER_FAILED
        torch.set_num_threads(spec.get("threads", 1))
        seed = spec["seed"]
        random.seed(seed)
        np.random.seed(seed % 2**32)
        if spec.get("cuda"):
            torch.manual_seed(seed)  # every device's generator
        else:  # the CPU's, which fakegpu draws from too: torch.manual_seed's visit to every backend costs 0.7 ms a sandbox
            torch.default_generator.manual_seed(seed)
        sock = socket.socket(fileno=fd)
        _Server(sock, spec, out, isolated).loop()
        code = 0
    except BaseException:  # noqa: BLE001 - the trusted side reads the exit code
        if spec.get("debug"):
            traceback.print_exc(file=sys.__stderr__)
    finally:
        os._exit(code)


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


class _Server:
    def __init__(self, sock: socket.socket, spec: dict, out: _CappedText, isolated: list[str]) -> None:
        self.sock, self.spec, self.out, self.isolated = sock, spec, out, isolated
        self.objects: dict[int, Any] = {}
        self._ids = itertools.count()
        self._kept: collections.deque[int] = collections.deque()  # ids kept for behaviour probes, oldest first
        self.path = spec["module_file"]  # relative to the sandbox's own working folder

    def loop(self) -> None:
        while True:
            try:
                header, blobs = protocol.recv_frame(self.sock, self.spec["max_bytes"])
            except (EOFError, ConnectionError):
                return
            reply, out_blobs = self.answer(header, blobs)
            if header.get("op") == "load":
                reply["isolated"] = self.isolated
            reply["output"] = self.out.take()
            protocol.send_frame(self.sock, reply, out_blobs)

    # -- handles

    def _ref(self, tag: dict) -> Any:
        if tag.get("t") != "ref" or tag.get("id") not in self.objects:
            raise protocol.ProtocolError("unknown handle")
        return self.objects[tag["id"]]

    def _keep(self, obj: Any) -> int:
        """Keep a call's argument or result reachable for a probe by id; the last few hundred only."""
        oid = next(self._ids)
        self.objects[oid] = obj
        self._kept.append(oid)
        if len(self._kept) > _KEPT:
            self.objects.pop(self._kept.popleft(), None)
        return oid

    def _handle(self, obj: Any) -> dict:
        oid = next(self._ids)
        self.objects[oid] = obj
        cls = type(obj)
        mro = [f"{getattr(c, '__module__', '?')}.{getattr(c, '__qualname__', '?')}" for c in cls.__mro__]
        return {"t": "handle", "id": oid, "type": mro[0], "mro": mro, "callable": callable(obj)}

    # -- requests

    def answer(self, header: dict, blobs: list[bytearray]) -> tuple[dict, list]:
        op = header.get("op")
        try:
            if op == "load":
                return self._load(header.get("names"), blobs)
            if op == "put":
                _put(header.get("name"), blobs[0] if len(blobs) == 1 else None)
                return self._value(None, {})
            if op == "has_file":
                return self._value(_has_file(header.get("name")), {})
            if op == "probe":
                return self._value(_probe(header.get("roots", []), header.get("modules", [])), {})
            target = self.objects[header["id"]] if "id" in header else None
            dctx = decoding.DecodeContext(blobs, handle=self._ref)
            args = [decoding.decode(a, dctx) for a in header.get("args", [])]
            kwargs = {k: decoding.decode(v, dctx) for k, v in header.get("kwargs", {}).items()}
            if op == "alias":
                return self._value(_alias(self._ref(header.get("result")), self._ref(header.get("arg")), *args), {})
            if op == "grad":
                return self._value(_grad(self._ref(header.get("result")), [self._ref(t) for t in header.get("wrt", [])], *args), {})
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

    def _load(self, names: Any, blobs: list[bytearray]) -> tuple[dict, list]:
        """Start in one request: write the submission's file and the data files
        handed over with it, import the module, and answer with its functions
        and classes as handles (a call to one then costs one request)."""
        if not (isinstance(names, list) and len(names) == len(blobs) and names and names[0] == self.path):
            raise protocol.ProtocolError("load needs the module's file first and one blob per name")
        for name, blob in zip(names, blobs):
            _put(name, blob)
        module = self._import()
        reply, out = self._value(module, {})
        reply["functions"] = {
            name: self._handle(value) for name, value in list(vars(module).items())[: protocol.MAX_FUNCTIONS]
            if isinstance(name, str) and not name.startswith("_") and (inspect.isfunction(value) or inspect.isclass(value))
        }  # fmt: skip
        return reply, out

    def _import(self) -> Any:
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
        # The objects themselves stay reachable, so that a check can probe how
        # they behave (a write through a view, a gradient through the graph).
        reply["refs"] = {
            "args": {p: self._keep(x) for p, x in inputs.items()},
            "result": {p: self._keep(x) for p, x in protocol.arrays_in(result)},
        }
        return reply, blobs

    def _value(self, value: Any, extents: dict, as_handle: bool = False) -> tuple[dict, list]:
        ctx = protocol.EncodeContext(handle=self._handle, args=extents)
        tag = self._handle(value) if as_handle else protocol.encode(value, ctx)
        return {"ok": True, "value": tag}, ctx.blobs

    def _describe(self, exc: BaseException) -> dict:
        frames = traceback.extract_tb(_frames_in(exc.__traceback__, self.path))
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


_KEPT = 512


def _frames_in(tb: types.TracebackType | None, path: str) -> types.TracebackType | None:
    """The traceback's frames in the file ``path`` only, chained as before.

    Extracting every frame reads the source of each file it passes through
    (torch's ``functional.py``, ``module.py``: 0.7 ms in a fresh sandbox)
    only for those lines to be dropped.
    """
    kept = []
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == path:
            kept.append(tb)
        tb = tb.tb_next
    chain = None
    for frame in reversed(kept):
        chain = types.TracebackType(chain, frame.tb_frame, frame.tb_lasti, frame.tb_lineno)
    return chain


def _alias(result: Any, arg: Any, pattern: torch.Tensor) -> Any:
    """Write ``pattern`` into a returned tensor or array, then read back the argument."""
    target = torch.from_numpy(result) if isinstance(result, np.ndarray) else result
    with torch.no_grad():
        target.copy_(pattern)
    if isinstance(arg, np.ndarray):
        return arg.copy()
    return arg.detach().clone()


def _grad(result: torch.Tensor, wrt: list, grad_output: torch.Tensor) -> tuple:
    """The gradients of ``(result * grad_output).sum()`` with respect to ``wrt``."""
    grads = torch.autograd.grad(result, wrt, grad_outputs=grad_output.to(result.device), allow_unused=True)
    return tuple(None if g is None else g.detach() for g in grads)


def _checked_name(name: Any) -> str:
    """A plain file name in the working folder: no folder, no link, no dot-dot."""
    if not (type(name) is str and 0 < len(name) <= _MAX_NAME and "/" not in name and "\0" not in name):
        raise ValueError(f"not a plain file name: {name!r}")
    if name in (".", ".."):
        raise ValueError(f"not a plain file name: {name!r}")
    return name


def _put(name: Any, data: bytearray | None) -> None:
    """Write a file the trusted side hands over, replacing whatever has its name.

    The submission may have left a link, a FIFO or a folder there: an entry
    that is not removable is an error, and the write never follows a link.
    """
    name = _checked_name(name)
    if data is None:
        raise ValueError("put needs exactly one blob")
    try:
        os.unlink(name)
    except FileNotFoundError:
        pass
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_NONBLOCK, 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _has_file(name: Any) -> bool:
    import stat

    try:
        return stat.S_ISREG(os.lstat(_checked_name(name)).st_mode)
    except FileNotFoundError:
        return False


_SITE_FOLDERS = ("site-packages", "dist-packages")
# Modules only ``site`` imports, and sandboxes run without it (``-S``):
# Debian's sitecustomize.py is a link into /etc, which is not there.
_SITE_HOOKS = ("sitecustomize.py", "usercustomize.py")


def _probe(roots: list, modules: list) -> dict:
    """What this sandbox cannot read of the runtime, and which imports fail.

    Run once per worker before any submission, as the sandbox user, so that a
    runtime the sandbox cannot fully reach stops the run instead of costing
    students points (a lazy ``import`` inside torch failing mid-check).
    """
    unreadable: list[str] = []
    access, searchable, wanted = os.access, os.R_OK | os.X_OK, (".py", ".so", ".pth", ".json", ".pyi")
    # An interpreter's own site-packages sits inside its standard library's
    # folder; where a venv replaces it on sys.path nothing can be imported
    # from it, and it is most of what there is to walk (43,000 files on a
    # machine with a few tools installed globally).
    importable = {os.path.normpath(p) for p in sys.path if type(p) is str}
    for root in roots:
        if type(root) is not str:
            continue
        if not access(root, os.R_OK | (os.X_OK if os.path.isdir(root) else 0)):
            unreadable.append(root)
            continue
        # A plain loop over scandir: what each entry is comes with the listing,
        # and only the files Python loads cost an access() each.
        folders = [root] if os.path.isdir(root) else []
        while folders and len(unreadable) <= 20:
            try:
                listing = os.scandir(folders.pop())
            except OSError as exc:
                unreadable.append(str(exc.filename))
                continue
            with listing:
                for entry in listing:
                    name = entry.name
                    if entry.is_dir(follow_symlinks=False):
                        if name == "__pycache__" or (name in _SITE_FOLDERS and os.path.normpath(entry.path) not in importable):
                            continue
                        if access(entry.path, searchable):
                            folders.append(entry.path)
                        else:
                            unreadable.append(entry.path)
                    elif name in _SITE_HOOKS:
                        continue
                    elif entry.is_symlink() and _is_dir(entry):  # a linked folder: reached, not walked, as os.walk does
                        if not access(entry.path, searchable):
                            unreadable.append(entry.path)
                    elif (name.endswith(wanted) or ".so." in name) and not access(entry.path, os.R_OK):
                        unreadable.append(entry.path)
    failed: dict[str, str] = {}
    for name in modules:
        try:
            importlib.import_module(name)
        except BaseException as exc:  # noqa: BLE001 - reported, the run stops
            failed[str(name)] = f"{type(exc).__name__}: {exc}"[:500]
    return {"unreadable": unreadable[:20], "failed": failed, "uid": os.getuid()}


def _is_dir(entry: os.DirEntry) -> bool:
    """Whether a link leads to a folder; one that leads nowhere it may read is not."""
    try:
        return entry.is_dir()
    except OSError:
        return False


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
