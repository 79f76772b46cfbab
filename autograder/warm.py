"""A warm checker: later ``torchgrade check`` runs of one user on one course reuse it.

A student checks again and again; each fresh run pays for importing torch
(in the grader and in the zygote) before its first check. The first
``torchgrade check`` on a terminal therefore also starts, in the background,
a process that has the engine imported and a proven zygote running; later
runs send it their request over a unix socket and print what comes back, so a
re-check costs the checks alone. It stops after ``IDLE_SECONDS`` without a
request, or when the engine's code changes (a client of another engine
version never uses it).

It serves only its own user: the socket lies in a folder only that user can
enter, and both ends check the other's uid (``SO_PEERCRED``). What it runs is
what ``check`` runs (``grading.check_work``), confined the same way.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder.private_folder import private_folder

__all__ = ["IDLE_SECONDS", "socket_path", "ask", "start", "serve", "engine_version"]

IDLE_SECONDS = 600
_MAX_REPLY = 64 << 20


def engine_version() -> str:
    """A warm checker serves only clients of its own engine: the hash of the source on disk now."""
    from autograder.engine_version import source_hash

    source_hash.cache_clear()  # read again: the checker notices an engine changed under it
    return source_hash()[:16]


def _private_dir() -> Path:
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    try:
        return private_folder(Path(base) / f"torchgrade-warm-{os.getuid()}")
    except PermissionError as exc:
        raise PermissionError(f"{exc}: not using a warm checker") from None


def socket_path(course_root: Path) -> Path:
    key = hashlib.sha256(str(course_root.resolve()).encode()).hexdigest()[:16]
    return _private_dir() / f"{key}.sock"


def _peer_uid(sock: socket.socket) -> int:
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[1]


def _send(sock: socket.socket, doc: dict) -> None:
    raw = json.dumps(doc).encode()
    sock.sendall(struct.pack("!I", len(raw)) + raw)


def _recv(sock: socket.socket) -> dict:
    head = b""
    while len(head) < 4:
        chunk = sock.recv(4 - len(head))
        if not chunk:
            raise ConnectionError("closed")
        head += chunk
    (n,) = struct.unpack("!I", head)
    if n > _MAX_REPLY:
        raise ConnectionError("reply too large")
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(min(1 << 20, n - len(data)))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return json.loads(data)


def ask(course_root: Path, request: dict, timeout: float = 600) -> dict | None:
    """The warm checker's answer to ``request``, or None if none serves this course and engine."""
    try:
        path = socket_path(course_root)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2)
            sock.connect(str(path))
            if _peer_uid(sock) != os.getuid():
                return None
            sock.settimeout(timeout)
            _send(sock, dict(request, engine=engine_version()))
            reply = _recv(sock)
    except (OSError, ValueError, ConnectionError):
        return None
    return reply if reply.get("engine") == engine_version() else None


def start(course_root: Path) -> None:
    """Start a warm checker for this course in the background (it detaches)."""
    try:
        socket_path(course_root)
    except OSError:
        return
    subprocess.Popen(
        [sys.executable, "-m", "autograder.warm", str(course_root.resolve())],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True, close_fds=True,
    )  # fmt: skip


def serve(course_root: Path, idle_seconds: float = IDLE_SECONDS) -> None:
    """The warm checker's loop: one request at a time, until idle or outdated."""
    from autograder.grading import check_work
    from autograder.runner import RunSettings, cuda_note, new_seed, resolve_devices, warm_up
    from autograder.units import load_course

    devices = resolve_devices(None, False)

    path = socket_path(course_root)
    version = engine_version()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(str(path))
    except OSError:
        if ask(course_root, {"ping": True}, timeout=5) is not None:
            return  # another warm checker of this engine serves the course
        path.unlink(missing_ok=True)  # a stale socket of one that was killed
        try:
            server.bind(str(path))
        except OSError:
            return
    try:
        os.chmod(path, 0o600)
        server.listen(4)
        warm_up(load_course(course_root), RunSettings(devices=devices, allow_unconfined=True))
        while True:
            server.settimeout(idle_seconds)
            try:
                conn, _ = server.accept()
            except TimeoutError:
                return
            with conn:
                if _peer_uid(conn) != os.getuid() or engine_version() != version:
                    if engine_version() != version:
                        return  # the engine changed under us: let a new one start
                    continue
                try:
                    request = _recv(conn)
                    if request.get("ping"):
                        reply = {"ok": True}
                    else:
                        course = load_course(course_root)
                        units = course.select(request.get("units") or None)
                        seed = request.get("seed")
                        settings = RunSettings(devices=devices, seed=int(seed) if seed is not None else new_seed(),
                                               which=request.get("which", "auto"), allow_unconfined=True)  # fmt: skip
                        file = Path(request["file"]) if request.get("file") else None
                        result = check_work(course, units, settings, file)
                        reply = {"ok": True, "seed": result.seed, "cuda": cuda_note(result.devices), "warnings": result.warnings,
                                 "devices": list(result.devices),
                                 "units": [u.name for u in units],
                                 "scores": {n: s.as_dict() | {"student": s.student, "unit": s.unit} for n, s in result.scores.items()}}  # fmt: skip
                except Exception as exc:  # noqa: BLE001 - the client says it; the checker goes on
                    reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
                try:
                    _send(conn, dict(reply, engine=version))
                except OSError:
                    pass
    finally:
        server.close()
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


if __name__ == "__main__":
    serve(Path(sys.argv[1]))
