"""The trusted side of a sandbox: start it, ask it things, rebuild answers.

``Sandbox`` owns one sandbox process for one submission of one unit. Its
``module`` is a ``Remote``: attribute access, calls, ``len``, indexing and
iteration on it go to the sandbox, and what comes back is a plain value
(``type(x) is torch.Tensor``) or another ``Remote`` for an object that stays
there. Every failure of the sandbox becomes a ``SandboxError`` whose message
says what happened; a dead sandbox is started again for the next check.
"""

from __future__ import annotations

import os
import socket
import time
import weakref
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from autograder import timeline
from autograder.limits import Limits
from autograder.sandbox import decoding, protocol
from autograder.sandbox_errors import (
    ImportFailed, MissingAttribute, NoLength, SandboxCrashed, SandboxError, SandboxTimeout, StudentError, describe_exit,
)  # fmt: skip
from autograder.sandbox.fakegpu import is_plain_tensor
from autograder.zygote import Zygote

__all__ = [
    "Limits",
    "Remote",
    "Sandbox",
    "SandboxError",
    "StudentError",
    "MissingAttribute",
    "NoLength",
    "SandboxTimeout",
    "SandboxCrashed",
    "ImportFailed",
]


class Sandbox:
    """One submission file, loaded in its own sandbox process."""

    def __init__(
        self,
        zygote: Zygote,
        source: Path | bytes,
        module_name: str,
        *,
        limits: Limits = Limits(),
        seed: int = 0,
        cuda: bool = False,
    ) -> None:
        # ``source`` is the submission's file, or its bytes already read
        self.zygote, self.module_name = zygote, module_name
        self.source = Path(f"<{module_name}.py>") if isinstance(source, bytes) else Path(source)
        self.limits, self.seed, self.cuda = limits, seed, cuda
        self.generation = 0
        self.call_seconds: float | None = None  # a check's own limit, if it sets one
        # Whether in-place changes the sandbox makes to arguments are copied
        # back onto the caller's objects; checks that grade in-place work ask
        # for it, the rest keep their inputs as they were before the call.
        self.copy_back: bool | str = False  # False, "grad" (only .grad comes back) or True
        self.mutated: list[str] = []  # argument paths the last call changed
        self.isolated: list[str] = []
        self.output = ""
        self._sock: socket.socket | None = None
        self._pid: int | None = None
        self._source_bytes: bytes | None = source if isinstance(source, bytes) else None
        self._files: dict[str, bytes] = {}  # handed over by content; again after a restart
        # id(returned value) -> (generation, its id in the sandbox, the call's argument ids there)
        self._origins: dict[int, tuple[int, int, dict[str, int]]] = {}
        # The module's functions and classes by name, for this generation: a
        # call then costs one request, not two. Python's own ``f = mod.f``.
        self.callables: dict[str, Remote] = {}
        self._import_error: ImportFailed | None = None
        self._module: Remote | None = None

    # -- life cycle

    @property
    def alive(self) -> bool:
        return self._sock is not None

    def put_file(self, name: str, data: bytes | str) -> None:
        """Hand a file to the sandbox by content, into its working folder.

        The sandbox writes it itself: the trusted side never writes where a
        submission could have left a link or a FIFO. Files handed over are
        handed over again if the sandbox is restarted.
        """
        blob = data.encode() if isinstance(data, str) else bytes(data)
        self._files[name] = blob
        self.module  # noqa: B018 - make sure a sandbox runs
        self._request({"op": "put", "name": name}, f"writing {name}", self.limits.call_seconds, [blob])

    def has_file(self, name: str) -> bool:
        """Whether the sandbox's working folder holds a regular file ``name``."""
        return self.ask(f"looking for {name}", {"op": "has_file", "name": name}) is True

    @property
    def module(self) -> Remote:
        """The submission's module, loading it (again) if no sandbox runs."""
        if self._import_error is not None:
            raise self._import_error
        if not self.alive:
            self._start()
        return self._module

    def _start(self) -> None:
        self.generation += 1
        self.callables = {}
        if self._source_bytes is None:
            self._source_bytes = self.source.read_bytes()  # once: a restart loads the same code
        filename = self.module_name + ".py"
        self._pid, self._sock = start_sandbox(self.zygote, self.limits, seed=self.seed, cuda=self.cuda, module=self.module_name)
        try:
            # One request, one deadline: the file and the data files handed over, then the import.
            header = {"op": "load", "names": [filename, *self._files]}
            reply, blobs = self._request(header, "importing your file", self.limits.import_seconds, [self._source_bytes, *self._files.values()])
            self._module = self._rebuild(reply["value"], blobs)
            functions = reply.get("functions")
            if not (isinstance(functions, dict) and len(functions) <= protocol.MAX_FUNCTIONS):
                raise SandboxCrashed("the sandbox sent a value that breaks the protocol: bad list of functions")
            for name, tag in functions.items():
                found = self._rebuild(tag, [])
                if isinstance(found, Remote) and found._callable:
                    object.__setattr__(found, "_label", name)  # messages name it as the check did
                    self.callables[name] = found
        except SandboxError as exc:
            self._import_error = ImportFailed(exc)
            raise self._import_error from None

    def _ended(self, killed: bool) -> int | None:
        """Collect the exit code of a sandbox that died or that we killed (None: not known)."""
        self._drop()
        try:
            code = None if killed else self.zygote.reap(self._pid, wait_s=1.0)
            self.zygote.kill(self._pid)
            return self.zygote.reap(self._pid) if code is None else code
        except RuntimeError:  # its zygote died, and took it along
            return None

    def _drop(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def close(self) -> None:
        """Stop the sandbox and everything it started; the zygote reaps it later."""
        if self._sock is not None:
            self._drop()
            try:
                self.zygote.kill(self._pid)
            except RuntimeError:
                pass  # its zygote died, and took it along

    # -- requests

    def _request(self, header: dict, what: str, timeout: float, blobs: list = ()) -> tuple[dict, list[bytearray]]:
        sock = self._sock
        try:
            # One deadline for the whole call, however slowly the reply trickles in.
            deadline = time.monotonic() + timeout
            protocol.send_frame(sock, header, list(blobs), deadline=deadline)
            reply, blobs_in = protocol.recv_frame(sock, self.limits.reply_mb << 20, deadline=deadline)
            if timeline.enabled():
                timeline.add(f"sandbox {header.get('op')}", time.monotonic() - deadline + timeout)
        except (socket.timeout, TimeoutError):
            self._ended(killed=True)
            raise SandboxTimeout(f"{what} took longer than {timeout:g} s and was stopped") from None
        except (EOFError, ConnectionError, protocol.ProtocolError) as exc:
            detail = f" ({exc})" if isinstance(exc, protocol.ProtocolError) else ""
            code = self._ended(killed=False)
            raise SandboxCrashed(f"while {what}, the sandbox {describe_exit(code)}{detail}") from None
        self.output = (self.output + str(reply.get("output", "")))[-(self.limits.output_kb << 10):]
        if "isolated" in reply:  # what confinement holds, said when the sandbox loads the file, even one that fails
            said = reply["isolated"]
            self.isolated = [str(i) for i in said if type(i) is str][:8] if isinstance(said, list) else []
        if not reply.get("ok"):
            raise StudentError(what, reply.get("error") or {})
        return reply, blobs_in

    def ask(self, what: str, header: dict, payload: tuple = ()) -> Any:
        """Send one request about ``what``; rebuild its answer."""
        self.module  # noqa: B018 - starts the sandbox, or restarts it after a crash
        blobs: list = []
        originals: dict[str, Any] = {}
        if payload:
            args, kwargs = payload
            ctx = protocol.EncodeContext(blobs, handle=self._reference)
            header["args"] = [protocol.encode(a, ctx) for a in args]
            header["kwargs"] = {str(k): protocol.encode(v, ctx) for k, v in kwargs.items()}
            originals = dict(protocol.arrays_in(list(args))) | dict(protocol.arrays_in(dict(kwargs)))
        reply, blobs_in = self._request(header, what, self.call_seconds or self.limits.call_seconds, blobs)
        if reply.get("stop"):
            raise StopIteration
        changes = reply.get("mutated", [])
        if not isinstance(changes, list):
            changes = []
        self.mutated = [str(c.get("path")) for c in changes if isinstance(c, dict) and c.get("path") in originals]
        if self.copy_back:
            for change in changes:
                if isinstance(change, dict) and change.get("path") in originals:
                    _apply(originals[change["path"]], self._rebuild(change.get("value"), blobs_in), values=self.copy_back is True)
        value = self._rebuild(reply.get("value"), blobs_in)
        self._remember_origins(value, reply.get("refs"))
        return value

    def _remember_origins(self, value: Any, refs: Any) -> None:
        """Note where each returned tensor lives in the sandbox, for behaviour probes."""
        if not isinstance(refs, dict) or not isinstance(refs.get("result"), dict) or not isinstance(refs.get("args"), dict):
            return
        args = {str(k): v for k, v in refs["args"].items() if type(v) is int}
        for path, obj in protocol.arrays_in(value):
            oid = refs["result"].get(path)
            if type(oid) is int:
                key = id(obj)
                self._origins[key] = (self.generation, oid, args)
                weakref.finalize(obj, self._origins.pop, key, None)

    def _origin(self, value: Any) -> tuple[int, dict[str, int]]:
        found = self._origins.get(id(value))
        if found is None or found[0] != self.generation:
            raise SandboxError("this value did not come back from a call in the running sandbox")
        return found[1], found[2]

    def write_through(self, value: Any, arg: str, pattern: torch.Tensor) -> Any:
        """In the sandbox: write ``pattern`` into the object behind the returned
        ``value``, then read back the call's argument ``arg`` (a path such as
        ``"0"``). Memory sharing shown by behaviour, not reported as a fact."""
        oid, args = self._origin(value)
        if arg not in args:
            raise SandboxError(f"the call had no tensor argument {arg!r}")
        header = {"op": "alias", "result": {"t": "ref", "id": oid}, "arg": {"t": "ref", "id": args[arg]}}
        return self.ask("writing through the returned value", header, ((pattern,), {}))

    def gradient(self, value: Any, wrt: list[str], grad_output: torch.Tensor) -> tuple:
        """In the sandbox: the gradients of ``(value * grad_output).sum()`` with
        respect to the call's arguments ``wrt``, through the graph there."""
        oid, args = self._origin(value)
        missing = [a for a in wrt if a not in args]
        if missing:
            raise SandboxError(f"the call had no tensor argument {missing[0]!r}")
        header = {"op": "grad", "result": {"t": "ref", "id": oid}, "wrt": [{"t": "ref", "id": args[a]} for a in wrt]}
        return self.ask("backpropagating through the returned value", header, ((grad_output,), {}))

    def make(self, path: str, *args: Any, **kwargs: Any) -> Any:
        """Build a torch object inside the sandbox: ``make("torch.nn.Linear", 3, 1)``."""
        return self.ask(f"making {path}", {"op": "make", "path": path}, (args, kwargs))

    def get(self, path: str) -> Any:
        """A torch object from inside the sandbox, not called: ``get("torch.nn.functional.relu")``."""
        return self.ask(f"getting {path}", {"op": "get", "path": path})

    def _reference(self, obj: Any) -> dict:
        if isinstance(obj, Remote) and obj._sandbox is self and obj._generation == self.generation:
            return {"t": "ref", "id": obj._id}
        raise protocol.ProtocolError(f"a {type(obj).__name__} cannot be passed into the sandbox")

    def _rebuild(self, tag: Any, blobs: list) -> Any:
        ctx = decoding.DecodeContext(blobs, handle=self._remote, budget=self.limits.reply_mb << 20)
        try:
            return decoding.decode(tag, ctx)
        except protocol.ProtocolError as exc:
            self.close()
            raise SandboxCrashed(f"the sandbox sent a value that breaks the protocol: {exc}") from None

    def _remote(self, tag: dict) -> Remote:
        if tag.get("t") != "handle" or type(tag.get("id")) is not int:
            raise protocol.ProtocolError("bad handle")
        mro = tag.get("mro")
        if not (isinstance(mro, list) and all(type(m) is str for m in mro)):
            raise protocol.ProtocolError("bad handle")
        return Remote(self, tag["id"], tuple(mro), bool(tag.get("callable")))


def start_sandbox(zygote: Zygote, limits: Limits, *, seed: int, cuda: bool, module: str) -> tuple[int, socket.socket]:
    """Fork a sandbox from ``zygote``; its process-group id and our end of its socket."""
    ours, theirs = socket.socketpair()
    spec = {
        "module_file": module + ".py",
        "module_name": module,
        "seed": seed,
        "cuda": cuda,
        "limits": asdict(limits),
        "max_bytes": limits.reply_mb << 20,
        "debug": bool(os.environ.get("TORCHGRADE_DEBUG_SANDBOX")),
    }
    try:
        pid = zygote.fork(spec, theirs)
    finally:
        theirs.close()
    return pid, ours


def _apply(original: Any, new: Any, values: bool = True) -> None:
    """Mirror an in-place change the sandbox made to an argument we passed.

    With ``values=False`` only ``.grad`` and ``requires_grad`` come back: the
    check's inputs keep the values it computes its expectations from.
    """
    if isinstance(original, np.ndarray) and isinstance(new, np.ndarray):
        if values and original.flags.writeable and original.shape == new.shape:
            original[...] = new
    elif isinstance(original, torch.Tensor) and is_plain_tensor(new):
        if original.shape == new.shape and original.dtype == new.dtype and original.device.type != "meta":
            if values:
                with torch.no_grad():
                    original.copy_(new.detach())
            if original.is_leaf:
                original.grad = None if new.grad is None else new.grad.to(original.device)
                original.requires_grad_(new.requires_grad)


class Remote:
    """An object that lives in the sandbox, reached through requests."""

    __slots__ = ("_sandbox", "_id", "_mro", "_callable", "_generation", "_label")

    def __init__(self, sandbox: Sandbox, oid: int, mro: tuple[str, ...], is_callable: bool) -> None:
        object.__setattr__(self, "_label", mro[0].rpartition(".")[2] if mro else "?")
        object.__setattr__(self, "_sandbox", sandbox)
        object.__setattr__(self, "_id", oid)
        object.__setattr__(self, "_mro", mro)
        object.__setattr__(self, "_callable", is_callable)
        object.__setattr__(self, "_generation", sandbox.generation)

    @property
    def remote_type(self) -> str:
        """``module.QualName`` of the object's class in the sandbox."""
        return self._mro[0] if self._mro else "?"

    def is_instance(self, qualified: str) -> bool:
        """Whether the object's class derives from ``qualified`` (e.g. ``torch.nn.modules.module.Module``)."""
        return qualified in self._mro

    def _ask(self, what: str, op: str, *args: Any, **kwargs: Any) -> Any:
        if self._generation != self._sandbox.generation:
            raise SandboxError("this object was lost when the sandbox was restarted after a failure")
        return self._sandbox.ask(what, {"op": op, "id": self._id} | kwargs.pop("_header", {}), (args, kwargs) if args or kwargs else ())

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_torchgrade") or name.startswith("__"):
            raise AttributeError(name)
        try:
            value = self._ask(f"reading .{name}", "getattr", _header={"name": name})
        except StudentError as exc:
            if exc.type == "AttributeError":
                raise MissingAttribute(f"reading .{name}", {"type": exc.type, "message": exc.detail}) from None
            raise
        if isinstance(value, Remote):
            object.__setattr__(value, "_label", name)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        self._ask(f"setting .{name}", "setattr", value, _header={"name": name})

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._ask(f"{self._label}()", "call", *args, **kwargs)

    def __len__(self) -> int:
        try:
            n = self._ask(f"len() of your {self._label}", "len")
        except StudentError as exc:
            if exc.type == "TypeError":
                raise NoLength(f"len() of your {self._label}", {"type": exc.type, "message": exc.detail}) from None
            raise
        if type(n) is not int:
            raise SandboxError(f"len() of a {self.remote_type} returned a {type(n).__name__}")
        return n

    def __getitem__(self, key: Any) -> Any:
        return self._ask(f"indexing your {self._label}", "getitem", key)

    def __iter__(self) -> Iterator[Any]:
        it = self._ask(f"iterating over your {self._label}", "iter")
        while True:
            try:
                yield it._ask(f"iterating over your {self._label}", "next")
            except StopIteration:
                return

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return hash((id(self._sandbox), self._id))

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"<{self.remote_type} in the sandbox>"
